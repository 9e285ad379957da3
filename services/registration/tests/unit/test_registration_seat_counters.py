"""The seat counters on the sessions copy always agree with the registrations table.

``sessions.confirmed_count`` / ``waitlisted_count`` / ``last_waitlist_position`` are kept by
every write path (register, cancel, promote, cascade cancel, CSV import) instead of counting the
registrations each time, so a single missed or doubled adjustment silently mis-seats people
from then on. These tests drive seeded random sequences of every use case and event through the
real handlers and, after each step, compare the counters with what counting the rows gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from seat_counters import (
    REJECTED,
    STEPS,
    Scenario,
    assert_exercised,
    counter_problems,
    sqlite_engine,
    tally,
)
from sqlalchemy.engine import Connection

from trainops_registration.adapters.migrations import MIGRATIONS
from trainops_shared.storage import apply_migrations, open_database
from trainops_shared.tables import PLUMBING_MIGRATIONS

# --------------------------------------------------------------------------------------------
# SQLite, handlers called directly


@pytest.fixture
def conn() -> Iterator[Connection]:
    """A migrated database; each test step commits (or rolls back) its own transaction."""
    engine = sqlite_engine()
    with engine.connect() as connection:
        with connection.begin():
            apply_migrations(connection, [PLUMBING_MIGRATIONS, MIGRATIONS])
        yield connection
    engine.dispose()


@pytest.mark.unit
@pytest.mark.parametrize("seed", [1, 2, 3, 17, 2024])
def test_counters_match_rows_after_random_sequences(conn: Connection, seed: int) -> None:
    scenario = Scenario(seed)
    outcomes: Counter[str] = Counter()
    for i in range(STEPS):
        kind, step = scenario.next_step()
        try:
            with conn.begin():  # a rejected step rolls back whole, as on the service's path
                tally(outcomes, kind, step(conn))
        except REJECTED:
            outcomes[f"{kind}:rejected"] += 1
        with conn.begin():
            problems = counter_problems(conn)
        assert not problems, f"seed {seed}, step {i} ({kind}): {problems}"
    assert_exercised(outcomes)


# --------------------------------------------------------------------------------------------
# Through trainops_shared.storage (SQLite group commit and PostgreSQL)


@pytest.mark.integration
async def test_counters_match_rows_through_storage(database_url: str) -> None:
    """The same random sequence through ``Database.write`` (one transaction per step, rolled
    back on a rejection), on SQLite and on PostgreSQL (row locks, savepoints around conflicts)."""
    db = open_database(database_url)
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    try:
        seed = 5
        scenario = Scenario(seed)
        outcomes: Counter[str] = Counter()
        for i in range(STEPS):
            kind, step = scenario.next_step()
            try:
                tally(outcomes, kind, await db.write(step))
            except REJECTED:
                outcomes[f"{kind}:rejected"] += 1
            problems = await db.read(counter_problems)
            assert not problems, f"{db.dialect} seed {seed}, step {i} ({kind}): {problems}"
        assert_exercised(outcomes)
    finally:
        await db.close()
