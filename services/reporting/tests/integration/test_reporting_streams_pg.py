"""The projection on a real database (SQLite file and PostgreSQL, whose upserts are spelled per
dialect) through the service's own ``Database``, one write transaction per delivery as the
consumer runs its batches: shuffled delivery with retries and re-publications ends in the rows an
in-order delivery into in-memory SQLite gives.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import partial

import pytest
from reporting_streams import (
    deliver,
    deliver_in_batches,
    empty_read_model,
    random_stream,
    read_model,
    redeliveries,
)

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.report_queries import finest_cells
from trainops_reporting.domain.disclosure.universe import FinestCell
from trainops_shared.events import Event
from trainops_shared.storage import open_database

pytestmark = pytest.mark.integration


def _canonical(model: dict[str, list[tuple[object, ...]]]) -> dict[str, list[str]]:
    """Rows as text: PostgreSQL hands back timestamps with their zone, SQLite without."""
    return {
        name: sorted(repr(tuple(str(v) for v in row)) for row in rows)
        for name, rows in model.items()
    }


def _in_order(events: Sequence[Event]) -> tuple[dict[str, list[str]], list[FinestCell]]:
    """What in-order delivery into in-memory SQLite gives."""
    with empty_read_model() as conn:
        with conn.begin():
            deliver(conn, events)
        return _canonical(read_model(conn)), finest_cells(conn)


async def test_shuffled_delivery_on_a_real_database_matches_in_order(database_url: str) -> None:
    programme, _ = random_stream(seed=42, size=300)
    expected = _in_order(programme.events)

    rng = random.Random(42)
    db = open_database(database_url)
    await db.start([MIGRATIONS])
    try:
        half = len(programme.events) // 2
        await db.write(partial(deliver, events=programme.events[:half]))
        rest = programme.events[half:] + redeliveries(programme, rng)
        await db.write(partial(deliver, events=rest, rng=rng))
        model = await db.read(read_model)
        cells = await db.read(finest_cells)
    finally:
        await db.close()
    assert (_canonical(model), cells) == expected


async def test_shuffled_batches_on_a_real_database_match_in_order(database_url: str) -> None:
    """The set-based batch path (``handlers.batches``): its IN-list reads and executemany writes
    on each backend end in the per-event handlers' rows."""
    programme, _ = random_stream(seed=43, size=400)
    expected = _in_order(programme.events)

    rng = random.Random(43)
    shuffled = list(programme.events)
    rng.shuffle(shuffled)
    db = open_database(database_url)
    await db.start([MIGRATIONS])
    try:
        waited = await db.write(partial(deliver_in_batches, events=shuffled, rng=rng))
        model = await db.read(read_model)
        cells = await db.read(finest_cells)
    finally:
        await db.close()
    assert waited > 0
    assert (_canonical(model), cells) == expected
