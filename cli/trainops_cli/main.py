"""Entry point of the ``trainops`` command (``trainops = trainops_cli.main:main``).

Each subcommand is a module of this package declaring ``HELP`` (one line for ``trainops -h``),
``DESCRIPTION`` (the paragraph of ``trainops <name> -h``), ``arguments(parser)`` and, unless its
own sub-actions set ``func``, ``run(args) -> int`` (the exit code). To add a subcommand, create
``trainops_cli/<name>.py`` and append ``<name>`` to :data:`COMMAND_MODULES`. A listed module that
fails to import or lacks one of these is an error, never skipped.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: list[str] = [
    "up",
    "status",
    "users",
    "token",
    "demo",
    "asyncapi",
    "deadletters",
    "bench",
    "rebuild",
]
"""Subcommand modules, in help order."""


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trainops",
        description="Run the trainops system (registration, scheduling, feedback, reporting).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        module = importlib.import_module(f"{__package__ or 'trainops_cli'}.{name}")
        missing = [a for a in ("HELP", "DESCRIPTION", "arguments") if not hasattr(module, a)]
        if missing:
            raise RuntimeError(f"trainops_cli.{name} lacks {', '.join(missing)}")
        command = subparsers.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.arguments(command)
        if hasattr(module, "run"):
            command.set_defaults(func=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code = args.func(args)
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
