"""Flowdesk: reports for WhatsApp messaging flows."""

__version__ = "0.1.0"
