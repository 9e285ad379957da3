"""What every benchmark needs: NATS servers, service processes, the load generator, RSS."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
from nats.aio.client import Client as NatsClient

from trainops_devtools.nats_server import NatsAuth, NatsServer, load_config_template
from trainops_devtools.testing.ports import free_port, port_accepts
from trainops_devtools.testing.processes import (
    ServiceProcess,
    service_env,
    start_service,
    stop_all,
    wait_all_ready,
)
from trainops_devtools.testing.tokens import TEST_PUBLIC_KEY_PEM, token_for
from trainops_shared.events import Event, encode_event
from trainops_shared.events.streams import StreamSpec, stream_for_subject

DEPLOY_SETTINGS = (
    "deploy/nats/nats-server.conf as rendered by trainops_devtools.nats_server "
    "(JetStream file store, sync_interval: always)"
)
FILL_SETTINGS = (
    "set-up only: the deploy config with sync_interval commented out (JetStream's default "
    "periodic fsync), so that filling the store does not cost one fsync per message; the "
    "server is restarted on the same store with the deploy config before anything is measured"
)

T = TypeVar("T")
BENCH_RATE_LIMITS = {
    "RATE_LIMIT_PRINCIPAL": "1000000/second",
    "RATE_LIMIT_ANONYMOUS": "1000000/second",
}
"""One token drives thousands of requests a second here: the limiters still run (their cost is
in every figure) but per-second windows this wide are never reached."""


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when installed: the services run on it too (uvicorn)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(factory())
    return uvloop.run(factory())


def token(role: str = "admin") -> str:
    """Signed with this run's own key; the services started by :class:`Stack` verify with it."""
    return token_for(role, subject="bench")


def machine_info() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total_kb = int(line.split()[1])
    except OSError:
        pass
    nats_version = None
    try:
        from trainops_devtools.nats_server import find_nats_server, nats_server_version

        nats_version = ".".join(map(str, nats_server_version(find_nats_server())))
    except Exception:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_total_kb / 1024 / 1024, 1) if mem_total_kb else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nats_server": nats_version,
        "versions": {
            name: version(name)
            for name in (
                "litestar",
                "uvicorn",
                "uvloop",
                "httptools",
                "msgspec",
                "nats-py",
                "sqlalchemy",
                "asyncpg",
                "faststream",
            )
        },
    }


def rss_mb(pid: int | None) -> float | None:
    """Resident set size of a process (``VmRSS`` in ``/proc/<pid>/status``), in MB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def loadgen(spec: dict[str, Any], timeout: float = 600.0) -> dict[str, Any]:
    """Run :mod:`bench.loadgen` in its own process and return its JSON result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Stack:
    """Processes and servers one benchmark started; :meth:`close` stops them in reverse."""

    workdir: Path
    nats_servers: list[NatsServer] = field(default_factory=list)
    services: list[ServiceProcess] = field(default_factory=list)
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def nats(self, name: str, *, fill_settings: bool = False) -> NatsServer:
        """A nats-server with the deploy settings, or (``fill_settings``) with the set-up-only
        variant of :func:`fill_config_template`; :func:`restore_deploy_settings` switches back."""
        store = self.workdir / f"nats-{name}"
        server = NatsServer(
            store_dir=store,
            template=fill_config_template() if fill_settings else None,
            # With the users `trainops up` runs: the services connect as themselves (their
            # credentials files), the benchmark's own clients as the operator (``server.url``).
            auth=NatsAuth.ensure(store / "secrets"),
        )
        self.nats_servers.append(server)
        return server.start()

    def service(
        self,
        name: str,
        *,
        nats_url: str,
        database_url: str | None = None,
        tag: str = "",
        extra: dict[str, str] | None = None,
        wait: bool = True,
    ) -> ServiceProcess:
        port = free_port()
        db = database_url or f"sqlite+aiosqlite:///{self.workdir / f'{name}{tag}.db'}"
        env = service_env(
            name,
            port=port,
            nats_url=nats_url,
            database_url=db,
            data_dir=self.workdir,
            log_level="WARNING",
            jwt_public_key=TEST_PUBLIC_KEY_PEM,
            extra={**BENCH_RATE_LIMITS, **(extra or {})},
        )
        process = start_service(
            name,
            port=port,
            env=env,
            log_path=self.workdir / "logs" / f"{name}{tag}.log",
            ready_timeout=60.0,
            wait=wait,
        )
        self.services.append(process)
        return process

    def ready(self, services: list[ServiceProcess], timeout: float = 90.0) -> None:
        """Wait for services started with ``wait=False`` (they start in parallel)."""
        wait_all_ready(services, timeout)

    def popen(self, args: list[str], log_name: str) -> subprocess.Popen[bytes]:
        log_path = self.workdir / "logs" / log_name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.others.append(proc)
        return proc

    def close(self) -> None:
        # All at once, SIGKILL after 5 s: a service stuck in shutdown (seen: the NATS drain
        # timing out after a load) must not stretch the run; the benchmarks are measured by then.
        stop_all(self.services, timeout=5)
        self.services.clear()
        for proc in reversed(self.others):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for server in reversed(self.nats_servers):
            server.stop()
        self.nats_servers.clear()
        self.others.clear()


def fill_config_template() -> str:
    """The deploy config without ``sync_interval: always`` (set-up only, see FILL_SETTINGS)."""
    text, count = re.subn(
        r"^(?P<indent>[ \t]*)sync_interval\s*[:=].*$",
        r"\g<indent># sync_interval: JetStream default (trainops bench: fill only)",
        load_config_template(),
        flags=re.MULTILINE,
    )
    if count != 1:
        raise RuntimeError(f"the NATS config template sets sync_interval {count} times, not once")
    return text


def restore_deploy_settings(server: NatsServer) -> float:
    """Restart ``server`` on the same port and store with the deploy config; seconds taken."""
    t0 = time.perf_counter()
    server.template = None
    server.restart(timeout=120.0)
    text = server.config_path.read_text(encoding="utf-8")
    if not re.search(r"^\s*sync_interval:\s*always", text, re.MULTILINE):
        raise RuntimeError("the restarted nats-server does not run with sync_interval: always")
    return time.perf_counter() - t0


async def stream_totals(url: str, specs: Iterable[StreamSpec]) -> dict[str, int]:
    nc = await nats_connect(url)
    try:
        js = nc.jetstream()
        return {spec.name: (await js.stream_info(spec.name)).state.messages for spec in specs}
    finally:
        await nc.close()


async def fill_streams(
    url: str, events: Iterable[Event], specs: Iterable[StreamSpec], chunk: int = 20_000
) -> int:
    """Store ``events`` in their (existing) streams fast: core NATS publishes (the stream takes
    every message on its subjects; no PubAck round trip) in chunks, each confirmed by the
    streams' message count. A chunk the server did not fully store (an ingest limit) is published
    again with ``publish_async``, awaiting every PubAck (``Nats-Msg-Id`` drops the duplicates).
    Set-up only: the figures are measured afterwards."""
    import itertools

    spec_list = list(specs)
    nc = await nats_connect(url)
    js = nc.jetstream(timeout=30, publish_async_max_pending=20_000)
    try:

        async def stored() -> int:
            return sum([(await js.stream_info(s.name)).state.messages for s in spec_list])

        expected = await stored()
        source = iter(events)
        count = 0
        while True:
            part = [
                (e.subject, encode_event(e), {"Nats-Msg-Id": str(e.event_id)})
                for e in itertools.islice(source, chunk)
            ]
            if not part:
                return count
            for subject, payload, headers in part:
                await nc.publish(subject, payload, headers=headers)
            await nc.flush(timeout=30)
            expected += len(part)
            count += len(part)
            deadline = time.monotonic() + 10.0
            while (now := await stored()) < expected and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the server
                await asyncio.sleep(0.01)
            if now < expected:
                for subject, payload, headers in part:
                    await js.publish_async(subject, payload, headers=headers)
                await js.publish_async_completed()
                if await stored() < expected:
                    raise RuntimeError(f"the streams hold {now} messages, {expected} expected")
    finally:
        await nc.close()


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_accepts("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on port {port} after {timeout} s")
        time.sleep(0.05)


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


async def nats_connect(url: str) -> NatsClient:
    return await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3, name="bench")


async def publish_events(url: str, events: Iterable[Event], window: int = 20_000) -> int:
    """Publish encoded events to their streams (``Nats-Msg-Id`` = event id), PubAcks awaited."""
    nc = await nats_connect(url)
    js = nc.jetstream(timeout=30, publish_async_max_pending=window)
    count = 0
    try:
        for event in events:
            await js.publish_async(
                event.subject,
                encode_event(event),
                stream=stream_for_subject(event.subject).name,
                headers={"Nats-Msg-Id": str(event.event_id)},
            )
            count += 1
        await js.publish_async_completed()
    finally:
        await nc.close()
    return count


def probe_registration(url: str, auth: str, session_id: str, run: str, timeout: float) -> None:
    """POST one registration per session until it answers 201 (the session copy has arrived)."""
    body = {
        "session_id": session_id,
        "participant": {
            "full_name": f"Probe Person {run}",
            "sector": "media",
            "city": "almaty",
            "language": "ru",
            "email": f"probe.{session_id[:8]}.{run}@bench.example.kz",
        },
    }
    deadline = time.monotonic() + timeout
    with httpx.Client(headers={"Authorization": f"Bearer {auth}"}, timeout=10) as client:
        while True:
            response = client.post(f"{url}/registrations", json=body)
            if response.status_code == 201:
                return
            if response.status_code != 404 or time.monotonic() > deadline:
                raise RuntimeError(
                    f"probe registration for session {session_id} answered "
                    f"{response.status_code}: {response.text[:500]}"
                )
            time.sleep(0.05)


def ratio(value: float | None, baseline: float | None) -> float | None:
    if not value or not baseline:
        return None
    return round(value / baseline, 3)
