"""Widgets of the main window: flows list, summary header, tabs and detail pages."""
