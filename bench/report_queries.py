"""Report latency over a large read model: fill by projection, then time the reports.

Usage (from the repository root)::

    .venv/bin/python -m bench.report_queries fill-sqlite /tmp/rep.db 1000000
    .venv/bin/python -m bench.report_queries copy-to-postgres /tmp/rep.db URL
    .venv/bin/python -m bench.report_queries time sqlite+aiosqlite:////tmp/rep.db
    .venv/bin/python -m bench.report_queries http sqlite+aiosqlite:////tmp/rep.db

``fill-sqlite`` runs the projection handlers over ``bench.workload.programme_events`` (realistic
programmes: returning participants, cancellations, attendance, feedback) in transactions of
20 000 events, until the requested number of registrations is projected. ``copy-to-postgres``
copies the projected tables as they are (the projection is deterministic; pushing 2.3 M events
one statement at a time through asyncpg's ``run_sync`` would take hours), then ``ANALYZE``.
``time`` reads through the service's own ``Database.read`` (what the HTTP handler awaits) with
no report cache (the cache lives in the controller and is never touched here), 200 runs each.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.workload import programme_events
from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.adapters.report_cache import PatternCache
from trainops_reporting.adapters.report_queries import finest_cells
from trainops_reporting.adapters.tables import READ_MODEL_TABLES, facts
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_reporting.handlers.reports import ReportRequest, donor_report, summary_report
from trainops_shared.events import Event, ParticipantRegistered
from trainops_shared.storage import apply_migrations, open_database


def _until(registrations: int) -> Iterator[Event]:
    """Producer-order events until ``registrations`` registrations (then the session's end)."""
    seen = 0
    for event in programme_events(10**9):
        if isinstance(event, ParticipantRegistered):
            if seen >= registrations:
                return
            seen += 1
        yield event


def fill_sqlite(path: str, registrations: int) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-400000"):
            conn.exec_driver_sql(f"PRAGMA {pragma}")
        conn.commit()
        with conn.begin():
            apply_migrations(conn, [MIGRATIONS])
        started = time.perf_counter()
        count = 0
        tx = conn.begin()
        for event in _until(registrations):
            EVENT_HANDLERS[type(event)](conn, event)
            count += 1
            if count % 20_000 == 0:
                tx.commit()
                tx = conn.begin()
                rate = count / (time.perf_counter() - started)
                print(f"{count} events, {rate:.0f} events/s", flush=True)
        tx.commit()
        conn.exec_driver_sql("ANALYZE")
        elapsed = time.perf_counter() - started
        rows = conn.execute(sa.select(sa.func.count()).select_from(facts)).scalar_one()
        print(f"done: {count} events, {rows} facts in {elapsed:.0f} s ({count / elapsed:.0f}/s)")
    engine.dispose()


def _insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    conn.execute(table.insert(), rows)


async def copy_to_postgres(path: str, url: str) -> None:
    """Copy the projected tables into a fresh PostgreSQL database migrated by the service."""
    source = sa.create_engine(f"sqlite:///{path}")
    db = open_database(url)
    await db.start([MIGRATIONS])
    with source.connect() as src:
        for table in READ_MODEL_TABLES:
            result = src.execute(sa.select(table)).mappings()
            while chunk := result.fetchmany(50_000):
                rows = [dict(row) for row in chunk]
                await db.write(partial(_insert_rows, table=table, rows=rows))
            print(f"copied {table.name}", flush=True)
    await db.close()
    import asyncpg

    from trainops_devtools.testing.postgres import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")  # statistics, and the visibility map for index-only
    finally:
        await conn.close()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"n={len(samples)} p50={statistics.median(ordered) * 1000:.2f} ms "
        f"p95={p95 * 1000:.2f} ms max={ordered[-1] * 1000:.2f} ms"
    )


async def _time(db: Any, label: str, fn: Callable[[Any], Any], runs: int) -> None:
    await db.read(fn)  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await db.read(fn)
        samples.append(time.perf_counter() - started)
    print(f"{label:58s} {percentiles(samples)}", flush=True)


def _donor(patterns: PatternCache, by: tuple[str, ...], **kw: Any) -> Any:
    return partial(donor_report, request=ReportRequest(by=by, k=5, **kw), patterns=patterns)


async def time_reports(url: str, fact_runs: int) -> None:
    """Reports are cut from one disclosure pattern per generation: the first request of a
    generation pays for it (timed once here), every other one reads the cached pattern."""
    db = open_database(url)
    await db.start([MIGRATIONS])
    try:
        training = await db.read(lambda c: c.execute(sa.select(facts.c.training_id)).scalar())
        patterns = PatternCache(("all",))
        started = time.perf_counter()
        await db.read(partial(patterns.get, k=5))
        print(
            f"{'disclosure pattern (once per generation)':58s} "
            f"{(time.perf_counter() - started) * 1000:.0f} ms",
            flush=True,
        )
        by = ("city", "sex")
        cases: list[tuple[str, Callable[[Any], Any], int]] = [
            ("donor by=city,sex", _donor(patterns, by), 200),
            ("donor by=city training_id", _donor(patterns, ("city",), training_id=training), 200),
            ("donor by=city,training", _donor(patterns, ("city", "training")), 200),
            (
                "summary",
                partial(summary_report, request=ReportRequest(k=5), patterns=patterns),
                200,
            ),
        ]
        for label, fn, runs in cases:
            await _time(db, label, fn, runs)
        await _time(db, "finest cells (the aggregate under every pattern)", finest_cells, fact_runs)
    finally:
        await db.close()


async def time_http(url: str, runs: int = 200) -> None:
    """The same query through the app (Litestar + auth + JSON) in-process over ASGI, cache off."""
    import logging
    import os
    import tempfile

    from litestar.testing import AsyncTestClient

    from trainops_devtools.nats_server import NatsServer
    from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
    from trainops_reporting.app import build_spec
    from trainops_shared.service import create_app
    from trainops_shared.settings import load_settings

    logging.getLogger("httpx").setLevel(logging.WARNING)
    os.environ["TRAINOPS_REPORT_CACHE"] = "off"
    with tempfile.TemporaryDirectory() as tmp, NatsServer(store_dir=Path(tmp) / "nats") as nats:
        settings = load_settings(
            "reporting",
            {**TEST_JWT_ENV, "NATS_URL": nats.url, "DATABASE_URL": url, "TRAINOPS_DATA_DIR": tmp},
        )
        app = create_app(build_spec(settings), settings)
        token = token_for("reporting")
        headers = {"Authorization": f"Bearer {token}"}
        async with AsyncTestClient(app) as client:
            for path in ("/reports/donor?by=city,sex", "/reports/summary"):
                assert (await client.get(path, headers=headers)).status_code == 200
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    samples.append(time.perf_counter() - started)
                    assert response.status_code == 200
                print(f"HTTP GET {path:48s} {percentiles(samples)}", flush=True)


def main() -> None:
    command = sys.argv[1]
    if command == "fill-sqlite":
        fill_sqlite(sys.argv[2], int(sys.argv[3]))
    elif command == "copy-to-postgres":
        asyncio.run(copy_to_postgres(sys.argv[2], sys.argv[3]))
    elif command == "time":
        asyncio.run(time_reports(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 5))
    elif command == "http":
        asyncio.run(time_http(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
