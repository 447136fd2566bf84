"""Qt item models over the cache's read queries."""

from flowdesk.ui.models.contacts import ContactsModel
from flowdesk.ui.models.flows import FlowListModel
from flowdesk.ui.models.history import ExecutionsModel, VersionsModel

__all__ = ["ContactsModel", "ExecutionsModel", "FlowListModel", "VersionsModel"]
