"""``trainops status``: is each service ready, how far behind is each consumer, how much is
waiting in each outbox.

``trainops up`` writes where everything runs to ``<data dir>/run.json`` (mode 0600: it holds the
NATS operator URL and the database URLs, which the data directory's credential files hold
anyway), so ``status`` needs nothing but the data directory. Three sources:

* **state**: each service's ``GET /ready`` (``ready``, ``not ready`` with the failing checks, or
  ``down`` when nothing answers);
* **consumer lag**: per durable consumer, JetStream's ``num_pending`` (in the stream, not yet
  delivered) plus ``num_ack_pending`` (delivered, not yet acknowledged), read from NATS;
* **outbox backlog**: unsent rows of each service's ``outbox`` table, read from its database
  directly; for the service that mails participants also its ``message_outbox`` by status
  (``pending`` is the mail backlog, ``failed`` the messages a person must look at). An
  operator tool on the host that runs the services may read their databases; an HTTP
  endpoint for it would put an operations route into every public API for one number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

RUN_FILE = "run.json"


@dataclass
class RunInfo:
    """Where a running ``trainops up`` put everything, and how often its supervisor restarted
    each process (rewritten on every restart)."""

    pid: int
    services: dict[str, str]
    """service -> base URL"""
    nats_url: str
    database_urls: dict[str, str]
    restarts: dict[str, int] = field(default_factory=dict)

    def write(self, data_dir: Path) -> Path:
        path = data_dir / RUN_FILE
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(temporary, path)
        return path

    @classmethod
    def read(cls, data_dir: Path) -> RunInfo | None:
        try:
            raw = json.loads((data_dir / RUN_FILE).read_text())
        except (OSError, ValueError):
            return None
        return cls(
            pid=int(raw["pid"]),
            services=dict(raw["services"]),
            nats_url=str(raw["nats_url"]),
            database_urls=dict(raw["database_urls"]),
            restarts={str(k): int(v) for k, v in raw.get("restarts", {}).items()},
        )


def remove_run_info(data_dir: Path, pid: int) -> None:
    """Remove ``run.json`` if it is this process's (a second ``up`` may have replaced it)."""
    info = RunInfo.read(data_dir)
    if info is not None and info.pid == pid:
        with contextlib.suppress(OSError):
            (data_dir / RUN_FILE).unlink()


@dataclass
class ConsumerLag:
    stream: str
    consumer: str
    pending: int
    ack_pending: int

    @property
    def lag(self) -> int:
        return self.pending + self.ack_pending


@dataclass
class ServiceStatus:
    name: str
    url: str
    state: str
    """``ready``, ``not ready`` or ``down``"""
    failing: list[str] = field(default_factory=list)
    restarts: int = 0
    outbox_unsent: int | None = None
    outbox_error: str | None = None
    mail: dict[str, int] | None = None
    """Participants' messages by status; ``None`` for a service that sends none."""


@dataclass
class SystemStatus:
    up_running: bool
    services: list[ServiceStatus]
    consumers: list[ConsumerLag]
    nats_error: str | None = None
    nats_restarts: int = 0

    @property
    def healthy(self) -> bool:
        return (
            self.up_running
            and self.nats_error is None
            and all(s.state == "ready" for s in self.services)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "up_running": self.up_running,
            "healthy": self.healthy,
            "nats_error": self.nats_error,
            "nats_restarts": self.nats_restarts,
            "services": [asdict(s) for s in self.services],
            "consumers": [{**asdict(c), "lag": c.lag} for c in self.consumers],
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def service_state(url: str, client: httpx.Client) -> tuple[str, list[str]]:
    try:
        response = client.get(f"{url}/ready", timeout=3.0)
    except httpx.HTTPError:
        return "down", []
    if response.status_code == 200:
        return "ready", []
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        checks = {}
    return "not ready", sorted(name for name, ok in checks.items() if not ok)


async def outbox_unsent(database_url: str) -> int | None:
    """Unsent outbox rows; ``None`` when the service keeps no outbox (it publishes nothing)."""
    unsent, _ = await backlogs(database_url)
    return unsent


def _mail_counts(conn: Any) -> dict[str, int]:
    import sqlalchemy as sa

    rows = conn.execute(sa.text("SELECT status, count(*) FROM message_outbox GROUP BY status"))
    return {str(status): int(n) for status, n in rows}


async def backlogs(database_url: str) -> tuple[int | None, dict[str, int] | None]:
    """``(unsent outbox rows, participants' messages by status)``, each ``None`` when the
    service's database has no such table."""
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    from trainops_shared.outbox import count_unsent

    if database_url.startswith("sqlite"):
        path = Path(database_url.split(":///", 1)[1])
        if not await asyncio.to_thread(path.exists):  # never create a database file
            raise FileNotFoundError(f"no database file {path}")
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            unsent = await conn.run_sync(count_unsent) if "outbox" in tables else None
            mail = await conn.run_sync(_mail_counts) if "message_outbox" in tables else None
            return unsent, mail
    finally:
        await engine.dispose()


async def consumer_lags(nats_url: str) -> list[ConsumerLag]:
    import nats

    from trainops_shared.broker import nats_servers

    nc = await nats.connect(
        nats_servers(nats_url),
        connect_timeout=3,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        name="trainops-status",
    )
    try:
        js = nc.jetstream(timeout=5)
        lags = []
        for stream in await js.streams_info():
            name = stream.config.name
            assert name is not None
            for info in await js.consumers_info(name):
                lags.append(
                    ConsumerLag(
                        stream=name,
                        consumer=info.name,
                        pending=int(info.num_pending or 0),
                        ack_pending=int(info.num_ack_pending or 0),
                    )
                )
        return sorted(lags, key=lambda c: (c.stream, c.consumer))
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def collect(info: RunInfo) -> SystemStatus:
    urls = info.database_urls
    services: list[ServiceStatus] = []
    with httpx.Client() as client:
        for name, url in info.services.items():
            state, failing = await asyncio.to_thread(service_state, url, client)
            restarts = info.restarts.get(name, 0)
            services.append(ServiceStatus(name, url, state, failing, restarts))
    for status in services:
        database = urls.get(status.name)
        if database is None:
            status.outbox_error = "no database URL"
            continue
        try:
            found = await asyncio.wait_for(backlogs(database), 10)
            status.outbox_unsent, status.mail = found
        except Exception as exc:
            status.outbox_error = f"{type(exc).__name__}: {exc}"
    consumers: list[ConsumerLag] = []
    nats_error = None
    try:
        consumers = await asyncio.wait_for(consumer_lags(info.nats_url), 10)
    except Exception as exc:
        from trainops_shared.credentials import redact_urls

        nats_error = redact_urls(f"{type(exc).__name__}: {exc}")
    return SystemStatus(
        _pid_alive(info.pid), services, consumers, nats_error, info.restarts.get("nats", 0)
    )


def render(status: SystemStatus) -> str:
    lines = [
        "trainops up is running" if status.up_running else "trainops up is NOT running",
        "",
        f"{'service':<14}{'state':<12}{'restarts':>9}{'outbox unsent':>14}  url",
    ]
    for s in status.services:
        outbox = (
            str(s.outbox_unsent)
            if s.outbox_unsent is not None
            else ("-" if s.outbox_error is None else "?")
        )
        state = s.state + (f" ({', '.join(s.failing)})" if s.failing else "")
        lines.append(f"{s.name:<14}{state:<12}{s.restarts:>9}{outbox:>14}  {s.url}")
        if s.outbox_error:
            lines.append(f"{'':<14}outbox: {s.outbox_error}")
        if s.mail is not None:
            lines.append(
                f"{'':<14}mail: {s.mail.get('pending', 0)} waiting to be sent, "
                f"{s.mail.get('failed', 0)} failed, {s.mail.get('sent', 0)} sent"
            )
    if status.nats_restarts:
        lines.append(f"{'nats':<14}{'':<12}{status.nats_restarts:>9}")
    lines += ["", f"{'stream':<14}{'consumer':<16}{'pending':>9}{'ack pending':>13}{'lag':>9}"]
    if status.nats_error:
        lines.append(f"NATS: {status.nats_error}")
    for c in status.consumers:
        lines.append(f"{c.stream:<14}{c.consumer:<16}{c.pending:>9}{c.ack_pending:>13}{c.lag:>9}")
    if not status.consumers and not status.nats_error:
        lines.append("(no consumers)")
    return "\n".join(lines)


HELP = "state of each service, consumer lag and outbox backlog"
DESCRIPTION = (
    "Show, for the system `trainops up` runs from --data-dir: whether each service is "
    "ready, each durable consumer's lag (pending + unacknowledged) and each outbox's "
    "unsent rows. Exit code 0 when everything is ready, 1 otherwise."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="the data directory of `trainops up` (default: $TRAINOPS_DATA_DIR or "
        "~/.local/share/trainops)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from trainops_devtools.supervisor import resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    info = RunInfo.read(data_dir)
    if info is None:
        print(
            f"trainops status: no {data_dir / RUN_FILE}: `trainops up` is not running from "
            f"{data_dir} (pass --data-dir)",
            file=sys.stderr,
        )
        return 1
    status = asyncio.run(collect(info))
    if args.json:
        print(json.dumps(status.as_dict(), indent=2))
    else:
        print(render(status))
    return 0 if status.healthy else 1
