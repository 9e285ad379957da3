"""One function per use case of the identity service; storage through the repository only."""
