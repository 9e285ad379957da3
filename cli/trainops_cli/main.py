"""Entry point of the ``trainops`` command (``trainops = trainops_cli.main:main``).

Each subcommand is a module of this package with ``register(subparsers)``, which adds its parser
and sets ``func`` (``func(args) -> int``, the exit code) with ``parser.set_defaults(func=...)``.
To add a subcommand, create ``trainops_cli/<name>.py`` and append ``<name>`` to
:data:`COMMAND_MODULES`. A listed module that fails to import is an error, never skipped.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: list[str] = ["up", "status", "token", "demo", "asyncapi", "deadletters", "bench"]
"""Subcommand modules, in help order (the lead adds ``asyncapi``, ``demo``, ``bench``)."""


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trainops",
        description="Run the trainops system (registration, scheduling, feedback, reporting).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        module = importlib.import_module(f"{__package__ or 'trainops_cli'}.{name}")
        register = getattr(module, "register", None)
        if register is None:
            raise RuntimeError(f"trainops_cli.{name} has no register(subparsers) function")
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code = args.func(args)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
