"""The ``trainops`` command: run the whole system on one machine, issue development tokens.

Subcommands live in one module each (``up``, ``token``, ...) exposing ``register(subparsers)``;
:mod:`trainops_cli.main` lists them. :mod:`trainops_devtools.supervisor` brings the system up
programmatically (``run_system``) for ``up``, ``demo`` and ``bench``.
"""
