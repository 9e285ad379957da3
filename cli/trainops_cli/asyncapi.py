"""``trainops asyncapi``: write the AsyncAPI document of every event subject and payload.

The document is generated from the event schema package (:mod:`trainops_shared.asyncapi`) by
FastStream; the committed copy is ``docs/asyncapi.json`` and a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = Path("docs") / "asyncapi.json"


HELP = "write the AsyncAPI document of all event subjects and payloads"
DESCRIPTION = (
    "Generate the AsyncAPI 3.0 document of every trainops event subject, stream, "
    "consumer and payload schema from the code, and write it as JSON."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="PATH",
        help=f"where to write the document (default: {DEFAULT_OUT}, relative to the current "
        "directory)",
    )


def run(args: argparse.Namespace) -> int:
    from trainops_shared.asyncapi import write_asyncapi

    out = Path(args.out)
    try:
        write_asyncapi(out)
    except OSError as exc:
        print(f"trainops asyncapi: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"AsyncAPI document written to {out.resolve()}")
    return 0
