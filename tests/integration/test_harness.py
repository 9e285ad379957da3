"""The test harness itself: real nats-server (kill -9 and restart keep JetStream data), NATS
auth permissions from deploy/, PostgreSQL test databases, service processes, the launcher."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import nats
import nats.errors
import pytest
from nats.js.api import StreamConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from trainops_devtools.nats_server import (
    MIN_VERSION,
    NatsServer,
    NatsServerError,
    find_auth_config,
    find_config_template,
    find_nats_server,
    load_config_template,
    nats_server_version,
    render_config,
)
from trainops_devtools.testing.ports import free_port, port_accepts, port_is_free
from trainops_devtools.testing.postgres import (
    PostgresServer,
    asyncpg_dsn,
    create_database,
    database_exists,
    drop_database,
)
from trainops_devtools.testing.processes import ServiceStartError, service_env, start_service
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# A stand-in for a service: /health, and /ready only while NATS answers. stdlib only.
FAKE_SERVICE = textwrap.dedent(
    """
    import os, signal, socket, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    if os.environ.get("FAKE_FAIL") == os.environ.get("FAKE_NAME", "?"):
        print("fake service: configured to fail at start-up", flush=True)
        sys.exit(3)

    nats = urlsplit(os.environ["NATS_URL"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                code = 200
            elif self.path == "/ready":
                try:
                    socket.create_connection((nats.hostname, nats.port), timeout=1).close()
                    code = 200
                except OSError:
                    code = 503
            else:
                code = 404
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((os.environ["TRAINOPS_HOST"], int(os.environ["TRAINOPS_PORT"])),
                                 Handler)

    def on_term(signum, frame):
        print("fake service: SIGTERM, exiting", flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    print("fake service listening", os.environ["TRAINOPS_PORT"], os.environ["DATABASE_URL"],
          flush=True)
    server.serve_forever()
    """
)


def free_port_block(count: int = 4) -> int:
    """A base port with ``count`` consecutive free ports."""
    for _ in range(100):
        base: int = free_port()
        if base + count < 65536 and all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no block of free ports")


@pytest.fixture
def fake_module(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A fake service module importable via PYTHONPATH: (module name, extra env)."""
    pkg = tmp_path / "fakesvc"
    pkg.mkdir()
    (pkg / "fake_trainops_service.py").write_text(FAKE_SERVICE)
    pythonpath = os.pathsep.join(p for p in (str(pkg), os.environ.get("PYTHONPATH", "")) if p)
    return "fake_trainops_service", {"PYTHONPATH": pythonpath}


# ---------------------------------------------------------------------------------------------
# NATS
# ---------------------------------------------------------------------------------------------


def test_binary_is_recent_enough() -> None:
    binary = find_nats_server()
    assert nats_server_version(binary) >= MIN_VERSION


def test_too_old_binary_is_refused(tmp_path: Path) -> None:
    debian = Path("/usr/sbin/nats-server")
    if not debian.exists() or nats_server_version(debian) >= MIN_VERSION:
        pytest.skip("no nats-server older than 2.10 at /usr/sbin/nats-server to refuse")
    with pytest.raises(NatsServerError, match="too old"):
        NatsServer(store_dir=tmp_path / "old", binary=debian).start()


def test_the_deploy_config_is_what_local_servers_run() -> None:
    template = find_config_template()
    assert template == REPO / "deploy" / "nats" / "nats-server.conf"
    assert load_config_template() == template.read_text()
    rendered = render_config(
        load_config_template(), host="127.0.0.1", port=1234, store_dir=Path("/s")
    )
    assert 'listen: "127.0.0.1:1234"' in rendered
    assert 'store_dir: "/s"' in rendered
    assert "sync_interval: always" in rendered
    assert "\nhttp_port" not in rendered


def test_k8s_nats_config_carries_the_same_auth_and_durability() -> None:
    import yaml

    [config_map] = [
        doc
        for doc in yaml.safe_load_all((REPO / "deploy" / "k8s" / "nats.yaml").read_text())
        if doc and doc["kind"] == "ConfigMap"
    ]
    assert config_map["data"]["auth.conf"] == (REPO / "deploy" / "nats" / "auth.conf").read_text()
    assert "sync_interval: always" in config_map["data"]["nats.conf"]


async def test_session_server_has_jetstream(nats_url: str) -> None:
    nc = await nats.connect(nats_url, connect_timeout=2, allow_reconnect=False)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_kill_9_and_restart_keep_acknowledged_messages(
    fresh_nats_server: NatsServer,
) -> None:
    server = fresh_nats_server
    url_before = server.url
    nc = await nats.connect(server.url, connect_timeout=2, allow_reconnect=False)
    js = nc.jetstream(timeout=5)
    await js.add_stream(StreamConfig(name="HARNESS", subjects=["harness.>"]))
    for i in range(3):
        ack = await js.publish(f"harness.e{i}", f"event {i}".encode(), stream="HARNESS")
        assert ack.seq == i + 1
    await nc.close()

    server.kill()  # SIGKILL right after the PubAcks
    assert not port_accepts("127.0.0.1", int(url_before.rsplit(":", 1)[1]))
    server.restart()
    assert server.url == url_before

    nc = await nats.connect(server.url, connect_timeout=2, allow_reconnect=False)
    try:
        js = nc.jetstream(timeout=5)
        info = await js.stream_info("HARNESS")
        assert info.state.messages == 3
        for i in range(3):
            msg = await js.get_msg("HARNESS", seq=i + 1)
            assert msg.data == f"event {i}".encode()
    finally:
        await nc.close()


async def test_auth_config_limits_each_service_to_its_subjects(tmp_path: Path) -> None:
    auth = find_auth_config()
    assert auth is not None
    env = {
        f"NATS_{name.upper()}_PASSWORD": f"pw-{name}"
        for name in ("registration", "scheduling", "feedback", "reporting", "identity", "operator")
    }
    with NatsServer(store_dir=tmp_path / "auth", auth_config=auth, env=env) as server:
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        assert _anonymous_connect_error(server.url).startswith("-ERR 'Authorization Violation'")

        nc = await nats.connect(
            server.url,
            user="registration",
            password="pw-registration",
            inbox_prefix="_INBOX_registration",
            error_cb=on_error,
            allow_reconnect=False,
        )
        try:
            js = nc.jetstream(timeout=3)
            await js.add_stream(StreamConfig(name="REGISTRATION", subjects=["registration.>"]))
            await js.add_stream(StreamConfig(name="SCHEDULING", subjects=["scheduling.>"]))
            ack = await js.publish("registration.x.v1", b"1", stream="REGISTRATION")
            assert ack.seq == 1
            sub = await js.pull_subscribe(
                "scheduling.>", durable="registration", stream="SCHEDULING"
            )
            with pytest.raises(nats.errors.TimeoutError):  # nothing there yet, but allowed
                await sub.fetch(1, timeout=0.5)
            await nc.publish("scheduling.session_scheduled.v1", b"forged")
            await nc.flush()
            deadline = time.monotonic() + 3
            while not errors and time.monotonic() < deadline:
                await nc.flush()
            assert any("Permissions Violation" in str(e).title() for e in errors), errors
            with pytest.raises(nats.errors.TimeoutError):  # another service's consumer name
                await js.pull_subscribe("scheduling.>", durable="reporting", stream="SCHEDULING")
        finally:
            await nc.close()


def _anonymous_connect_error(url: str) -> str:
    """Speak the NATS protocol without credentials (nats-py leaks its socket on refusal)."""
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=3) as sock:
        sock.recv(65536)  # INFO
        sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        reply: bytes = sock.recv(4096)
        return reply.decode()


def test_nats_server_factory_makes_independent_servers(
    nats_server_factory: Callable[..., NatsServer],
) -> None:
    a = nats_server_factory()
    b = nats_server_factory()
    assert a.url != b.url and a.is_running() and b.is_running()


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_postgres_database_is_created_and_dropped(postgres_server: PostgresServer) -> None:
    name, url = await create_database(postgres_server.admin_url)
    assert url.startswith("postgresql+asyncpg://") and url.endswith(f"/{name}")
    assert await database_exists(postgres_server.admin_url, name)
    conn = await asyncpg.connect(asyncpg_dsn(url))  # left open: drop must still work
    try:
        assert await conn.fetchval("SELECT current_database()") == name
        await drop_database(postgres_server.admin_url, name)
    finally:
        await conn.close()
    assert not await database_exists(postgres_server.admin_url, name)


async def test_database_url_is_fresh_and_usable(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO probe (id) VALUES (1)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM probe"))).scalar_one() == 1
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------------
# Service processes and the launcher
# ---------------------------------------------------------------------------------------------


def test_service_process_starts_waits_ready_and_stops(
    tmp_path: Path, nats_url: str, fake_module: tuple[str, dict[str, str]]
) -> None:
    module, extra = fake_module
    port = free_port()
    env = service_env(
        "registration",
        port=port,
        nats_url=nats_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
        data_dir=tmp_path,
        extra=extra,
    )
    service = start_service(
        "registration", port=port, env=env, log_path=tmp_path / "r.log", module=module
    )
    try:
        assert service.ready()
    finally:
        assert service.stop() == 0
    assert "SIGTERM, exiting" in service.log_tail()


def test_failed_start_reports_the_log_tail(
    tmp_path: Path, nats_url: str, fake_module: tuple[str, dict[str, str]]
) -> None:
    module, extra = fake_module
    port = free_port()
    env = service_env(
        "feedback",
        port=port,
        nats_url=nats_url,
        database_url="sqlite+aiosqlite:///x.db",
        data_dir=tmp_path,
        extra={**extra, "FAKE_FAIL": "feedback", "FAKE_NAME": "feedback"},
    )
    with pytest.raises(ServiceStartError, match="configured to fail at start-up"):
        start_service("feedback", port=port, env=env, log_path=tmp_path / "f.log", module=module)


def test_service_processes_fixture_runs_a_system(
    service_processes: ServiceHarness,
    fake_module: tuple[str, dict[str, str]],
) -> None:
    module, extra = fake_module
    names = ("registration", "scheduling", "feedback", "reporting")
    started = service_processes.start(names, modules=dict.fromkeys(names, module), extra_env=extra)
    assert set(started) == set(names)
    assert all(p.ready() for p in started.values())


def test_run_system_starts_everything_and_stops_it(
    tmp_path: Path, fake_module: tuple[str, dict[str, str]]
) -> None:
    from trainops_devtools.supervisor import run_system

    module, extra = fake_module
    names = ("registration", "scheduling", "feedback", "reporting")
    base = free_port_block()
    with run_system(
        data_dir=tmp_path / "data",
        base_port=base,
        nats_port=free_port(),
        modules=dict.fromkeys(names, module),
        extra_env=extra,
    ) as system:
        assert system.urls["feedback"] == f"http://127.0.0.1:{base + 2}"
        assert all(p.ready() for p in system.services.values())
        assert system.nats is not None
        nats_server = system.nats
        assert (tmp_path / "data" / "nats" / "jetstream").is_dir()
        assert "TRAINOPS_PUBLIC_URL" in system.services["feedback"].env
    assert system.dead() is not None  # all stopped
    assert not nats_server.is_running()


def test_trainops_up_runs_until_sigint(
    tmp_path: Path, nats_url: str, fake_module: tuple[str, dict[str, str]]
) -> None:
    """The real command, with the four service packages shadowed by the fake (PYTHONPATH)."""
    _, extra = fake_module
    shadow = tmp_path / "shadow"
    for name in ("registration", "scheduling", "feedback", "reporting"):
        pkg = shadow / f"trainops_{name}"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "__main__.py").write_text(FAKE_SERVICE)
    env = {**os.environ, "PYTHONPATH": f"{shadow}{os.pathsep}{extra['PYTHONPATH']}"}
    env.pop("NATS_URL", None)
    base = free_port_block()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainops_cli.main",
            "up",
            "--data-dir",
            str(tmp_path / "data"),
            "--base-port",
            str(base),
            "--nats-url",
            nats_url,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while "Press Ctrl-C to stop." not in output:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            output += line
            assert time.monotonic() < deadline, output
        assert "Press Ctrl-C to stop." in output, output
        assert f"http://127.0.0.1:{base + 3}" in output
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        output += rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "stopped" in output
    for name in ("registration", "scheduling", "feedback", "reporting"):
        log = (tmp_path / "data" / "logs" / f"{name}.log").read_text()
        assert "SIGTERM, exiting" in log
