"""Pure rules of accounts, passwords, sessions and redirects: no I/O, no framework."""
