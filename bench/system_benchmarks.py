"""Whole-service benchmarks: report queries over a large read model, and footprint."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from bench.common import Stack, loadgen, rss_mb, token
from bench.programme import cached_programme_run, programme_run
from bench.sizes import Sizes
from bench.workload import CITIES, YEAR_START, Profile, session_scheduled
from trainops_devtools.testing.ports import free_port, port_is_free
from trainops_shared.events import AttendanceRecorded, ParticipantRegistered, TrainingDefined
from trainops_shared.events.vocabulary import AGE_BANDS, LANGUAGES, SECTORS, SEXES
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, processed_events

SESSIONS_PER_TRANSACTION = 20


def _fill_read_model(db_path: Path, registrations: int, budget: float) -> dict[str, Any]:
    """Add ``registrations`` to the reporting database through the reporting service's own
    migrations and event handlers (no NATS), in big transactions, until the time budget: sessions
    of 250 registrations with profiles (35 % returning participants), 70 % attendance."""
    from trainops_reporting.adapters.migrations import MIGRATIONS
    from trainops_reporting.handlers.events import EVENT_HANDLERS

    engine = sa.create_engine(f"sqlite:///{db_path}")

    @sa_event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # set-up only; the service reopens with FULL
        cur.close()

    rng = random.Random(11)
    trainings = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(6)]
    per_session = 250
    pool: list[Profile] = []
    t0 = time.perf_counter()
    handler_calls = 0
    made = 0
    sessions = 0

    def new_person() -> Profile:
        person = Profile(
            uuid.UUID(int=rng.getrandbits(128), version=4),
            rng.choice(CITIES),
            rng.choice(SECTORS),
            rng.choice(SEXES),
            rng.choice(AGE_BANDS),
            rng.choice(LANGUAGES),
        )
        pool.append(person)
        if len(pool) > 100_000:
            pool.pop(rng.randrange(len(pool)))
        return person

    def one_session(conn: sa.Connection) -> int:
        nonlocal sessions
        sid = uuid.UUID(int=rng.getrandbits(128), version=4)
        session = session_scheduled(
            sid, rng.choice(trainings), YEAR_START + timedelta(hours=9 * sessions), capacity=400
        )
        sessions += 1
        EVENT_HANDLERS[type(session)](conn, session)
        calls = 1
        for _ in range(min(per_session, registrations - made)):
            person = rng.choice(pool) if pool and rng.random() < 0.35 else new_person()
            rid = uuid.UUID(int=rng.getrandbits(128), version=4)
            EVENT_HANDLERS[ParticipantRegistered](
                conn,
                ParticipantRegistered(
                    aggregate_id=rid,
                    registration_id=rid,
                    session_id=sid,
                    participant_id=person.participant_id,
                    status="confirmed",
                    profile=person.event_profile(),
                ),
            )
            calls += 1
            if rng.random() < 0.7:
                EVENT_HANDLERS[AttendanceRecorded](
                    conn,
                    AttendanceRecorded(
                        aggregate_id=rid,
                        aggregate_version=2,
                        registration_id=rid,
                        session_id=sid,
                        participant_id=person.participant_id,
                        attended=True,
                        language=person.language,
                    ),
                )
                calls += 1
        return calls

    with engine.connect() as conn:
        with conn.begin():
            apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
            for i, training in enumerate(trainings):
                EVENT_HANDLERS[TrainingDefined](
                    conn,
                    TrainingDefined(
                        aggregate_id=training,
                        training_id=training,
                        code=f"B{i + 1}",
                        title={"en": f"Bench training {i + 1}"},
                    ),
                )
                handler_calls += 1
        while made < registrations and time.perf_counter() - t0 <= budget:
            with conn.begin():
                for _ in range(SESSIONS_PER_TRANSACTION):
                    if made >= registrations or time.perf_counter() - t0 > budget:
                        break
                    before = made
                    handler_calls += one_session(conn)
                    made = before + min(per_session, registrations - before)
    engine.dispose()
    return {
        "registrations_added": made,
        "registrations_wanted": registrations,
        "time_budget_s": budget,
        "completed": made >= registrations,
        "sessions": sessions,
        "handler_calls": handler_calls,
        "fill_s": round(time.perf_counter() - t0, 2),
    }


def _registered_in(db_path: Path) -> int:
    """ParticipantRegistered events the reporting consumer applied to this database."""
    engine = sa.create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(processed_events)
                .where(processed_events.c.subject == ParticipantRegistered.type_name())
            ).scalar_one()
    finally:
        engine.dispose()
    return int(count)


def report_query(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Donor report latency over a read model of ``query_registrations`` registrations: the
    rebuilt reporting database of the programme run when there is one (it already holds that
    programme's registrations), topped up through the reporting handlers within a budget."""
    wanted = sizes.query_registrations
    run = cached_programme_run(workdir.parent, sizes)
    db_path = workdir / "reporting-query.db"
    from_rebuild = 0
    if run is not None and run.reporting_db is not None and run.reporting_db.exists():
        db_path = run.reporting_db
        from_rebuild = _registered_in(db_path)
    fill = _fill_read_model(db_path, max(0, wanted - from_rebuild), sizes.query_fill_budget_s)
    stack = Stack(workdir)
    try:
        nats = stack.nats("report-query")
        reporting = stack.service(
            "reporting", nats_url=nats.url, database_url=f"sqlite+aiosqlite:///{db_path}"
        )
        auth = {"Authorization": f"Bearer {token('reporting')}"}
        summary = httpx.get(f"{reporting.url}/reports/summary", headers=auth, timeout=60)
        summary.raise_for_status()
        base = "/reports/donor?by=city,sector"
        spec = {"mode": "sequential", "host": "127.0.0.1", "port": reporting.port, "headers": auth}
        cold = loadgen(
            {**spec, "paths": [f"{base}&k={5 + i}" for i in range(sizes.query_cold_requests)]}
        )
        warm = loadgen({**spec, "paths": [base] * sizes.query_warm_requests})
        from bench.loadgen import percentiles

        statuses = {r["status"] for r in cold["results"] + warm["results"]}
        cold_ms = [r["ms"] for r in cold["results"]]
        warm_ms = [r["ms"] for r in warm["results"][1:]]
        warm_p = percentiles(warm_ms)
        cold_p = percentiles(cold_ms)
        registered = from_rebuild + fill["registrations_added"]
        return {
            "what": (
                "GET /reports/donor?by=city,sector, sequential requests on one keep-alive "
                "connection from a separate process, reporting service process on SQLite"
            ),
            "read_model": {
                "registrations": registered,
                "registrations_wanted": wanted,
                "size_reached": registered >= wanted,
                "summary_participants_registered": summary.json().get("registered"),
                "from_rebuild": {
                    "registrations": from_rebuild,
                    "what": (
                        "the reporting database rebuilt from the programme store by the "
                        "reporting service (see projection.rebuild); 0 when that did not run"
                    ),
                },
                "top_up": {
                    "filled_by": (
                        "the reporting service's own migrations and projection handlers "
                        "(trainops_reporting.handlers.events.EVENT_HANDLERS) called in batched "
                        "transactions on the service's database, without NATS; set-up only "
                        "with synchronous=NORMAL (the service runs with FULL)"
                    ),
                    **fill,
                },
            },
            "units": {"latency": "ms"},
            "http_statuses": sorted(statuses),
            "response_bytes": warm["results"][0]["bytes"] if warm["results"] else None,
            "cold": {
                "what": "a different k per request: report cache miss, the query runs",
                "requests": len(cold_ms),
                "latency_ms": cold_p,
            },
            "warm": {
                "what": "the same request repeated on an unchanged read model (cache hits)",
                "requests": len(warm_ms),
                "latency_ms": warm_p,
            },
            "target": "p95 < 20 ms at 1M registrations",
            "target_met": {
                "size_reached": registered >= 1_000_000,
                "warm": bool(warm_p["p95"] is not None and warm_p["p95"] < 20),
                "cold": bool(cold_p["p95"] is not None and cold_p["p95"] < 20),
            },
        }
    finally:
        stack.close()


def _up_ready_time(workdir: Path) -> dict[str, Any]:
    from trainops_devtools.supervisor import run_system

    base = None
    for _ in range(50):
        candidate = random.randint(20_000, 40_000)
        if all(port_is_free(candidate + i) for i in range(4)):
            base = candidate
            break
    if base is None:
        raise RuntimeError("no 4 consecutive free ports found")
    t0 = time.perf_counter()
    with run_system(
        data_dir=workdir / "up", base_port=base, nats_port=free_port(), ready_timeout=60
    ) as system:
        ready_s = time.perf_counter() - t0
        rss = {name: rss_mb(p.pid) for name, p in system.services.items()}
    return {
        "what": (
            "trainops_devtools.supervisor.run_system (what `trainops up` runs): own nats-server, "
            "four service processes on SQLite, until every /ready answers 200; clean data dir"
        ),
        "ready_s": round(ready_s, 2),
        "rss_mb_idle": rss,
    }


def footprint(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    result: dict[str, Any] = {"units": {"rss": "MB (VmRSS)", "time": "s"}}
    try:
        up = _up_ready_time(workdir)
        result["trainops_up"] = up
    except Exception as exc:
        up = None
        result["trainops_up"] = {"error": f"{type(exc).__name__}: {exc}"}
    run = programme_run(workdir.parent, sizes)
    rebuild = run.rebuild
    rss = rebuild.get("rss_mb") or {}
    result["after_rebuild"] = {
        "events": run.store.get("events"),
        "rebuild_completed": rebuild.get("completed"),
        "rss_mb": rss,
        "note": "the rebuild of projection.rebuild (one per run)",
        **({"error": rebuild["error"]} if "error" in rebuild else {}),
    }
    result["target"] = "each service < 150 MB RSS after the rebuild; trainops up ready < 5 s"
    result["target_met"] = {
        "rss_under_150mb": bool(rss) and all(v is not None and v < 150 for v in rss.values()),
        "up_under_5s": up is not None and up["ready_s"] < 5,
    }
    return result
