"""The HTTP face of the scheduling service."""
