"""Stored snapshots, and the stream positions the read model reflects.

``report_snapshots`` is not part of the read model (``tables.READ_MODEL_TABLES``): rebuilding
the projections from the streams must never touch a frozen report. Each row keeps the
canonical bytes of its answer, so a download is rendered from exactly what was frozen.

The positions come from the inbox (``processed_events``), whose rows carry each applied
event's stream sequence and are written in the same transaction as the projection change.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import metadata
from trainops_shared.columns import UtcDateTime, UUIDType
from trainops_shared.events.streams import STREAMS, stream_for_subject
from trainops_shared.tables import processed_events

snapshots = sa.Table(
    "report_snapshots",
    metadata,
    sa.Column("snapshot_id", UUIDType(), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("k", sa.Integer, nullable=False),
    sa.Column("definitions_version", sa.String(16), nullable=False),
    sa.Column("positions", sa.JSON, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Index("ix_report_snapshots_created_at", "created_at"),
)

LIST_LIMIT = 500
"""Snapshots a listing returns, newest first (a programme freezes a handful per period)."""


def create_snapshots_v6(conn: Connection) -> None:
    snapshots.create(conn, checkfirst=True)


def applied_positions(conn: Connection) -> dict[str, int]:
    """Per stream, the highest sequence of an event the read model applied."""
    query = sa.select(processed_events.c.subject, sa.func.max(processed_events.c.stream_seq))
    out: dict[str, int] = {}
    for subject, seq in conn.execute(query.group_by(processed_events.c.subject)):
        if seq is None:
            continue
        try:
            stream = stream_for_subject(subject).name
        except ValueError:
            continue
        out[stream] = max(out.get(stream, 0), int(seq))
    return out


def events_between(
    conn: Connection, low: Mapping[str, int], high: Mapping[str, int]
) -> dict[str, int]:
    """Applied events per subject with a stream sequence in ``(low, high]`` of their stream."""
    ranges = []
    for stream in sorted(low.keys() | high.keys()):
        lo, hi = low.get(stream, 0), high.get(stream, 0)
        if hi <= lo:
            continue
        context = next((s.context for s in STREAMS.values() if s.name == stream), None)
        if context is None:
            continue
        ranges.append(
            sa.and_(
                processed_events.c.subject.like(f"{context}.%"),
                processed_events.c.stream_seq > lo,
                processed_events.c.stream_seq <= hi,
            )
        )
    if not ranges:
        return {}
    query = (
        sa.select(processed_events.c.subject, sa.func.count())
        .where(sa.or_(*ranges))
        .group_by(processed_events.c.subject)
    )
    return {subject: int(count) for subject, count in conn.execute(query)}


def add_snapshot(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(snapshots.insert(), dict(values))


def snapshot(conn: Connection, snapshot_id: uuid.UUID) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(snapshots).where(snapshots.c.snapshot_id == snapshot_id)
    ).one_or_none()


def listed(conn: Connection) -> list[sa.Row[Any]]:
    """Every snapshot but its content, newest first (ids are time-ordered: ties of the
    same second fall in creation order too)."""
    columns = [c for c in snapshots.c if c.name != "content"]
    query = (
        sa.select(*columns)
        .order_by(snapshots.c.created_at.desc(), snapshots.c.snapshot_id.desc())
        .limit(LIST_LIMIT)
    )
    return list(conn.execute(query))


def stamp(created_at: datetime) -> datetime:
    """Snapshot times are kept to the second: the instant every document of it carries."""
    return created_at.replace(microsecond=0)
