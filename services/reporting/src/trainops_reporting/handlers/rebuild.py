"""Rebuilding the read model from the streams, beside the live one, and adopting it at start-up.

:func:`rebuild` replays every stream the service reads into a fresh SQLite database with the
service's own consumer code (inbox, batch projection, retries), under a separate durable
consumer (``reporting_rebuild``), while the running service keeps serving and projecting into
the old one. It ends when, on every stream, everything up to the sequence that was last when it
started is acknowledged; then the new database is closed and published (``adapters.
rebuilt_store``). An event it could not apply (dead-lettered) fails the rebuild: a read model
missing events is never published. :func:`adopt_rebuilt` is the service's first start-up step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nats
from nats.aio.client import Client as NatsClient
from nats.js.errors import NotFoundError

from trainops_reporting.adapters import rebuilt_store
from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.domain.projection import CATCH_UP_BATCH, STREAM_ORDER
from trainops_reporting.handlers.batches import apply_batch
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_shared.broker import nats_servers
from trainops_shared.inbox import EventConsumer
from trainops_shared.logging import get_logger
from trainops_shared.service import ServiceRuntime
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS

log = get_logger(__name__)

REBUILD_CONSUMER: Final = "reporting_rebuild"
REPLAY_MAX_ATTEMPTS: Final = 40
"""Deliveries before a waiting event is given up (dead-lettered): at the 30 s delay cap, about
17 minutes of waiting for another stream."""


class RebuildFailed(Exception):
    """The replay could not produce a complete read model (nothing was published)."""


@dataclass(frozen=True, slots=True)
class Progress:
    applied: int
    elapsed_s: float
    done: dict[str, int]
    """Per stream: the acknowledged prefix (every sequence up to it is in the new model)."""
    target: dict[str, int]
    """Per stream: the last sequence when the rebuild started."""

    @property
    def fraction(self) -> float:
        total = sum(self.target.values())
        if not total:
            return 1.0
        return sum(min(self.done[s], t) for s, t in self.target.items()) / total

    def line(self) -> str:
        rate = self.applied / self.elapsed_s if self.elapsed_s else 0.0
        streams = ", ".join(f"{s} {self.done[s]}/{t}" for s, t in sorted(self.target.items()))
        return (
            f"{self.fraction:6.1%}  {self.applied} events applied  {rate:,.0f} ev/s  "
            f"{self.elapsed_s:.1f} s  ({streams})"
        )


@dataclass(frozen=True, slots=True)
class RebuildResult:
    events: int
    elapsed_s: float
    covered: dict[str, int]
    path: Path


def sqlite_file(database_url: str) -> Path:
    if not database_url.startswith("sqlite") or ":///" not in database_url:
        raise RebuildFailed(
            "rebuild replaces a SQLite read model file; this DATABASE_URL is not a SQLite file"
        )
    return Path(database_url.split(":///", 1)[1])


async def _acked_prefix(nc: NatsClient, consumer: EventConsumer) -> dict[str, int]:
    js = nc.jetstream()
    done: dict[str, int] = {}
    for spec in consumer.streams:
        info = await js.consumer_info(spec.name, REBUILD_CONSUMER)
        done[spec.name] = info.ack_floor.stream_seq if info.ack_floor else 0
    return done


async def _delete_consumers(nc: NatsClient, consumer: EventConsumer) -> None:
    js = nc.jetstream()
    for spec in consumer.streams:
        try:
            await js.delete_consumer(spec.name, REBUILD_CONSUMER)
        except NotFoundError:
            continue


async def rebuild(
    nc: NatsClient,
    db_path: Path,
    *,
    report: Callable[[Progress], None] = lambda _p: None,
    interval_s: float = 1.0,
    budget_s: float | None = None,
) -> RebuildResult:
    """Replay the streams into ``<db_path>.rebuilding``; publish it as ``.rebuilt`` once
    complete. ``report`` gets the progress every ``interval_s``; past ``budget_s`` the run
    stops and publishes nothing."""
    partial = rebuilt_store.rebuilding_path(db_path)
    rebuilt_store.remove_database(partial)
    db = SqliteDatabase(f"sqlite:///{partial}")
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    # A replay reads each stream from its start at its own pace: an event about an aggregate
    # of another stream may wait for that stream to catch up for a while, so the waiting
    # budget is far longer than a live consumer's.
    consumer = EventConsumer(
        service=REBUILD_CONSUMER,
        db=db,
        handlers=EVENT_HANDLERS,
        batch_handler=apply_batch,
        max_attempts=REPLAY_MAX_ATTEMPTS,
        stream_order=STREAM_ORDER,
        catch_up_batch_size=CATCH_UP_BATCH,
    )
    js = nc.jetstream()
    target = {s.name: (await js.stream_info(s.name)).state.last_seq for s in consumer.streams}
    await _delete_consumers(nc, consumer)  # a leftover of an interrupted run
    started = time.monotonic()
    complete = False
    try:
        await consumer.start(nc)
        while True:
            done = await _acked_prefix(nc, consumer)
            elapsed = time.monotonic() - started
            report(Progress(consumer.applied, elapsed, done, target))
            if consumer.dead_lettered:
                raise RebuildFailed(
                    f"{consumer.dead_lettered} event(s) could not be applied and were "
                    f"dead-lettered (consumer {REBUILD_CONSUMER}): nothing was published"
                )
            if all(done[s] >= t for s, t in target.items()):
                break
            if budget_s is not None and elapsed > budget_s:
                raise RebuildFailed(f"not complete after {budget_s:g} s: nothing was published")
            await asyncio.sleep(interval_s)
        await consumer.stop()
        covered = await _acked_prefix(nc, consumer)
        complete = True
    finally:
        await consumer.stop()
        await db.close()
        await _delete_consumers(nc, consumer)
        if not complete:
            rebuilt_store.remove_database(partial)
    rebuilt_store.publish(db_path, covered)
    return RebuildResult(consumer.applied, time.monotonic() - started, covered, db_path)


async def adopt_rebuilt(nc: NatsClient, db_path: Path, consumer: EventConsumer) -> bool:
    """Take over a complete rebuild, if one is waiting: swap the file in and make the service's
    durable consumers deliver what came after it. Run before the database opens."""
    covered = rebuilt_store.pending_manifest(db_path)
    if covered is None:
        return False
    rebuilt_store.swap_in(db_path)
    await rebuilt_store.reposition_consumers(
        nc.jetstream(), {s.name: consumer.consumer_config(s) for s in consumer.streams}, covered
    )
    rebuilt_store.forget_manifest(db_path)
    return True


async def adopt_at_start(runtime: ServiceRuntime) -> None:
    """The service's ``before_start``: adopt a complete rebuild of its SQLite read model."""
    url = runtime.settings.database_url
    if runtime.consumer is None or not url.startswith("sqlite"):
        return
    path = sqlite_file(url)
    if rebuilt_store.pending_manifest(path) is None:
        return
    nc = await nats.connect(
        nats_servers(runtime.settings.nats_url),
        connect_timeout=max(1, int(runtime.settings.nats_connect_timeout)),
        allow_reconnect=False,
        max_reconnect_attempts=0,
    )
    try:
        await adopt_rebuilt(nc, path, runtime.consumer)
    finally:
        await nc.close()
    log.info("rebuilt_read_model_adopted", database=path.name)
