"""Freezing a donor report, reading it back and comparing two.

A snapshot records the stream positions its figures reflect. Those are exact only when the
read model holds a prefix of every stream, which the pull consumers' ack floors tell: every
event up to a consumer's ack floor has been applied (or deliberately passed over) and
committed. The floors are read **before** the report's transaction, so everything up to them
is in what that transaction reads; if the read model also holds an event past a floor (applied
but its ack not yet counted, or a later event applied while an earlier one waits to be
retried), the state is not a prefix and the snapshot is refused for a moment
(:class:`NotCaughtUp`, 503 with ``Retry-After``) rather than recorded with positions that a
rebuild would not reproduce.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

import msgspec
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy.engine import Connection

from trainops_reporting.adapters import snapshots as store
from trainops_reporting.domain import indicators
from trainops_reporting.domain.snapshots import (
    canonical,
    changed_cells,
    changed_evidence,
    content_hash,
    reasons,
    same_question,
)
from trainops_reporting.handlers.reports import ReportReader, ReportRequest
from trainops_shared.errors import NotFound
from trainops_shared.events.base import uuid7
from trainops_shared.service import ServiceRuntime

RETRY_AFTER_S = 2
FREEZE_ATTEMPTS = 5
FREEZE_PAUSE_S = 0.2
"""An ack in flight takes milliseconds: a few short tries before answering 503."""


class NotCaughtUp(Exception):
    """The read model is not a prefix of every stream at this instant (or NATS cannot say)."""


_contexts: weakref.WeakKeyDictionary[NatsClient, JetStreamContext] = weakref.WeakKeyDictionary()


def _jetstream(nc: NatsClient) -> JetStreamContext:
    """One JetStream context per connection (a new one per call leaks a reply subscription)."""
    js = _contexts.get(nc)
    if js is None:
        js = _contexts[nc] = nc.jetstream()
    return js


async def acked_positions(runtime: ServiceRuntime) -> dict[str, int]:
    """Per stream the service reads, its durable consumer's ack floor (stream sequence)."""
    consumer = runtime.consumer
    nc = runtime.broker.config.connection_state.connection
    if consumer is None or nc is None or not nc.is_connected:
        raise NotCaughtUp("the event streams cannot be reached")
    js = _jetstream(nc)
    out: dict[str, int] = {}
    for spec in consumer.streams:
        try:
            info = await js.consumer_info(spec.name, consumer.service, timeout=5)
        except Exception as exc:  # any NATS failure: we cannot tell the positions
            raise NotCaughtUp(f"stream {spec.name}: {type(exc).__name__}") from None
        floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
        out[spec.name] = int(floor or 0)
    return out


def view(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A snapshot's provenance as published (everything but the content)."""
    published = {name: row[name] for name in PROVENANCE}
    published["created_at"] = row["created_at"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {"id": str(row["snapshot_id"]), **published}


PROVENANCE: Final = (
    "created_by",
    "parameters",
    "k",
    "definitions_version",
    "positions",
    "content_sha256",
)


def _freeze(
    conn: Connection,
    *,
    reader: ReportReader,
    request: ReportRequest,
    parameters: Mapping[str, Any],
    acked: Mapping[str, int],
    created_by: str,
    at: datetime,
    snapshot_id: uuid.UUID,
) -> dict[str, Any]:
    applied = store.applied_positions(conn)
    ahead = sorted(s for s, seq in applied.items() if seq > acked.get(s, 0))
    if ahead:
        raise NotCaughtUp(f"events of {', '.join(ahead)} are still being applied")
    content = canonical(reader.donor(conn, request))
    values: dict[str, Any] = {
        "snapshot_id": snapshot_id,
        "created_at": at,
        "created_by": created_by,
        "parameters": dict(parameters),
        "k": request.k,
        "definitions_version": indicators.VERSION,
        "positions": {s: acked[s] for s in sorted(acked)},
        "content": content,
        "content_sha256": content_hash(content),
    }
    store.add_snapshot(conn, values)
    return view(values)


async def freeze(
    runtime: ServiceRuntime,
    reader: ReportReader,
    request: ReportRequest,
    parameters: Mapping[str, Any],
    created_by: str,
) -> dict[str, Any]:
    """Freeze the donor answer to ``request`` with its provenance; raises
    :class:`NotCaughtUp` when the positions it would record could not be reproduced."""
    for attempt in range(FREEZE_ATTEMPTS):
        acked = await acked_positions(runtime)
        try:
            return await runtime.write(
                partial(
                    _freeze,
                    reader=reader,
                    request=request,
                    parameters=parameters,
                    acked=acked,
                    created_by=created_by,
                    at=store.stamp(datetime.now(UTC)),
                    snapshot_id=uuid7(),
                )
            )
        except NotCaughtUp:
            if attempt + 1 == FREEZE_ATTEMPTS:
                raise
            await asyncio.sleep(FREEZE_PAUSE_S)
    raise AssertionError("unreachable")


def stored(conn: Connection, snapshot_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """A snapshot's provenance and its frozen answer; 404 for an unknown id."""
    row = store.snapshot(conn, snapshot_id)
    if row is None:
        raise NotFound(f"no snapshot {snapshot_id}")
    report: dict[str, Any] = msgspec.json.decode(row.content)
    return view(row._mapping), report


def created_at(provenance: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(provenance["created_at"]).replace("Z", "+00:00"))


def listing(conn: Connection) -> list[dict[str, Any]]:
    return [view(row._mapping) for row in store.listed(conn)]


def _bounds(a: Mapping[str, int], b: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    streams: Sequence[str] = sorted(a.keys() | b.keys())
    low = {s: min(a.get(s, 0), b.get(s, 0)) for s in streams}
    high = {s: max(a.get(s, 0), b.get(s, 0)) for s in streams}
    return low, high


def compare(conn: Connection, first: uuid.UUID, second: uuid.UUID) -> dict[str, Any]:
    """Which published figures (counts, ratios and the evidence section) read differently
    from ``first`` to ``second``, and the events applied between their positions (by type)
    that explain it as far as they can."""
    a, report_a = stored(conn, first)
    b, report_b = stored(conn, second)
    low, high = _bounds(a["positions"], b["positions"])
    events = store.events_between(conn, low, high)
    return {
        "from": a,
        "to": b,
        "same_parameters": same_question(a["parameters"], b["parameters"]),
        "same_content": a["content_sha256"] == b["content_sha256"],
        "changes": changed_cells(report_a, report_b),
        "evidence_changes": changed_evidence(report_a, report_b, events),
        "events_between": reasons(events),
    }
