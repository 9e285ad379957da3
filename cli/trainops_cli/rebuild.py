"""``trainops rebuild reporting``: replay the streams into a fresh read model beside the live one.

The running reporting service keeps serving (and projecting into) its current database while the
replay runs under its own durable consumer; progress is printed once a second. Only a complete
replay is published (``<db>.rebuilt`` and its manifest); the service takes it over at its next
start, in one rename, and its consumers then deliver what arrived after the replay's end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from trainops_cli.deadletters import (
    CommandError,
    add_timeout_argument,
    connect,
    operator_url,
)

PROG = "trainops rebuild"

HELP = "rebuild a read model from the event streams, beside the live one"
DESCRIPTION = (
    "Replay every stream the reporting service reads into a fresh SQLite read model while the "
    "service keeps serving the old one; print progress; publish the new model only when the "
    "replay is complete. The service switches to it at its next start (restart it, or let "
    "'trainops up' restart it)."
)


def _default_database(args: argparse.Namespace) -> str:
    from trainops_shared.settings import default_data_dir

    root = Path(args.data_dir or os.environ.get("TRAINOPS_DATA_DIR") or default_data_dir())
    return f"sqlite:///{root.expanduser() / 'reporting.db'}"


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", choices=["reporting"], help="the read model to rebuild")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the live read model (default: reporting.db of the install in --data-dir)",
    )
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("NATS_URL") or "nats://127.0.0.1:4222",
        metavar="URL",
        help="NATS server(s) (default: $NATS_URL or nats://127.0.0.1:4222)",
    )
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        default=os.environ.get("NATS_CREDENTIALS_FILE") or None,
        help="NATS user and password, a 0600 JSON file (default: the install's operator file)",
    )
    parser.add_argument("--data-dir", help="the install (default: $TRAINOPS_DATA_DIR)")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up (publishing nothing) if the replay is not complete after this long",
    )
    add_timeout_argument(parser)


async def _rebuild(args: argparse.Namespace, db_path: Path) -> int:
    from trainops_reporting.handlers.rebuild import Progress, rebuild

    def report(progress: Progress) -> None:
        print(progress.line(), flush=True)

    nc = await connect(args.connect_url, args.timeout)
    try:
        result = await rebuild(nc, db_path, report=report, budget_s=args.budget)
    finally:
        await nc.close()
    print(
        f"rebuilt: {result.events} events in {result.elapsed_s:.1f} s "
        f"({result.events / max(result.elapsed_s, 1e-9):,.0f} ev/s); the reporting service "
        f"switches to it at its next start",
        flush=True,
    )
    return 0


def run(args: argparse.Namespace) -> int:
    from trainops_reporting.handlers.rebuild import RebuildFailed, sqlite_file

    try:
        db_path = sqlite_file(args.database_url or _default_database(args))
        if not db_path.parent.is_dir():
            raise RebuildFailed(f"no folder {db_path.parent} for the read model")
        args.connect_url = operator_url(args)
        return asyncio.run(_rebuild(args, db_path))
    except (RebuildFailed, CommandError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted: nothing was published", file=sys.stderr)
        return 130
