"""``trainops up``: run NATS and the five services on this machine until Ctrl-C.

Data (SQLite files, the JetStream store, logs) lives in ``--data-dir`` / ``$TRAINOPS_DATA_DIR``
(default ``~/.local/share/trainops``) and survives restarts. A service (or the nats-server ``up``
started) that dies is restarted with backoff while the others keep serving; ``up`` prints why it
died (exit code or signal, the relevant lines of that run's own log) and when it is back. Only a
crash loop (``--max-crashes`` exits within ``--crash-window``) stops everything, with exit code
1, naming the service and its last log lines. Ctrl-C or SIGTERM stops the services (SIGTERM,
then SIGKILL after a grace period), then NATS, and exits 0.

Unless ``$SMTP_URL`` names a real server, a local mail catcher receives every message the
services send and keeps each one as an ``.eml`` file in ``<data dir>/mail``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

HELP = "run NATS and the services (four + identity) on this machine"
DESCRIPTION = (
    "Start (or connect to) NATS with JetStream and the five services, wait until they "
    "are ready, print where they are, and run until Ctrl-C."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="where databases, the JetStream store and logs live "
        "(default: $TRAINOPS_DATA_DIR or ~/.local/share/trainops)",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="use PostgreSQL: e.g. postgresql://postgres@127.0.0.1:5432/postgres; one database "
        "per service (trainops_registration, ...) is created there if missing",
    )
    parser.add_argument(
        "--workers",
        metavar="SERVICE=N",
        action="append",
        default=[],
        type=_workers,
        help="run SERVICE with N HTTP worker processes (PostgreSQL only), e.g. "
        "--workers registration=2; repeatable",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument(
        "--base-port",
        type=int,
        default=8001,
        help="registration's port; scheduling, feedback, reporting, identity follow "
        "(default: 8001)",
    )
    parser.add_argument(
        "--nats-url",
        metavar="URL",
        help="use this NATS server (default: $NATS_URL, else start nats-server)",
    )
    parser.add_argument(
        "--nats-port",
        type=int,
        help="port for the nats-server trainops starts (default 4222, or a free one if taken)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for every service to be ready (default: 30)",
    )
    parser.add_argument(
        "--max-crashes",
        type=int,
        default=5,
        metavar="N",
        help="stop everything when one service crashes N times within --crash-window (5)",
    )
    parser.add_argument(
        "--crash-window",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="the window of --max-crashes (default: 60)",
    )


def _workers(value: str) -> tuple[str, int]:
    name, sep, count = value.partition("=")
    if not sep or not count.isdigit() or not 1 <= int(count) <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} is not SERVICE=N with N in 1..64")
    return name.strip(), int(count)


class _Stop(BaseException):  # like KeyboardInterrupt: not caught by `except Exception`
    """Raised by the signal handler to leave start-up or the wait loop."""


def _say(message: str) -> None:
    print(message, flush=True)


def _print_summary(system: Any, postgres: str | None) -> None:
    from trainops_devtools.supervisor import SystemHandle

    assert isinstance(system, SystemHandle)
    width = max(len(name) for name in system.services) + 2
    lines = ["", "trainops is up:"]
    for name, url in system.urls.items():
        lines.append(f"  {name:<{width}}{url}   API docs: {url}/schema")
    lines.append(f"  {'NATS':<{width}}{system.nats_address}  ({system.nats_description})")
    if postgres:
        dbs = ", ".join(url.rsplit("/", 1)[-1] for url in system.database_urls.values())
        lines.append(f"  {'databases':<{width}}PostgreSQL: {dbs}")
    else:
        lines.append(f"  {'databases':<{width}}SQLite files in {system.data_dir}")
    lines.append(f"  {'data dir':<{width}}{system.data_dir}")
    lines.append(f"  {'logs':<{width}}{system.logs_dir}/<service>.log")
    catcher = system.mail_catcher
    if catcher is not None:
        lines.append(
            f"  {'mail':<{width}}{catcher.directory}/*.eml  (every message sent, caught by "
            f"the development mail server at {catcher.url}; nothing leaves this machine)"
        )
    else:
        lines.append(f"  {'mail':<{width}}sent to the SMTP server of $SMTP_URL")
    first = next(iter(system.urls.values()))
    identity = system.urls.get("identity")
    if identity:
        lines += ["", f"Sign in with a browser: {identity}/sign-in"]
        if accounts_in(system.database_urls.get("identity")) == 0:
            lines += [
                "No accounts yet. Create the first admin (the password is read from stdin):",
                "  trainops users add admin --role admin --password-stdin"
                + (f" --data-dir {system.data_dir}" if not postgres else " --database-url URL"),
            ]
    lines += [
        "",
        "A development token for the APIs (roles: admin, programme_staff, coordinator "
        "--region CITY, reporting):",
        "  TOKEN=$(trainops token --role admin)",
        f'  curl -H "Authorization: Bearer $TOKEN" {first}/<route>   (routes: {first}/schema)',
        "",
        "Press Ctrl-C to stop.",
    ]
    _say("\n".join(lines))


def accounts_in(database_url: str | None) -> int | None:
    """How many accounts the identity database holds (``None``: it cannot be read now)."""
    if not database_url:
        return None
    from trainops_cli.users import count_accounts_at

    try:
        return count_accounts_at(database_url)
    except Exception:  # the summary must print whatever the database's state
        return None


def run(args: argparse.Namespace) -> int:
    from trainops_cli.status import RunInfo, remove_run_info
    from trainops_devtools.supervisor import (
        CrashLoop,
        LaunchError,
        RestartPolicy,
        Supervisor,
        run_system,
    )

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Once: further Ctrl-C must not interrupt the orderly shutdown that follows.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        name = signal.Signals(signum).name
        print(f"\ntrainops: {name} received, stopping services, then NATS...", flush=True)
        raise _Stop(name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop_event = threading.Event()
    try:
        with run_system(
            data_dir=args.data_dir,
            host=args.host,
            base_port=args.base_port,
            nats_url=args.nats_url,
            nats_port=args.nats_port,
            postgres=args.postgres,
            workers=dict(args.workers),
            ready_timeout=args.ready_timeout,
            say=_say,
        ) as system:
            _print_summary(system, args.postgres)
            # For `trainops status`: where everything runs (0600, next to the credentials).
            run_info = RunInfo(
                pid=os.getpid(),
                services=system.urls,
                nats_url=system.nats_url,
                database_urls=system.database_urls,
            )
            run_info.write(system.data_dir)
            supervisor = Supervisor(
                system,
                RestartPolicy(max_crashes=args.max_crashes, window_s=args.crash_window),
                say=_say,
            )
            restarts = supervisor.restarts()
            try:
                while not stop_event.wait(0.5):
                    try:
                        supervisor.check()
                        if supervisor.restarts() != restarts:
                            restarts = supervisor.restarts()
                            run_info.restarts = restarts
                            run_info.write(system.data_dir)
                    except CrashLoop as exc:
                        # Ignore further signals while we tear down in order.
                        for sig in previous:
                            signal.signal(sig, signal.SIG_IGN)
                        print(
                            f"\ntrainops: {exc}\nstopping the other services...",
                            file=sys.stderr,
                            flush=True,
                        )
                        return 1
            finally:
                remove_run_info(system.data_dir, os.getpid())
    except _Stop:
        _say("trainops: stopped.")
        return 0
    except LaunchError as exc:
        print(f"trainops up: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
