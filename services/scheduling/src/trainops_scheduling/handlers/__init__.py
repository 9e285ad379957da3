"""Use cases of the scheduling service as synchronous functions over one transaction."""
