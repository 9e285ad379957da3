"""One JetStream store holding a whole programme's events, shared by three benchmarks.

The store is filled once per run (``Sizes.programme_events``: 1M in the full run) on a
nats-server started with the set-up-only settings (no fsync per message: publishing 1M events at
``sync_interval: always`` alone takes ~7 minutes here), then the server is restarted on the same
store with the deploy config, and everything below is measured on those deploy settings:

1. ``baseline_raw_pull_ack``: raw nats-py pull-consume-and-ack of the first
   ``projection_backlog`` messages (durable consumer ``bench_raw``, deleted afterwards);
2. ``projection``: the reporting service's ``EventConsumer`` and handlers in-process (SQLite
   ``synchronous=FULL``) applying the same number of messages from the same store (durable
   ``bench_projection``, deleted afterwards), within a time budget;
3. ``rebuild``: the reporting service as a process on an empty database, catching up on every
   event, within a time budget; then the other three services, and every service's RSS.

The rebuilt reporting database is left for ``report_query`` (which tops it up to its size).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.common import (
    DEPLOY_SETTINGS,
    FILL_SETTINGS,
    Stack,
    fill_streams,
    nats_connect,
    restore_deploy_settings,
    rss_mb,
    run_async,
    stream_totals,
)
from bench.sizes import Sizes
from bench.workload import programme_events
from trainops_shared.broker import declare_all_streams
from trainops_shared.events.streams import FEEDBACK, REGISTRATION, SCHEDULING, StreamSpec
from trainops_shared.inbox import EventConsumer
from trainops_shared.storage import SqliteDatabase
from trainops_shared.tables import PLUMBING_MIGRATIONS

STREAMS = (SCHEDULING, REGISTRATION, FEEDBACK)
CONSUMES = {
    "reporting": (SCHEDULING, REGISTRATION, FEEDBACK),
    "feedback": (SCHEDULING, REGISTRATION),
    "registration": (SCHEDULING,),
    "scheduling": (REGISTRATION,),
}


def error_of(exc: BaseException) -> dict[str, Any]:
    return {
        "error": f"{type(exc).__name__}: {exc}",
        "trace": traceback.format_exc(limit=8),
    }


@dataclass
class ProgrammeRun:
    """What the shared programme run measured (each part a dict, or ``{"error": ...}``)."""

    store: dict[str, Any] = field(default_factory=dict)
    raw_pull: dict[str, Any] = field(default_factory=dict)
    projection: dict[str, Any] = field(default_factory=dict)
    rebuild: dict[str, Any] = field(default_factory=dict)
    reporting_db: Path | None = None
    """The rebuilt reporting database (``None`` when the rebuild did not run)."""


_CACHE: dict[tuple[Path, str], ProgrammeRun] = {}


async def _delete_consumers(url: str, durable: str, specs: tuple[StreamSpec, ...]) -> None:
    nc = await nats_connect(url)
    try:
        js = nc.jetstream()
        for spec in specs:
            with contextlib.suppress(Exception):  # absent already: nothing to free
                await js.delete_consumer(spec.name, durable)
    finally:
        await nc.close()


async def raw_pull(url: str, expected: int, budget_s: float, batch: int = 500) -> dict[str, Any]:
    """Raw nats-py pull-consume-and-ack of ``expected`` messages from the three streams (one
    durable pull consumer and loop per stream, like ``EventConsumer``)."""
    nc = await nats_connect(url)
    js = nc.jetstream()
    received = 0
    done = asyncio.Event()

    async def loop(spec: StreamSpec) -> None:
        nonlocal received
        sub = await js.pull_subscribe(
            f"{spec.context}.>",
            durable="bench_raw",
            stream=spec.name,
            config=ConsumerConfig(
                durable_name="bench_raw",
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                max_ack_pending=20_000,
            ),
        )
        while not done.is_set():
            try:
                msgs = await sub.fetch(min(batch, max(1, expected - received)), timeout=0.5)
            except TimeoutError:
                continue
            await asyncio.gather(*(m.ack() for m in msgs))
            received += len(msgs)
            if received >= expected:
                done.set()

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(loop(s)) for s in STREAMS]
    completed = True
    try:
        try:
            await asyncio.wait_for(done.wait(), budget_s)
        except TimeoutError:
            completed = False
        elapsed = time.perf_counter() - t0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()
    await _delete_consumers(url, "bench_raw", STREAMS)
    return {
        "what": "nats-py pull_subscribe + fetch(500) + ack of each message, one loop per stream",
        "messages": received,
        "elapsed_s": round(elapsed, 3),
        "completed": completed,
        "events_per_s": round(received / elapsed, 1) if elapsed else None,
    }


def _dump(directory: Path, loop_profile: cProfile.Profile, writer: cProfile.Profile) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    loop_profile.dump_stats(directory / "event_loop.prof")
    writer.dump_stats(directory / "writer_thread.prof")


async def project(
    url: str,
    db_path: Path,
    expected: int,
    budget_s: float,
    *,
    paced: bool = True,
    profiles: Path | None = None,
) -> dict[str, Any]:
    """The reporting service's EventConsumer in-process until ``expected`` are applied, with the
    service's stream pacing (or, without ``paced``, every stream read at its own pace); with
    ``profiles``, cProfile of the event loop and of the writer thread written there."""
    from trainops_reporting.adapters.migrations import MIGRATIONS
    from trainops_reporting.domain.projection import CATCH_UP_BATCH, STREAM_ORDER
    from trainops_reporting.handlers.batches import apply_batch
    from trainops_reporting.handlers.events import EVENT_HANDLERS

    db = SqliteDatabase(f"sqlite+aiosqlite:///{db_path}")
    await db.start([PLUMBING_MIGRATIONS, MIGRATIONS])
    consumer = EventConsumer(
        service="bench_projection",
        db=db,
        handlers=EVENT_HANDLERS,
        batch_handler=apply_batch,
        stream_order=STREAM_ORDER if paced else (),
        catch_up_batch_size=CATCH_UP_BATCH if paced else None,
    )
    loop_profile, writer_profile = cProfile.Profile(), cProfile.Profile()
    if profiles is not None:
        # A cProfile profiles the thread that enables it: one write runs in the writer thread.
        await db.write(lambda _conn: writer_profile.enable())
        loop_profile.enable()
    nc = await nats_connect(url)
    t0 = time.perf_counter()
    await consumer.start(nc)
    deadline = t0 + budget_s
    try:
        while consumer.applied + consumer.dead_lettered < expected:
            if time.perf_counter() > deadline:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - t0
        applied = consumer.applied
    finally:
        await consumer.stop()
        if profiles is not None:
            loop_profile.disable()
            await db.write(lambda _conn: writer_profile.disable())
            await asyncio.to_thread(_dump, profiles, loop_profile, writer_profile)
        await db.close()
        await nc.close()
        await _delete_consumers(url, "bench_projection", STREAMS)
    completed = applied + consumer.dead_lettered >= expected
    return {
        "what": (
            "EventConsumer (trainops_shared.inbox) with the reporting service's batch handler "
            "(set-based, per-event handlers as fallback) and migrations, in-process, SQLite "
            "synchronous=FULL, empty database"
        ),
        "events_wanted": expected,
        "elapsed_s": round(elapsed, 3),
        "applied": applied,
        "dead_lettered": consumer.dead_lettered,
        "retried": consumer.retried,
        "paced": paced,
        "time_budget_s": budget_s,
        "completed": completed,
        "events_per_s": round(applied / elapsed, 1) if elapsed else None,
        "note": (
            None
            if completed
            else "time budget hit: events_per_s is over the events applied within the budget"
        ),
    }


async def _backlog(url: str, service: str) -> int | None:
    """Messages the service's durable consumers still have to deliver or get acked."""
    nc = await nats_connect(url)
    js = nc.jetstream()
    left = 0
    try:
        for spec in CONSUMES[service]:
            try:
                info = await js.consumer_info(spec.name, service)
            except Exception:  # not created yet
                return None
            left += (info.num_pending or 0) + (info.num_ack_pending or 0)
    finally:
        await nc.close()
    return left


def wait_drained(url: str, service: str, timeout: float) -> tuple[bool, float]:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        left = run_async(lambda: _backlog(url, service))
        if left == 0:
            return True, time.perf_counter() - t0
        time.sleep(0.25)
    return False, time.perf_counter() - t0


def _rebuild(stack: Stack, url: str, count: int, sizes: Sizes) -> dict[str, Any]:
    budget = sizes.rebuild_budget_s
    t0 = time.perf_counter()
    reporting = stack.service("reporting", nats_url=url, tag="-rebuild")
    ready_s = time.perf_counter() - t0
    done, _ = wait_drained(url, "reporting", budget)
    rebuild_s = time.perf_counter() - t0
    result: dict[str, Any] = {
        "what": (
            "reporting service process (SQLite synchronous=FULL) started on an empty "
            "database with every event already in JetStream; time from process start until "
            "its durable consumers have nothing pending or unacked"
        ),
        "events": count,
        "service_start_s": round(ready_s, 2),
        "rebuild_s": round(rebuild_s, 2),
        "time_budget_s": budget,
        "completed": done,
        "events_per_s": round(count / rebuild_s, 1) if done else None,
    }
    if not done:
        left = run_async(lambda: _backlog(url, "reporting"))
        applied = count - left if left is not None else 0
        result["applied_within_budget"] = applied
        result["events_per_s"] = round(applied / rebuild_s, 1)
        result["projected_full_rebuild_s"] = (
            round(count / (applied / rebuild_s), 1) if applied > 0 else None
        )
        result["note"] = "time budget hit: the figures are over the events applied within it"
    rss: dict[str, float | None] = {"reporting": rss_mb(reporting.pid)}
    try:
        others = {
            name: stack.service(name, nats_url=url, tag="-rebuild", wait=False)
            for name in ("registration", "scheduling", "feedback")
        }
        stack.ready(list(others.values()))
        catch_up: dict[str, Any] = {}
        deadline = time.perf_counter() + sizes.others_catch_up_budget_s
        for name in ("registration", "feedback"):
            ok, seconds = wait_drained(url, name, max(0.5, deadline - time.perf_counter()))
            catch_up[name] = {"completed": ok, "s": round(seconds, 2)}
        result["other_services_catch_up"] = {
            "what": (
                "the other services started (in parallel) after the rebuild, on the same "
                "store; time for their own consumers to catch up, within one shared budget"
            ),
            "time_budget_s": sizes.others_catch_up_budget_s,
            **catch_up,
        }
        rss["reporting"] = rss_mb(reporting.pid)
        rss.update({name: rss_mb(p.pid) for name, p in others.items()})
    except Exception as exc:
        result["other_services_catch_up"] = error_of(exc)
    result["rss_mb"] = rss
    return result


def programme_run(root: Path, sizes: Sizes) -> ProgrammeRun:
    """Fill the store, measure raw pull, in-process projection and the rebuild (cached per run:
    projection, footprint and report_query share it)."""
    key = (root, sizes.mode)
    if key in _CACHE:
        return _CACHE[key]
    run = ProgrammeRun()
    _CACHE[key] = run
    workdir = root / "programme"
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir)
    try:
        try:
            nats = stack.nats("programme", fill_settings=True)
            run_async(lambda: declare_all_streams(nats.url, STREAMS))
            t0 = time.perf_counter()
            count = run_async(
                lambda: fill_streams(
                    nats.url, programme_events(sizes.programme_events, seed=2), STREAMS
                )
            )
            fill_s = time.perf_counter() - t0
            restart_s = restore_deploy_settings(nats)
            totals = run_async(lambda: stream_totals(nats.url, STREAMS))
        except Exception as exc:
            run.store = error_of(exc)
            return run
        run.store = {
            "events": count,
            "stream_messages": totals,
            "fill_s": round(fill_s, 2),
            "fill_settings": FILL_SETTINGS,
            "restart_with_deploy_settings_s": round(restart_s, 2),
            "measured_on": DEPLOY_SETTINGS,
        }
        backlog = min(sizes.projection_backlog, count)
        try:
            run.raw_pull = run_async(lambda: raw_pull(nats.url, backlog, budget_s=120.0))
        except Exception as exc:
            run.raw_pull = error_of(exc)
        try:
            run.projection = run_async(
                lambda: project(
                    nats.url, workdir / "projection.db", backlog, sizes.projection_budget_s
                )
            )
        except Exception as exc:
            run.projection = error_of(exc)
        try:
            run.rebuild = _rebuild(stack, nats.url, count, sizes)
            run.reporting_db = workdir / "reporting-rebuild.db"
        except Exception as exc:
            run.rebuild = error_of(exc)
    finally:
        stack.close()
    return run


def cached_programme_run(root: Path, sizes: Sizes) -> ProgrammeRun | None:
    """The programme run of this run if one happened already (never starts one)."""
    return _CACHE.get((root, sizes.mode))
