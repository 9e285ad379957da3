"""The identity service's tables, password hashing and token signing."""
