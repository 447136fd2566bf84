"""The Flow Viewer (a version's steps as a heat-mapped diagram) and the path timeline."""

from flowdesk.ui.viewer.timeline import PathTimeline
from flowdesk.ui.viewer.viewer import FlowViewer

__all__ = ["FlowViewer", "PathTimeline"]
