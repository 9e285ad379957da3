"""``trainops bench``: run the performance benchmarks and print one JSON document.

``--quick`` is a short run of every benchmark (under a minute); the full run takes under ten
minutes on a 2-core machine. Everything needed (nats-server, the services, PostgreSQL databases)
is started and removed by the command itself. ``--out FILE`` is written after every benchmark,
so a run that is interrupted or crashes still leaves its figures so far.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

HELP = "run the performance benchmarks (JSON on stdout)"
DESCRIPTION = (
    "Benchmarks: write_path, metrics_cost, event_to_report, projection, relay, report_query, "
    "footprint. Each runs for a bounded time against what it starts itself, with a "
    "bare baseline measured in the same run where one applies."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="short run of everything (< 60 s)")
    size.add_argument(
        "--smoke",
        action="store_true",
        help="smallest sizes, only checks that the benchmarks work (used by the test suite)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated benchmark names to run (default: all)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep databases, NATS stores and logs here (default: a temporary directory)",
    )


def run(args: argparse.Namespace) -> int:
    from bench.runner import BENCHMARKS, dump, failed
    from bench.runner import run as run_benchmarks

    only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    if only:
        unknown = [n for n in only if n not in BENCHMARKS]
        if unknown:
            print(
                f"trainops bench: unknown benchmark(s) {', '.join(unknown)}; "
                f"choose from {', '.join(BENCHMARKS)}",
                file=sys.stderr,
            )
            return 2
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    out: Path | None = args.out

    def write(doc: dict[str, Any]) -> None:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(dump(doc) + "\n", encoding="utf-8")

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    doc = run_benchmarks(mode=mode, only=only, workdir=args.workdir, on_update=write)
    write(doc)
    print(dump(doc))
    if doc["meta"].get("interrupted"):
        return 130
    bad = failed(doc)
    if bad:
        print(f"trainops bench: failed: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0
