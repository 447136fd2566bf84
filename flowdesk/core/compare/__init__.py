"""Comparing two versions of a flow: the step diff, the rates with their intervals, the verdict.

``compare_versions`` is the one entry point the CLI and the app use; ``comparison_json`` is the
CLI's contract, and the page shows the same ``Comparison``.
"""

from flowdesk.core.compare.diff import StepChange, StepSpec, VersionDiff, diff_versions
from flowdesk.core.compare.report import (
    CompareError,
    Comparison,
    Side,
    StepShift,
    compare_versions,
    comparison_json,
    default_pair,
)
from flowdesk.core.compare.stats import Interval, newcombe_difference, wilson_interval

__all__ = [
    "CompareError",
    "Comparison",
    "Interval",
    "Side",
    "StepChange",
    "StepShift",
    "StepSpec",
    "VersionDiff",
    "compare_versions",
    "comparison_json",
    "default_pair",
    "diff_versions",
    "newcombe_difference",
    "wilson_interval",
]
