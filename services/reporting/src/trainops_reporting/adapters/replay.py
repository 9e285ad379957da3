"""Rebuild a read model from the streams up to given stream sequences (a snapshot's positions).

Each stream is read from its first message up to its stop sequence by an ordered (ephemeral)
consumer, then every event is applied as the live consumer applies it: the handler in its own
savepoint with its inbox row, an undecodable or misrouted payload passed over (the live
consumer dead-letters it), and an event that must wait for another (``RetryLater``) tried
again after the rest, until nothing more can be applied. Streams are read in the order their
events depend on each other (sessions before registrations before feedback), so waiting is
rare. The result is the read model as it was when the positions were recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from nats.aio.client import Client as NatsClient
from nats.js.api import DeliverPolicy
from sqlalchemy.engine import Connection

from trainops_reporting.domain.projection import STREAM_ORDER
from trainops_shared.events import AnyEvent, Event, decode_event
from trainops_shared.events.streams import STREAMS
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import Database
from trainops_shared.tables import processed_events

RECEIVE_TIMEOUT_S = 10.0


class ReplayIncomplete(Exception):
    """The streams do not hold the sequences asked for, or events could never be applied."""


@dataclass(frozen=True, slots=True)
class _Item:
    subject: str
    seq: int
    event: AnyEvent


async def read_until(nc: NatsClient, stream: str, stop: int) -> list[_Item]:
    """Every decodable event of ``stream`` with a sequence up to ``stop``, in order."""
    if stop <= 0:
        return []
    context = next(s.context for s in STREAMS.values() if s.name == stream)
    js = nc.jetstream()
    sub = await js.subscribe(
        f"{context}.>", stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    items: list[_Item] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=RECEIVE_TIMEOUT_S)
            except TimeoutError:
                raise ReplayIncomplete(f"{stream} ends before sequence {stop}") from None
            seq = msg.metadata.sequence.stream
            if seq > stop:
                break
            try:
                event = decode_event(msg.data)
            except (msgspec.ValidationError, msgspec.DecodeError):
                event = None
            if event is not None and event.subject == msg.subject:
                items.append(_Item(msg.subject, seq, event))
            if seq >= stop:
                break
    finally:
        await sub.unsubscribe()
    return items


def _apply(
    conn: Connection,
    items: Sequence[_Item],
    handlers: Mapping[type[Event], Callable[[Connection, Any], None]],
) -> int:
    waiting = [item for item in items if type(item.event) in handlers]
    applied: set[str] = set()
    now = datetime.now(UTC)
    while waiting:
        later: list[_Item] = []
        for item in waiting:
            event_id = str(item.event.event_id)
            if event_id in applied:
                continue  # a re-publish under a new message id: the inbox stops it
            try:
                with conn.begin_nested():
                    handlers[type(item.event)](conn, item.event)
                    conn.execute(
                        processed_events.insert(),
                        {
                            "event_id": event_id,
                            "subject": item.subject,
                            "stream_seq": item.seq,
                            "processed_at": now,
                        },
                    )
            except RetryLater:
                later.append(item)
                continue
            applied.add(event_id)
        if len(later) == len(waiting):
            raise ReplayIncomplete(f"{len(later)} events wait for events not in the streams")
        waiting = later
    return len(applied)


async def replay_until(
    nc: NatsClient,
    db: Database,
    handlers: Mapping[type[Event], Callable[[Connection, Any], None]],
    positions: Mapping[str, int],
) -> int:
    """Apply every stream of ``positions`` up to its sequence into ``db`` (a fresh read
    model); returns the number of events applied."""
    unknown = set(positions) - set(STREAM_ORDER)
    if unknown:
        raise ReplayIncomplete(f"no replay order for streams {', '.join(sorted(unknown))}")
    batches = await asyncio.gather(
        *(read_until(nc, s, positions[s]) for s in STREAM_ORDER if s in positions)
    )
    items = [item for batch in batches for item in batch]
    return await db.write(lambda conn: _apply(conn, items, handlers))
