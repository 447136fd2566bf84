"""A simulated workspace for demos, screenshots, tests and benchmarks.

``DemoSource(seed, contacts, anchor)`` implements the :mod:`flowdesk.core.sources.base` contract
with records in the upstream API shape, produced by walking contacts through real flow graphs.
"""

from flowdesk.core.demo.common import DEFAULT_ANCHOR
from flowdesk.core.demo.source import DemoSource

__all__ = ["DEFAULT_ANCHOR", "DemoSource"]
