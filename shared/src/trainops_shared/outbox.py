"""Transactional outbox: events are rows written in the same transaction as the state change.

The API answers 2xx only after that transaction commits, so an acknowledged change always has its
events on disk. :class:`OutboxRelay` then publishes the rows to JetStream with
``Nats-Msg-Id = event_id`` (the stream's duplicate window drops a re-publish after a crash between
PubAck and "mark sent") and marks them sent once JetStream has acknowledged them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js.client import JetStreamContext
from sqlalchemy.engine import Connection

from trainops_shared.broker import ConnectionWatch, connect_watched
from trainops_shared.events import Event, encode_event
from trainops_shared.events.streams import stream_for_subject
from trainops_shared.logging import get_logger
from trainops_shared.storage import Database
from trainops_shared.tables import outbox
from trainops_shared.tracing import TRACEPARENT, Tracing, outbox_traceparent, traceparent_of

log = get_logger(__name__)


def record_events(conn: Connection, events: Iterable[Event]) -> None:
    """Append events to the outbox inside the caller's transaction."""
    now = datetime.now(UTC)
    traceparent = outbox_traceparent()
    rows = [
        {
            "event_id": str(e.event_id),
            "subject": e.subject,
            "payload": encode_event(e),
            "created_at": now,
            "traceparent": traceparent,
        }
        for e in events
    ]
    if rows:
        conn.execute(outbox.insert(), rows)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: str
    subject: str
    payload: bytes
    traceparent: str | None = None


def fetch_unsent(conn: Connection, limit: int) -> list[OutboxRow]:
    rows = conn.execute(
        sa.select(
            outbox.c.id, outbox.c.event_id, outbox.c.subject, outbox.c.payload, outbox.c.traceparent
        )
        .where(outbox.c.sent_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
    ).all()
    return [OutboxRow(r.id, r.event_id, r.subject, bytes(r.payload), r.traceparent) for r in rows]


def mark_sent(conn: Connection, ids: Sequence[int]) -> None:
    if ids:
        conn.execute(outbox.update().where(outbox.c.id.in_(ids)).values(sent_at=datetime.now(UTC)))


def count_unsent(conn: Connection) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        ).scalar_one()
    )


class OutboxRelay:
    """Publishes unsent outbox rows in order; restartable, idempotent, patient with NATS outages.

    Woken by :meth:`notify` right after a commit (low latency) and by a poll timer (rows written by
    another replica or before a crash are picked up too).
    """

    def __init__(
        self,
        db: Database,
        nats_url: str | list[str],
        *,
        name: str,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        publish_timeout: float = 5.0,
        max_backoff: float = 5.0,
        tracing: Tracing | None = None,
        on_published: Callable[[int, float], None] | None = None,
    ) -> None:
        self._db = db
        self._tracing = tracing
        self._on_published = on_published
        self._nats_url = nats_url
        self._name = name
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._js_for: NatsClient | None = None
        self._watch = ConnectionWatch(f"{name}-outbox-relay", log)
        # One publisher per store: rows are read unclaimed and published in id order, which
        # only holds while a single relay reads them (worker processes on PostgreSQL).
        self._leadership = db.leadership(f"outbox-relay:{name}")
        self.published = 0

    def notify(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        # Connect before the loop runs: a connect cancelled half-way by stop() would leave its
        # socket open. If NATS is down right now, the loop connects later.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._connect(), timeout=5)
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self._leadership.release()
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _connect(self) -> NatsClient:
        if self._nc is None or self._nc.is_closed:
            self._nc = await connect_watched(
                self._nats_url, client=f"{self._name}-outbox-relay", watch=self._watch
            )
        return self._nc

    def _jetstream(self, nc: NatsClient) -> JetStreamContext:
        """One JetStream context per connection: each new context's first ``publish_async``
        subscribes a reply inbox that nats-py never removes, so a context per batch leaks a
        subscription (and a task) per batch."""
        if self._js is None or self._js_for is not nc:
            self._js = nc.jetstream(timeout=self._publish_timeout)
            self._js_for = nc
        return self._js

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            try:
                sent = await self.publish_pending()
                backoff = 0.05
                if sent == 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                    self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # During an outage the connection's watch has said it once already.
                if self._watch.connected:
                    log.warning("outbox_relay_retry", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; returns how many were published and marked sent
        (0 in a process that does not lead: another one publishes)."""
        if not await self._leadership.hold():
            return 0
        rows = await self._db.read(lambda c: fetch_unsent(c, self._batch_size))
        if not rows:
            return 0
        nc = await self._connect()
        if not nc.is_connected:
            raise ConnectionError("NATS is not connected")
        js = self._jetstream(nc)
        futures = []
        spans = []
        started = time.perf_counter()
        for row in rows:
            headers = {"Nats-Msg-Id": row.event_id}
            if row.traceparent is not None:
                # The trace of the change that wrote the row continues in every consumer.
                if self._tracing is not None:
                    span = self._tracing.relay_span(row.subject, row.event_id, row.traceparent)
                    spans.append(span)
                    headers[TRACEPARENT] = traceparent_of(span) or row.traceparent
                else:
                    headers[TRACEPARENT] = row.traceparent
            futures.append(
                await js.publish_async(
                    row.subject,
                    row.payload,
                    stream=stream_for_subject(row.subject).name,
                    headers=headers,
                )
            )
        done: list[int] = []
        failure: BaseException | None = None
        results = await asyncio.gather(
            *(asyncio.wait_for(f, self._publish_timeout) for f in futures), return_exceptions=True
        )
        # Mark the acknowledged prefix only: rows after a failure are re-published in order next
        # time (JetStream drops the ones it already has), so per-aggregate order is kept.
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                failure = result
                break
            done.append(row.id)
        if self._on_published is not None and done:
            self._on_published(len(done), time.perf_counter() - started)
        for span in spans:
            span.end()
        if done:
            await self._db.write(lambda c: mark_sent(c, done))
            self.published += len(done)
        if failure is not None:
            raise failure
        return len(done)
