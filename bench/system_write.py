"""The write path with the whole system up: every service a process, the consumers keeping pace.

``system_write`` starts what ``trainops up`` starts
(:func:`trainops_devtools.supervisor.run_system`: its own nats-server with the deploy config,
the five services on SQLite), drives
``POST /registrations`` closed-loop from :mod:`bench.loadgen` for a bounded time, and meanwhile
samples every durable consumer's lag (JetStream consumer info: not yet delivered + delivered and
not yet acked) and every process's CPU time (``/proc/<pid>/stat``). After the load it keeps
sampling until the relay has published every registration and every consumer's lag is 0: that
interval is how far the consumers fell behind. The bare Litestar POST of ``write_path`` is
measured in the same run as the baseline.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_RATE_LIMITS,
    DEPLOY_SETTINGS,
    nats_connect,
    probe_registration,
    publish_events,
    ratio,
    run_async,
    wait_port,
)
from bench.sizes import Sizes
from bench.workload import CITIES, bench_sessions, registration_body_template
from trainops_devtools.testing.ports import free_port, port_is_free
from trainops_shared.events.streams import REGISTRATION
from trainops_shared.events.vocabulary import SECTORS

CONNECTIONS = 64
SAMPLE_INTERVAL_S = 0.25
STABLE_S = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``, fields 14 and 15)."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing ")" is fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def post_spec(
    port: int, auth: str | None, sessions: list[str], duration: float, warmup: float
) -> dict[str, Any]:
    """What ``write_path`` sends: one unique participant per request, closed loop."""
    return {
        "mode": "closed",
        "host": "127.0.0.1",
        "port": port,
        "method": "POST",
        "path": "/registrations",
        "headers": {"Authorization": f"Bearer {auth}"} if auth else {},
        "body": registration_body_template(secrets.token_hex(4)),
        "choices": {"{s}": sessions, "{c}": list(CITIES), "{k}": list(SECTORS)},
        "connections": CONNECTIONS,
        "duration": duration,
        "warmup": warmup,
    }


def feed_sessions(
    nats_url: str, registration_url: str, auth: str, count: int, tag: str
) -> list[str]:
    """Publish ``count`` SessionScheduled events (as scheduling would) and wait, one probe
    registration per session, until registration holds its copy of each."""
    sessions = bench_sessions(count)
    run_async(lambda: publish_events(nats_url, sessions))
    for event in sessions:
        probe_registration(registration_url, auth, str(event.session_id), tag, timeout=90)
    return [str(e.session_id) for e in sessions]


async def run_loadgen(spec: dict[str, Any], limit_s: float) -> dict[str, Any]:
    """:func:`bench.common.loadgen` without blocking the event loop (the sampler runs on it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.loadgen",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(spec).encode()), limit_s)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@dataclass
class Sampler:
    """Consumer lag and process CPU over time, read every :data:`SAMPLE_INTERVAL_S`."""

    nats_url: str
    consumers: Mapping[str, list[str]]
    """Stream name → the durable consumers (service names) read from it."""
    pids: Mapping[str, int | None]
    samples: list[dict[str, Any]] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def cpu(self) -> dict[str, float | None]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    async def lag(self, js: Any) -> tuple[dict[str, int], dict[str, int]]:
        lags: dict[str, int] = {}
        messages: dict[str, int] = {}
        for stream, durables in self.consumers.items():
            messages[stream] = (await js.stream_info(stream)).state.messages
            for durable in durables:
                info = await js.consumer_info(stream, durable)
                lags[f"{stream}/{durable}"] = int(info.num_pending) + int(info.num_ack_pending)
        return lags, messages

    async def sample(self, js: Any, phase: str) -> dict[str, Any]:
        lags, messages = await self.lag(js)
        row = {
            "t_s": round(time.monotonic() - self.t0, 3),
            "phase": phase,
            "lag": lags,
            "stream_messages": messages,
            "cpu_s": self.cpu(),
        }
        self.samples.append(row)
        return row


def cpu_between(
    before: Mapping[str, float | None], after: Mapping[str, float | None]
) -> dict[str, float | None]:
    return {
        name: None
        if before.get(name) is None or after.get(name) is None
        else round(float(after[name] or 0) - float(before[name] or 0), 2)
        for name in after
    }


async def _measure(
    sampler: Sampler, spec: dict[str, Any], catch_up_timeout: float
) -> dict[str, Any]:
    """Load, then catch-up: the sampler runs throughout; CPU is read at the phase borders."""
    nc = await nats_connect(sampler.nats_url)
    js = nc.jetstream(timeout=10)
    try:
        start = await sampler.sample(js, "before")
        started_messages = sum(start["stream_messages"].values())
        load = asyncio.ensure_future(
            run_loadgen(spec, limit_s=spec["warmup"] + spec["duration"] + 180)
        )
        while not load.done():
            await sampler.sample(js, "load")
            await asyncio.wait({load}, timeout=SAMPLE_INTERVAL_S)
        figures = await load
        at_end = await sampler.sample(js, "load_end")
        load_s = at_end["t_s"] - start["t_s"]
        # Caught up: every lag 0 and the streams unchanged for STABLE_S (the relay has nothing
        # left to publish); the catch-up ends at the first sample of that quiet window.
        deadline = time.monotonic() + catch_up_timeout
        caught_up: dict[str, Any] | None = None
        quiet: dict[str, Any] | None = None
        row = at_end
        while time.monotonic() < deadline:
            if any(row["lag"].values()):
                quiet = None
            elif quiet is None or quiet["stream_messages"] != row["stream_messages"]:
                quiet = row
            elif row["t_s"] - quiet["t_s"] >= STABLE_S:
                caught_up = quiet
                break
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            row = await sampler.sample(js, "catch_up")
        end = caught_up or row
        return {
            "load": figures,
            "load_s": round(load_s, 2),
            "lag_at_load_end": at_end["lag"],
            "max_lag": {
                key: max(s["lag"].get(key, 0) for s in sampler.samples) for key in at_end["lag"]
            },
            "caught_up": caught_up is not None,
            "catch_up_s": round(end["t_s"] - at_end["t_s"], 2),
            "catch_up_timeout_s": catch_up_timeout,
            "cpu_s_during_load": cpu_between(start["cpu_s"], at_end["cpu_s"]),
            "cpu_s_load_and_catch_up": cpu_between(start["cpu_s"], end["cpu_s"]),
            "events_published": sum(end["stream_messages"].values()) - started_messages,
        }
    finally:
        await nc.close()


def _free_base_port(count: int) -> int:
    for _ in range(100):
        candidate = random.randint(20_000, 40_000)
        if all(port_is_free(candidate + i) for i in range(count)):
            return candidate
    raise RuntimeError(f"no {count} consecutive free ports found")


async def durables_of(nats_url: str, streams: list[str]) -> dict[str, list[str]]:
    """The durable consumers the services created on ``streams`` (asked of JetStream)."""
    nc = await nats_connect(nats_url)
    try:
        js = nc.jetstream(timeout=10)
        return {
            name: sorted(c.name for c in await js.consumers_info(name) if c.name)
            for name in streams
        }
    finally:
        await nc.close()


def system_write(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    """Baseline first (the system idle), then the system under load and its catch-up."""
    from trainops_devtools.supervisor import run_system

    duration, warmup = sizes.system_write_duration_s, sizes.system_write_warmup_s
    result: dict[str, Any] = {
        "what": (
            "POST /registrations, closed loop, keep-alive, unique participant per request, with "
            "every service up as a process (trainops_devtools.supervisor.run_system, what "
            "`trainops up` runs) and the consumers applying what registration publishes"
        ),
        "load_generator": "bench.loadgen (asyncio raw-socket HTTP/1.1, separate process)",
        "connections": CONNECTIONS,
        "duration_s": duration,
        "warmup_s": warmup,
        "nats_settings": DEPLOY_SETTINGS,
        "databases": "SQLite per service, WAL, synchronous=FULL",
        "method": (
            "the bare app and the system start in parallel; the bare app is measured first "
            "(the system idle) and stopped; then the load runs while consumer lag (num_pending "
            "+ num_ack_pending of each durable) and per-process CPU (utime + stime from "
            f"/proc/<pid>/stat) are sampled every {SAMPLE_INTERVAL_S} s; after the load the "
            "sampling goes on until every registration is in the stream and every lag is 0"
        ),
        "units": {
            "req_per_s": "requests/s",
            "latency_ms": "ms",
            "cpu_s": "CPU seconds",
            "lag": "messages",
            "time": "s",
        },
        "load_average_before": load_average(),
    }
    bare_port = free_port()
    bare = None
    try:
        bare = _start_bare(workdir, bare_port)
        with run_system(
            data_dir=workdir / "system",
            base_port=_free_base_port(5),
            nats_port=free_port(),
            ready_timeout=120,
            extra_env={**BENCH_RATE_LIMITS, "LOG_LEVEL": "WARNING"},
        ) as system:
            t0 = time.perf_counter()
            wait_port(bare_port, timeout=60)
            registration = system.services["registration"]
            auth = system.token("admin", subject="bench")
            sessions = feed_sessions(
                system.nats_url, registration.url, auth, sizes.system_write_sessions, "system"
            )
            result["setup_s"] = round(time.perf_counter() - t0, 2)
            dummy = [str(e.session_id) for e in bench_sessions(sizes.system_write_sessions)]
            try:
                result["baseline_bare_litestar"] = run_async(
                    lambda: run_loadgen(
                        post_spec(bare_port, None, dummy, duration, warmup), duration + 180
                    )
                )
            finally:
                bare.terminate()
                bare.wait(10)
            pids: dict[str, int | None] = {n: p.pid for n, p in system.services.items()}
            pids["nats_server"] = getattr(system.nats, "pid", None)  # None for a container
            sampler = Sampler(
                nats_url=system.nats_url,
                consumers=run_async(lambda: durables_of(system.nats_url, [REGISTRATION.name])),
                pids=pids,
            )
            spec = post_spec(registration.port, auth, sessions, duration, warmup)
            measured = run_async(
                lambda: _measure(sampler, spec, sizes.system_write_catch_up_timeout_s)
            )
            figures = measured.pop("load")
            base_rps = result["baseline_bare_litestar"]["req_per_s"]
            cpu = measured["cpu_s_load_and_catch_up"]
            service_cpu = sum(v for k, v in cpu.items() if v is not None and k != "nats_server")
            result["system"] = {
                **figures,
                "ratio_to_baseline": ratio(figures["req_per_s"], base_rps),
                **measured,
                "cpu_share_of_services": {
                    name: round(v / service_cpu, 3) if v is not None and service_cpu else None
                    for name, v in cpu.items()
                    if name != "nats_server"
                },
                "lag_samples": _thin(sampler.samples),
            }
            result["load_average_after"] = load_average()
            result["target"] = (
                "the consumers keep pace: lag back to 0 soon after the load (catch_up_s small "
                "against duration_s)"
            )
            result["target_met"] = bool(
                measured["caught_up"] and measured["catch_up_s"] <= max(2.0, 0.25 * duration)
            )
    finally:
        if bare is not None and bare.poll() is None:
            bare.kill()
            bare.wait(10)
    return result


def _start_bare(workdir: Path, port: int) -> Any:
    import subprocess

    log = workdir / "logs" / "bare_app.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.bare_app", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _thin(samples: list[dict[str, Any]], keep: int = 120) -> list[dict[str, Any]]:
    """At most ``keep`` lag samples (evenly spread, the last one kept) for the JSON."""
    rows = [{"t_s": s["t_s"], "phase": s["phase"], "lag": s["lag"]} for s in samples]
    if len(rows) <= keep:
        return rows
    step = len(rows) / keep
    picked = [rows[int(i * step)] for i in range(keep - 1)]
    return [*picked, rows[-1]]
