"""Pure feedback rules: the survey and its validation, invitation tokens, the page language.

No HTTP, SQL, broker or HTML lives here, so every rule is tested without a server and the
presentation (``api/``) and the storage (``adapters/``) can change without touching it.
"""
