"""The cube's exactness on PostgreSQL (its upserts are spelled per dialect) and on SQLite files.

The same oracle as ``unit/test_reporting_cube.py``, through the service's own ``Database`` (one
write transaction per delivery, as the consumer runs its batches).
"""

from __future__ import annotations

import random
from functools import partial

import pytest
from reporting_cube_check import assert_cube_exact, deliver, random_stream, redeliveries

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_shared.storage import open_database

pytestmark = pytest.mark.integration


async def test_cube_equals_facts_on_a_real_database(database_url: str) -> None:
    programme, trainings = random_stream(seed=42, size=300)
    rng = random.Random(42)
    db = open_database(database_url)
    await db.start([MIGRATIONS])
    try:
        half = len(programme.events) // 2
        await db.write(partial(deliver, events=programme.events[:half]))
        assert await db.read(partial(assert_cube_exact, trainings=trainings)) > 0
        rest = programme.events[half:] + redeliveries(programme, rng)
        await db.write(partial(deliver, events=rest, rng=rng))
        assert await db.read(partial(assert_cube_exact, trainings=trainings)) > 0
    finally:
        await db.close()
