"""Benchmarks over HTTP against service processes: write path and event → report latency."""

from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    DEPLOY_SETTINGS,
    Stack,
    loadgen,
    probe_registration,
    publish_events,
    ratio,
    rss_mb,
    run_async,
    token,
    wait_port,
    wait_until,
)
from bench.sizes import Sizes
from bench.workload import CITIES, bench_sessions, registration_body_template
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.postgres import (
    DEFAULT_ADMIN_URL,
    check_server,
    create_database,
    drop_database,
)
from trainops_shared.events.vocabulary import SECTORS

CONNECTIONS = 64


def _post_spec(
    port: int, auth: str | None, sessions: list[str], duration: float, warmup: float
) -> dict[str, Any]:
    run = secrets.token_hex(4)
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    return {
        "mode": "closed",
        "host": "127.0.0.1",
        "port": port,
        "method": "POST",
        "path": "/registrations",
        "headers": headers,
        "body": registration_body_template(run),
        "choices": {"{s}": sessions, "{c}": list(CITIES), "{k}": list(SECTORS)},
        "connections": CONNECTIONS,
        "duration": duration,
        "warmup": warmup,
    }


def _feed_sessions(nats_url: str, service_url: str, n_sessions: int, tag: str) -> list[str]:
    """Publish ``n_sessions`` SessionScheduled events and wait (one probe registration per
    session) until the registration service has its copy of each."""
    sessions = bench_sessions(n_sessions)
    run_async(lambda: publish_events(nats_url, sessions))
    auth = token()
    for event in sessions:
        probe_registration(service_url, auth, str(event.session_id), tag, timeout=60)
    return [str(e.session_id) for e in sessions]


def write_path(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Bare endpoint, registration on SQLite and (full run) on PostgreSQL: all started in
    parallel first, then measured one at a time (the others idle), each stopped once measured."""
    duration, warmup = sizes.write_duration_s, sizes.write_warmup_s
    stack = Stack(workdir)
    result: dict[str, Any] = {
        "what": "POST /registrations, closed loop, keep-alive, unique participant per request",
        "load_generator": "bench.loadgen (asyncio raw-socket HTTP/1.1, separate process)",
        "connections": CONNECTIONS,
        "duration_s": duration,
        "warmup_s": warmup,
        "server": "uvicorn, 1 worker (uvloop + httptools), access log off",
        "nats_settings": DEPLOY_SETTINGS,
        "sessions": sizes.write_sessions,
        "method": (
            "the bare app and the service processes are started in parallel, then measured "
            "one after another (the others idle); each is stopped once measured"
        ),
        "units": {"req_per_s": "requests/s", "latency_ms": "ms"},
    }
    pg_name: str | None = None
    pg_url: str | None = None
    try:
        t0 = time.perf_counter()
        bare_port = free_port()
        bare = stack.popen([sys.executable, "-m", "bench.bare_app", str(bare_port)], "bare_app.log")
        nats_sqlite = stack.nats("write-sqlite")
        sqlite_svc = stack.service(
            "registration", nats_url=nats_sqlite.url, tag="-sqlite", wait=False
        )
        pg_svc = None
        nats_pg = None
        if not sizes.write_postgres:
            result["postgresql"] = {"skipped": f"not run in {sizes.mode} mode (full run only)"}
        else:
            problem = run_async(lambda: check_server(DEFAULT_ADMIN_URL))
            if problem is not None:
                result["postgresql"] = {
                    "skipped": f"no PostgreSQL at {DEFAULT_ADMIN_URL}: {problem}"
                }
            else:
                pg_name, pg_url = run_async(
                    lambda: create_database(
                        DEFAULT_ADMIN_URL, f"trainops_bench_{secrets.token_hex(4)}"
                    )
                )
                nats_pg = stack.nats("write-postgres")
                pg_svc = stack.service(
                    "registration",
                    nats_url=nats_pg.url,
                    database_url=pg_url,
                    tag="-postgres",
                    wait=False,
                )
        wait_port(bare_port, timeout=60)
        stack.ready([s for s in (sqlite_svc, pg_svc) if s is not None])
        sqlite_sessions = _feed_sessions(
            nats_sqlite.url, sqlite_svc.url, sizes.write_sessions, "sqlite"
        )
        pg_sessions = (
            _feed_sessions(nats_pg.url, pg_svc.url, sizes.write_sessions, "postgres")
            if pg_svc is not None and nats_pg is not None
            else []
        )
        result["setup_s"] = round(time.perf_counter() - t0, 2)

        dummy = [str(e.session_id) for e in bench_sessions(sizes.write_sessions)]
        try:
            result["baseline_bare_litestar"] = loadgen(
                _post_spec(bare_port, None, dummy, duration, warmup)
            )
        finally:
            bare.terminate()
            bare.wait(10)
        base_rps = result["baseline_bare_litestar"]["req_per_s"]

        try:
            figures = loadgen(
                _post_spec(sqlite_svc.port, token(), sqlite_sessions, duration, warmup)
            )
            result["sqlite"] = {
                "database": "SQLite WAL, synchronous=FULL, group commit (trainops_shared.storage)",
                **figures,
                "ratio_to_baseline": ratio(figures["req_per_s"], base_rps),
            }
        except Exception as exc:
            result["sqlite"] = {"error": f"{type(exc).__name__}: {exc}"}
        sqlite_svc.stop(timeout=5)

        if pg_svc is not None:
            try:
                figures = loadgen(_post_spec(pg_svc.port, token(), pg_sessions, duration, warmup))
                result["postgresql"] = {
                    "database": (
                        f"PostgreSQL on 127.0.0.1:5432, database {pg_name} (created, dropped)"
                    ),
                    **figures,
                    "ratio_to_baseline": ratio(figures["req_per_s"], base_rps),
                }
            except Exception as exc:
                result["postgresql"] = {"error": f"{type(exc).__name__}: {exc}"}
            pg_svc.stop(timeout=5)
            if nats_pg is not None and pg_url is not None:
                result["postgresql_workers"] = _postgres_workers(
                    stack, nats_pg.url, pg_url, pg_sessions, duration, warmup, base_rps
                )
        result["target"] = "service >= 0.5 x bare endpoint (SQLite synchronous=FULL)"
        sqlite_ratio = result.get("sqlite", {}).get("ratio_to_baseline")
        result["target_met"] = bool(sqlite_ratio and sqlite_ratio >= 0.5)
    finally:
        stack.close()
        if pg_name is not None:
            name = pg_name
            run_async(lambda: drop_database(DEFAULT_ADMIN_URL, name))
    return result


WORKERS = 2
"""Worker processes of the multi-worker PostgreSQL run: one per core of the 2-core machine."""


def _postgres_workers(
    stack: Stack,
    nats_url: str,
    database_url: str,
    sessions: list[str],
    duration: float,
    warmup: float,
    base_rps: float,
) -> dict[str, Any]:
    """The same database (its session copies kept) served by ``WORKERS`` processes."""
    service = stack.service(
        "registration",
        nats_url=nats_url,
        database_url=database_url,
        tag="-postgres-workers",
        extra={"TRAINOPS_WORKERS": str(WORKERS)},
    )
    try:
        figures = loadgen(_post_spec(service.port, token(), sessions, duration, warmup))
        return {
            "workers": WORKERS,
            "database": "the PostgreSQL database of the 1-worker run, after it",
            **figures,
            "ratio_to_baseline": ratio(figures["req_per_s"], base_rps),
        }
    except Exception as exc:
        return {"workers": WORKERS, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        service.stop(timeout=10)


def event_to_report(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    rate = sizes.e2r_rate_per_s
    duration = sizes.e2r_duration_s
    n_sessions = sizes.e2r_sessions
    stack = Stack(workdir)
    try:
        t0 = time.perf_counter()
        nats = stack.nats("e2r")
        registration = stack.service("registration", nats_url=nats.url, tag="-e2r", wait=False)
        # k=1: the probe counts one registration per session, which k=5 would rightly hide;
        # this measures latency, not disclosure control.
        reporting = stack.service(
            "reporting",
            nats_url=nats.url,
            tag="-e2r",
            wait=False,
            extra={"REPORT_MIN_CELL": "1"},
        )
        stack.ready([registration, reporting])
        sessions = _feed_sessions(nats.url, registration.url, n_sessions, "e2r")
        auth = token()
        report_auth = token("reporting")

        def projected() -> bool:
            response = httpx.get(
                f"{reporting.url}/reports/summary",
                headers={"Authorization": f"Bearer {report_auth}"},
                timeout=10,
            )
            response.raise_for_status()
            return bool(response.json()["registered"] >= n_sessions)

        wait_until(projected, 60, "the reporting projection to count the probe registrations")
        setup_s = time.perf_counter() - t0
        spec = _post_spec(registration.port, auth, sessions, duration, 0.0)
        spec.update(
            {
                "mode": "open",
                "rate": rate,
                "connections": 32,
                "poll": {
                    "port": reporting.port,
                    "path": "/reports/summary",
                    "headers": {"Authorization": f"Bearer {report_auth}"},
                    "field": "registered",
                    "drain_timeout_s": sizes.e2r_drain_timeout_s,
                },
            }
        )
        figures = loadgen(spec, timeout=duration + sizes.e2r_drain_timeout_s + 120)
        lag = figures.get("visible_latency_ms", {})
        return {
            "what": (
                "time from a registration's 201 to the first GET /reports/summary answer that "
                "counts it, registrations paced open-loop; services as processes (registration, "
                "reporting; sessions fed as SessionScheduled events directly)"
            ),
            "method": (
                "one poller GETs the summary back to back; the k-th 201 (completion order) is "
                "visible at the first poll answered after it counting >= k new participants; "
                "after the last 201 the poller waits up to drain_timeout_s, registrations not "
                "counted by then are reported as never_visible"
            ),
            "nats_settings": DEPLOY_SETTINGS,
            "setup_s": round(setup_s, 2),
            "rate_per_s": rate,
            "duration_s": duration,
            "drain_timeout_s": sizes.e2r_drain_timeout_s,
            "units": {"latency": "ms"},
            **figures,
            "completed": figures.get("never_visible", 1) == 0,
            "target": "p99 < 50 ms at 500 registrations/s",
            "target_met": bool(lag.get("p99") is not None and lag["p99"] < 50),
        }
    finally:
        stack.close()


def soak(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Memory under a steady stream of registrations: what leaks per registration (a
    subscription, a task, a cache entry) shows as growth proportional to the count."""
    stack = Stack(workdir)
    try:
        nats = stack.nats("soak")
        registration = stack.service("registration", nats_url=nats.url, tag="-soak", wait=False)
        reporting = stack.service("reporting", nats_url=nats.url, tag="-soak", wait=False)
        stack.ready([registration, reporting])
        sessions = _feed_sessions(nats.url, registration.url, sizes.soak_sessions, "soak")
        auth = token()
        report_auth = token("reporting")

        def steady(duration: float) -> dict[str, Any]:
            spec = _post_spec(registration.port, auth, sessions, duration, 0.0)
            spec.update({"mode": "open", "rate": sizes.soak_rate_per_s, "connections": 32})
            return loadgen(spec, timeout=duration + 120)

        def counted() -> int:
            response = httpx.get(
                f"{reporting.url}/reports/summary",
                headers={"Authorization": f"Bearer {report_auth}"},
                timeout=30,
            )
            response.raise_for_status()
            return int(response.json().get("registered") or 0)

        def settled() -> None:
            # The projection has caught up when two answers a second apart agree.
            last = [-1]

            def same() -> bool:
                now = counted()
                done = now == last[0]
                last[0] = now
                return done

            wait_until(same, 120, "the reporting projection to settle", interval=1.0)

        def rss() -> dict[str, float | None]:
            return {
                "registration": rss_mb(registration.pid),
                "reporting": rss_mb(reporting.pid),
                "nats_server": rss_mb(nats.pid),
            }

        # Warm-up first: pools, caches and lazy imports are in place before the first reading.
        steady(sizes.soak_warmup_s)
        settled()
        before = rss()
        figures = steady(sizes.soak_duration_s)
        settled()
        after = rss()
        growth = {
            name: None
            if before[name] is None or after[name] is None
            else round(float(after[name] or 0) - float(before[name] or 0), 1)
            for name in before
        }
        completed = int(figures.get("ok") or 0)
        return {
            "what": (
                "RSS of registration, reporting and nats-server before and after a steady stream "
                "of registrations (open loop), each reading after the projection settled"
            ),
            "rate_per_s": sizes.soak_rate_per_s,
            "duration_s": sizes.soak_duration_s,
            "units": {"rss": "MB", "latency": "ms"},
            "rss_before_mb": before,
            "rss_after_mb": after,
            "rss_growth_mb": growth,
            "registrations": completed,
            "kb_per_registration": {
                name: None if delta is None or not completed else round(delta * 1024 / completed, 3)
                for name, delta in growth.items()
            },
            **figures,
            "target": "flat within a few MB over >= 50k registrations",
        }
    finally:
        stack.close()
