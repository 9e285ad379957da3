"""trainops identity service: who may sign in, and the tokens every other service verifies."""
