"""Idempotent event consumers: durable pull consumers, an inbox table, explicit acks, dead letters.

For each stream a service reads, one durable pull consumer named after the service takes
messages in batches. A batch is applied in ONE transaction together with the inbox rows
(``processed_events``) of its event ids, and acked only after that commit: a redelivery finds its
id in the inbox and changes nothing, so nothing is counted twice.

Failures are told apart:

* undecodable payloads (poison) go straight to the dead-letter stream with msgspec's reason;
* an unavailable database holds the batch, reports progress to JetStream (``+WPI``) and retries
  with backoff, so a long outage never burns the delivery budget;
* a handler that raises is retried alone with a growing ``nak`` delay (never FastStream's
  reject-on-error) and, after ``max_attempts`` deliveries, dead-lettered with the error text.

The pull loop is nats-py's ``fetch`` on the FastStream broker's connection rather than a
FastStream ``PullSub(batch=True)`` subscriber: FastStream 0.7.8's batch loop keeps fetching until
the batch is full or its timeout passes (so a lone event waits the whole timeout), and a fetch that
times out after receiving messages drops them until ``ack_wait`` expires. ``fetch`` returns as soon
as anything is available and hands back what it received, which is what a low-latency projection
needs.

With ``stream_order`` a consumer reading streams whose events refer to each other's (a
registration to its session, feedback to its registration) paces them: a stream's pull loop
waits while a stream before it in the order has more than a batch left to deliver. Catching up
on a backlog (a fresh read model, a rebuild) then applies the producers first instead of
retrying the dependents' events again and again until their aggregates arrive, and fetches
``catch_up_batch_size`` at a time; in steady state every backlog is under a batch and nothing
waits. Only the fetching is paced: ``RetryLater``, dead letters and the inbox are unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.engine import Connection

from trainops_shared.events import AnyEvent, Event, decode_event
from trainops_shared.events.streams import DEAD_LETTER, StreamSpec, stream_for_subject
from trainops_shared.logging import get_logger
from trainops_shared.storage import Database, is_transient
from trainops_shared.tables import processed_events
from trainops_shared.tracing import ConsumedBatch, Tracing

log = get_logger(__name__)

EventHandler = Callable[[Connection, Any], None]
"""``handler(conn, event)``: applies one event inside the consumer's transaction."""

BatchHandler = Callable[[Connection, Sequence[Any]], Mapping[int, Exception]]
"""``batch_handler(conn, events)``: applies a batch's events that are new to the inbox (in
delivery order) inside the consumer's transaction, with set-based statements. Returns the
events that failed, by position, each of which must have changed nothing (they are retried or
dead-lettered like a failing handler's event); raising instead makes the consumer apply the
batch again with the per-event handlers, each event in its own SAVEPOINT."""


class _MaxDeliveries(msgspec.Struct):
    """The part of JetStream's ``io.nats.jetstream.advisory.v1.max_deliver`` advisory we use."""

    stream: str
    stream_seq: int
    deliveries: int


class RetryLater(Exception):
    """The event cannot be applied yet (e.g. it refers to something not received yet)."""


@dataclass(frozen=True, slots=True)
class _Item:
    msg: Msg
    event: AnyEvent
    handler: EventHandler


def _inbox_row(item: _Item, event_id: str, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "subject": item.msg.subject,
        "stream_seq": item.msg.metadata.sequence.stream,
        "processed_at": now,
    }


def retry_delay(attempt: int) -> float:
    """Seconds before redelivery after the ``attempt``-th failed delivery (0.25 s … 30 s)."""
    return float(min(0.25 * 2 ** max(attempt - 1, 0), 30.0))


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        db: Database,
        handlers: Mapping[type[Event], EventHandler],
        on_commit: Callable[[], None] | None = None,
        max_attempts: int = 8,
        batch_size: int = 500,
        fetch_timeout: float = 1.0,
        max_deliver: int | None = None,
        ack_wait: float = 10.0,
        tracing: Tracing | None = None,
        on_batch: Callable[[str, int], None] | None = None,
        batch_handler: BatchHandler | None = None,
        only_handled_subjects: bool = False,
        stream_order: Sequence[str] = (),
        catch_up_batch_size: int | None = None,
    ) -> None:
        self.service = service
        self._upstream = {
            name: tuple(stream_order[:position]) for position, name in enumerate(stream_order)
        }
        self._catch_up_batch_size = catch_up_batch_size or batch_size
        self._backlog: dict[str, int] = {}
        """Per stream: messages the server had left to deliver after our last fetch."""
        self._progress = asyncio.Event()
        self._only_handled_subjects = only_handled_subjects
        self._batch_handler = batch_handler
        self._tracing = tracing
        self._on_batch = on_batch
        self._db = db
        self._handlers = dict(handlers)
        self._on_commit = on_commit
        self.max_attempts = max_attempts
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        # Our own bound (max_attempts) dead-letters first; the server's bound only stops a
        # message that crashes the process itself again and again (then the advisory hook
        # below dead-letters it).
        self._max_deliver = max_deliver if max_deliver is not None else max_attempts + 5
        self._ack_wait = ack_wait
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._advisories: list[Subscription] = []
        self._pulls: list[JetStreamContext.PullSubscription] = []
        self._in_flight: set[asyncio.Future[None]] = set()
        # One consumer transaction at a time in this process: the pull loops of different
        # streams would otherwise mostly conflict with each other (and retry) on PostgreSQL.
        self._write_lock = asyncio.Lock()
        self.applied = 0
        self.retried = 0
        self.dead_lettered = 0

    @property
    def streams(self) -> list[StreamSpec]:
        specs = {stream_for_subject(t.type_name()) for t in self._handlers}
        return sorted(specs, key=lambda s: s.name)

    def subjects(self, spec: StreamSpec) -> list[str]:
        """The subjects of ``spec`` this service has handlers for."""
        return sorted(
            t.type_name() for t in self._handlers if stream_for_subject(t.type_name()) == spec
        )

    def consumer_config(self, spec: StreamSpec) -> ConsumerConfig:
        """The durable consumer of ``spec``: the whole stream, or with ``only_handled_subjects``
        only the subjects handled, so that a service reading a few event types of a busy
        stream (feedback, scheduling on the registration stream) is not woken, fed and acked
        for every other one; it then also never sees (nor dead-letters) what is published on
        the other subjects. A durable created earlier keeps the filter it was created with."""
        if self._only_handled_subjects:
            return self._config(filter_subjects=self.subjects(spec))
        return self._config(filter_subject=f"{spec.context}.>")

    def _config(self, **filters: Any) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.service,
            **filters,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self._max_deliver,
            ack_wait=self._ack_wait,
            max_ack_pending=20_000,
        )

    async def start(self, nc: NatsClient) -> None:
        """Create (or bind to) the durable consumers and start one pull loop per stream."""
        self._stopping = False
        js = nc.jetstream()
        for spec in self.streams:
            sub = await js.pull_subscribe(
                f"{spec.context}.>",
                durable=self.service,
                stream=spec.name,
                config=self.consumer_config(spec),
            )
            self._pulls.append(sub)
            if self._upstream:
                self._backlog[spec.name] = (await sub.consumer_info()).num_pending or 0
        for spec, sub in zip(self.streams, self._pulls, strict=True):
            self._tasks.append(
                asyncio.create_task(
                    self._pull_loop(js, sub, spec.name), name=f"{self.service}<-{spec.name}"
                )
            )
        for spec in self.streams:
            self._advisories.append(
                await nc.subscribe(
                    f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{spec.name}.{self.service}",
                    # One worker process of the service dead-letters each message, not all.
                    queue=self.service,
                    cb=partial(self._on_max_deliveries, js),
                )
            )

    async def _on_max_deliveries(self, js: JetStreamContext, advisory: Msg) -> None:
        """The server gave up on a message (the process died or timed out on it every time):
        keep it in the dead-letter stream so it is not silently skipped."""
        try:
            info = msgspec.json.decode(advisory.data, type=_MaxDeliveries)
            raw = await js.get_msg(info.stream, info.stream_seq)
        except Exception as exc:
            log.error("max_deliveries_advisory_unreadable", error=repr(exc))
            return
        headers = self._dead_letter_headers(
            stream=info.stream,
            seq=info.stream_seq,
            subject=raw.subject or "",
            attempts=info.deliveries,
            reason=(
                f"max deliveries ({info.deliveries}) exceeded without an ack: the consumer "
                f"crashed or timed out on this message every time"
            ),
        )
        try:
            await js.publish(
                f"{DEAD_LETTER.context}.{self.service}.{raw.subject}",
                raw.data or b"",
                headers=headers,
                stream=DEAD_LETTER.name,
                timeout=5,
            )
        except Exception as exc:
            log.error("dead_letter_publish_failed", error=repr(exc), stream_seq=info.stream_seq)
            return
        self.dead_lettered += 1
        log.error(
            "event_dead_lettered", stream_seq=info.stream_seq, reason=headers["Trainops-Reason"]
        )

    async def stop(self) -> None:
        """Finish the batch in hand, then stop pulling (unacked messages are redelivered)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        # The batches in hand finish before the caller closes the database under them.
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        # Unsubscribed now, the broker's drain at shutdown has nothing left to wait for.
        for advisory in self._advisories:
            with contextlib.suppress(Exception):
                await advisory.unsubscribe()
        for pull in self._pulls:
            with contextlib.suppress(Exception):
                await pull.unsubscribe()
        self._advisories.clear()
        self._pulls.clear()

    def _upstream_backlog(self, stream: str) -> int:
        return max((self._backlog.get(s, 0) for s in self._upstream.get(stream, ())), default=0)

    async def _wait_for_upstream(self, stream: str) -> None:
        """Until no stream before ``stream`` has more than a batch left to deliver."""
        while not self._stopping and self._upstream_backlog(stream) > self._batch_size:
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), self._fetch_timeout)

    def _note_backlog(self, stream: str, left: int) -> None:
        if self._upstream:
            self._backlog[stream] = left
            self._progress.set()

    async def _pull_loop(
        self, js: JetStreamContext, sub: JetStreamContext.PullSubscription, stream: str
    ) -> None:
        failing_since: float | None = None
        while not self._stopping:
            await self._wait_for_upstream(stream)
            behind = self._backlog.get(stream, 0) > self._batch_size
            size = self._catch_up_batch_size if behind else self._batch_size
            try:
                msgs = await sub.fetch(size, timeout=self._fetch_timeout)
            except TimeoutError:
                self._note_backlog(stream, 0)  # nothing was left to deliver
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # disconnected, server restarting: wait and pull again
                # One line per streak of failures, not one per attempt: the connection's own
                # callbacks report the outage and its duration.
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.info("pull_failed_retrying", error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            if failing_since is not None:
                log.info("pull_resumed", after_s=round(time.monotonic() - failing_since, 3))
                failing_since = None
            if msgs:
                self._note_backlog(stream, msgs[-1].metadata.num_pending or 0)
            if self._on_batch is not None and msgs:
                self._on_batch(msgs[0].metadata.stream, len(msgs))
            batch = asyncio.ensure_future(self.process(msgs, js))
            self._in_flight.add(batch)
            batch.add_done_callback(self._in_flight.discard)
            try:
                # Shielded: stop() cancels the loop, but the batch in hand finishes (and acks).
                await asyncio.shield(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Unacked messages come back after ack_wait; the loop must keep going.
                log.exception("batch_processing_failed", error=repr(exc))

    async def process(self, msgs: Sequence[Msg], js: JetStreamContext) -> None:
        traced = self._tracing.batch(self.service) if self._tracing is not None else None
        try:
            await self._process(msgs, js, traced)
        finally:
            if traced is not None:
                traced.end()

    async def _process(
        self, msgs: Sequence[Msg], js: JetStreamContext, traced: ConsumedBatch | None
    ) -> None:
        items: list[_Item] = []
        for msg in msgs:
            try:
                event = decode_event(msg.data)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                await self._dead_letter(js, msg, f"undecodable event: {exc}")
                continue
            if event.subject != msg.subject:
                # The payload's own tag decides its type, the subject decides who may publish
                # it: a payload of another type on this subject is forged or misrouted.
                await self._dead_letter(
                    js, msg, f"payload type {event.subject} does not match subject {msg.subject}"
                )
                continue
            handler = self._handlers.get(type(event))
            if handler is None:
                await msg.ack()  # an event this service does not need
                continue
            if traced is not None:
                handler = traced.wrap(
                    subject=msg.subject,
                    event_id=str(event.event_id),
                    stream_seq=msg.metadata.sequence.stream,
                    headers=msg.headers,
                    handler=handler,
                )
            items.append(_Item(msg, event, handler))
        if not items:
            return
        try:
            failures = await self._write_holding(items, isolate=False)
        except Exception as exc:
            # Some handler raised: apply the batch again with each event in its own SAVEPOINT,
            # so the others still commit together and only the failing ones are retried.
            log.info("batch_failed_isolating", error=repr(exc), size=len(items))
            failures = await self._write_holding(items, isolate=True)
        await asyncio.gather(*(item.msg.ack() for i, item in enumerate(items) if i not in failures))
        for i, failure in failures.items():
            await self._retry_or_dead_letter(js, items[i], failure)

    async def _write_holding(
        self, items: Sequence[_Item], *, isolate: bool
    ) -> dict[int, Exception]:
        """Apply ``items`` in one transaction, waiting out database outages without naking.

        Returns the handler failures by index: with ``isolate``, every failing handler's; without
        it, those the batch handler reports (a failing per-event handler raises and nothing of
        the batch is committed).
        """
        delay = 0.1
        while True:
            try:
                async with self._write_lock:
                    failures = await self._db.write(
                        lambda conn: self._apply(conn, items, isolate), serializable=True
                    )
            except Exception as exc:
                if not is_transient(exc) or self._stopping:
                    raise
                log.warning("database_unavailable_holding_batch", error=repr(exc), retry_in_s=delay)
                for item in items:
                    with contextlib.suppress(Exception):
                        await item.msg.in_progress()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                self.applied += len(items) - len(failures)
                if self._on_commit is not None:
                    self._on_commit()
                return failures

    def _apply(
        self, conn: Connection, items: Sequence[_Item], isolate: bool
    ) -> dict[int, Exception]:
        ids = [str(item.event.event_id) for item in items]
        seen = set(
            conn.execute(
                sa.select(processed_events.c.event_id).where(processed_events.c.event_id.in_(ids))
            ).scalars()
        )
        now = datetime.now(UTC)
        if self._batch_handler is not None and not isolate:
            return self._apply_set_based(conn, items, seen, now, self._batch_handler)
        rows = []
        failures: dict[int, Exception] = {}
        for i, item in enumerate(items):
            event_id = str(item.event.event_id)
            if event_id in seen:
                continue
            context = structlog.contextvars.bound_contextvars(
                event_id=event_id,
                correlation_id=str(item.event.correlation_id or item.event.event_id),
            )
            with context:
                if isolate:
                    try:
                        with conn.begin_nested():
                            item.handler(conn, item.event)
                    except Exception as exc:
                        if is_transient(exc):
                            raise
                        failures[i] = exc
                        continue
                else:
                    item.handler(conn, item.event)
            seen.add(event_id)
            rows.append(_inbox_row(item, event_id, now))
        if rows:
            conn.execute(processed_events.insert(), rows)
        return failures

    @staticmethod
    def _apply_set_based(
        conn: Connection,
        items: Sequence[_Item],
        seen: set[str],
        now: datetime,
        batch_handler: BatchHandler,
    ) -> dict[int, Exception]:
        """The batch handler's way: the new events in one call, their inbox rows in one insert."""
        fresh: list[int] = []
        for i, item in enumerate(items):
            event_id = str(item.event.event_id)
            if event_id not in seen:
                seen.add(event_id)
                fresh.append(i)
        if not fresh:
            return {}
        failed = batch_handler(conn, [items[i].event for i in fresh])
        failures = {fresh[position]: exc for position, exc in failed.items()}
        rows = [
            _inbox_row(items[i], str(items[i].event.event_id), now)
            for i in fresh
            if i not in failures
        ]
        if rows:
            conn.execute(processed_events.insert(), rows)
        return failures

    async def _retry_or_dead_letter(
        self, js: JetStreamContext, item: _Item, exc: Exception
    ) -> None:
        attempts = item.msg.metadata.num_delivered
        if attempts >= self.max_attempts:
            await self._dead_letter(js, item.msg, f"handler failed {attempts} times: {exc!r}")
            return
        log.info(
            "event_retry",
            event_id=str(item.event.event_id),
            subject=item.msg.subject,
            attempt=attempts,
            error=repr(exc),
        )
        self.retried += 1
        await item.msg.nak(delay=retry_delay(attempts))

    def _dead_letter_headers(
        self, *, stream: str, seq: int, subject: str, attempts: int, reason: str
    ) -> dict[str, str]:
        return {
            "Nats-Msg-Id": f"dl:{self.service}:{stream}:{seq}",
            "Trainops-Reason": reason[:2000],
            "Trainops-Consumer": self.service,
            "Trainops-Original-Subject": subject,
            "Trainops-Original-Stream": stream,
            "Trainops-Original-Seq": str(seq),
            "Trainops-Attempts": str(attempts),
        }

    async def _dead_letter(self, js: JetStreamContext, msg: Msg, reason: str) -> None:
        meta = msg.metadata
        headers = self._dead_letter_headers(
            stream=meta.stream,
            seq=meta.sequence.stream,
            subject=msg.subject,
            attempts=meta.num_delivered,
            reason=reason,
        )
        try:
            await js.publish(
                f"{DEAD_LETTER.context}.{self.service}.{msg.subject}",
                msg.data,
                headers=headers,
                stream=DEAD_LETTER.name,
                timeout=5,
            )
        except Exception as exc:
            log.warning("dead_letter_publish_failed", error=repr(exc), subject=msg.subject)
            await msg.nak(delay=retry_delay(meta.num_delivered))
            return
        self.dead_lettered += 1
        log.error(
            "event_dead_lettered",
            subject=msg.subject,
            stream_seq=meta.sequence.stream,
            reason=reason[:300],
        )
        await msg.term()
