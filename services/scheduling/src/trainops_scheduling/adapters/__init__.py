"""Adapters of the scheduling service: its tables and the queries over them."""
