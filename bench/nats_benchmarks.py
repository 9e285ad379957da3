"""Plumbing benchmarks against a real nats-server: projection throughput and the outbox relay.

Each measures the shared plumbing as the services use it (``EventConsumer`` with the reporting
service's own handlers and migrations; ``OutboxRelay`` over a ``SqliteDatabase``) against raw
nats-py doing the same messaging work on the same server with the same settings, in the same run.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from pathlib import Path
from typing import Any

from bench.common import DEPLOY_SETTINGS, Stack, nats_connect, ratio, run_async
from bench.programme import programme_run
from bench.sizes import Sizes
from bench.workload import programme_events
from trainops_shared.broker import ensure_streams, stream_config
from trainops_shared.events import Event, ParticipantRegistered, encode_event
from trainops_shared.events.streams import REGISTRATION, StreamSpec
from trainops_shared.outbox import OutboxRelay, count_unsent, record_events
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS


def projection(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    run = programme_run(workdir.parent, sizes)
    if "error" in run.store:
        return {"error": f"filling the programme store failed: {run.store['error']}", **run.store}
    raw = run.raw_pull
    projected = run.projection
    r = ratio(projected.get("events_per_s"), raw.get("events_per_s"))
    rebuild = run.rebuild
    return {
        "what": (
            "events/s the reporting projection (EventConsumer + reporting handlers, SQLite "
            "synchronous=FULL, in-process) applies from a JetStream backlog, vs raw nats-py "
            "fetch(500)+ack of the same messages; and a full rebuild of the read model by the "
            "reporting service process"
        ),
        "store": run.store,
        "backlog_events": min(sizes.projection_backlog, run.store["events"]),
        "backlog_note": (
            "the first backlog_events messages of the programme store (three streams, one "
            "durable consumer each, consumed concurrently as the service does)"
        ),
        "units": {"rate": "events/s", "time": "s"},
        "baseline_raw_pull_ack": raw,
        "projection": projected,
        "ratio_to_baseline": r,
        "rebuild": rebuild,
        "target": "projection >= 0.5 x raw pull consume; rebuild of 1M events < 60 s",
        "target_met": {
            "throughput": bool(r and r >= 0.5),
            "rebuild_1m_under_60s": (
                bool(rebuild.get("completed") and rebuild.get("rebuild_s", 1e9) < 60)
                if sizes.programme_events >= 1_000_000
                else None
            ),
        },
    }


async def _relay_run(
    url: str, db_path: Path, payload_events: list[Event], deadline_s: float
) -> dict[str, Any]:
    """Fill an outbox with the backlog, start OutboxRelay, and wait until every row is marked
    sent (the completion condition) or ``deadline_s`` passes (then ``completed`` is false)."""
    n = len(payload_events)
    db = SqliteDatabase(f"sqlite+aiosqlite:///{db_path}")
    await db.start([PLUMBING_MIGRATIONS])
    nc = await nats_connect(url)
    js = nc.jetstream(timeout=30)
    await ensure_streams(js, [REGISTRATION])
    stored_before = (await js.stream_info(REGISTRATION.name)).state.messages
    chunk = 5_000
    t0 = time.perf_counter()
    for i in range(0, n, chunk):
        part = payload_events[i : i + chunk]
        await db.write(functools.partial(record_events, events=part))
    insert_s = time.perf_counter() - t0
    relay = OutboxRelay(db, url, name="bench")
    completed = False
    unsent = n
    progress: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    await relay.start()
    try:
        while True:
            unsent = await db.read(count_unsent)
            now = time.perf_counter() - t0
            if not progress or now - progress[-1][0] >= 1.0:
                progress.append((round(now, 2), n - unsent))
            if unsent == 0:
                completed = True
                break
            if now > deadline_s:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - t0
        # The relay counts a batch right after marking it sent: let it finish that bookkeeping
        # rather than cancel it in between.
        settle = time.monotonic() + 5.0
        while relay.published < n - unsent and time.monotonic() < settle:  # noqa: ASYNC110 - polls a counter
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
        marked = n - await db.read(count_unsent)
        stored = (await js.stream_info(REGISTRATION.name)).state.messages - stored_before
        await db.close()
        await nc.close()
    return {
        "insert_s": round(insert_s, 3),
        "elapsed_s": round(elapsed, 3),
        "deadline_s": round(deadline_s, 1),
        "completed": completed,
        "published": marked,
        "relay_counter": relay.published,
        "stream_messages_added": stored,
        "rows_per_s": round((n - unsent) / elapsed, 1) if elapsed else None,
        "progress_rows": progress[-20:],
        "note": None if completed else "deadline hit: rows_per_s is over the rows marked sent",
    }


async def _raw_publish(url: str, payload_events: list[Event]) -> dict[str, Any]:
    """Raw ``publish_async`` of the same payloads to a stream of the same configuration."""
    nc = await nats_connect(url)
    spec = StreamSpec("BENCHRAW", "benchraw")
    js = nc.jetstream(timeout=30)
    await js.add_stream(stream_config(spec))
    payloads = [(f"benchraw.{e.subject}", encode_event(e), str(e.event_id)) for e in payload_events]
    t0 = time.perf_counter()
    for subject, payload, event_id in payloads:
        await js.publish_async(
            subject, payload, stream=spec.name, headers={"Nats-Msg-Id": event_id}
        )
    await js.publish_async_completed()
    elapsed = time.perf_counter() - t0
    info = await js.stream_info(spec.name)
    await nc.close()
    return {
        "elapsed_s": round(elapsed, 3),
        "stored": info.state.messages,
        "msgs_per_s": round(len(payloads) / elapsed, 1),
        "max_pending": 4000,
    }


def relay_payloads(n: int) -> list[Event]:
    """``n`` ParticipantRegistered events of the programme workload (what a relay publishes)."""
    source = (e for e in programme_events(n * 4, seed=3) if isinstance(e, ParticipantRegistered))
    events: list[Event] = list(itertools.islice(source, n))
    if len(events) < n:
        raise RuntimeError(f"the workload yielded {len(events)} registrations, {n} wanted")
    return events


def relay(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    stack = Stack(workdir)
    try:
        nats = stack.nats("relay")
        payload_events = relay_payloads(sizes.relay_backlog)
        raw = run_async(lambda: _raw_publish(nats.url, payload_events))
        deadline = max(sizes.relay_min_deadline_s, 10 * raw["elapsed_s"])
        relayed = run_async(
            lambda: _relay_run(nats.url, workdir / "relay.db", payload_events, deadline)
        )
        r = ratio(relayed["rows_per_s"], raw["msgs_per_s"])
        return {
            "what": (
                "outbox rows published and marked sent per second by OutboxRelay (SQLite "
                "synchronous=FULL) from a backlog, vs raw nats-py publish_async of the same "
                "payloads (Nats-Msg-Id headers, all PubAcks awaited) to a same-config stream"
            ),
            "method": (
                "baseline first, then the relay on the same server; the relay is timed until "
                "every outbox row is marked sent (deadline: max(relay_min_deadline_s, 10 x the "
                "baseline's time)); `completed` says whether it got there"
            ),
            "nats_settings": DEPLOY_SETTINGS,
            "backlog_rows": len(payload_events),
            "units": {"rate": "rows/s (messages/s)", "time": "s"},
            "baseline_raw_publish_async": raw,
            "relay": relayed,
            "completed": relayed["completed"],
            "ratio_to_baseline": r,
            "target": "relay >= 0.5 x raw publish_async",
            "target_met": bool(r and r >= 0.5),
        }
    finally:
        stack.close()
