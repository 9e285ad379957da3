"""The Docker fallback of the NATS launcher runs the same authenticated configuration as the
local ``nats-server``: the deploy template rendered for the container, the generated per-service
``auth.conf``, both owner-only and mounted read-only.

There is no Docker engine on every machine, so the container is a fake recording what the
launcher asks of it; the integration test below runs the very files it would mount with the
local binary and checks that an anonymous client is refused and a service user is let in.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import nats
import pytest

from trainops_devtools import supervisor
from trainops_devtools.nats_server import (
    CONTAINER_CONFIG_DIR,
    DockerNatsServer,
    NatsAuth,
    NatsServerError,
    auth_for_url,
    find_nats_server,
)
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.ports import free_port
from trainops_shared.nats_auth import ALL_USERS, OPERATOR_USER, inbox_prefix


class FakeContainer:
    """What testcontainers' ``NatsContainer`` is asked to do, without a Docker engine; the
    "container" answers on a port of the host where a fake server greets with INFO."""

    def __init__(self, image: str, port: int) -> None:
        self.image = image
        self.port = port
        self.command: str | None = None
        self.volumes: list[tuple[str, str, str]] = []
        self.started = False

    def with_command(self, command: str) -> Self:
        self.command = command
        return self

    def with_volume_mapping(self, host: str, container: str, mode: str = "ro") -> Self:
        self.volumes.append((host, container, mode))
        return self

    def start(self) -> Self:
        self.started = True
        return self

    def nats_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self.port


@pytest.fixture
def greeter() -> Iterator[int]:
    """A TCP port that greets like a NATS server (``INFO {...}``), for the readiness wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)

    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b'INFO {"server_id":"fake","jetstream":true}\r\n')

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def _started(tmp_path: Path, port: int, auth: NatsAuth | None) -> tuple[DockerNatsServer, Any]:
    made: list[FakeContainer] = []

    def factory(image: str) -> FakeContainer:
        made.append(FakeContainer(image, port))
        return made[-1]

    server = DockerNatsServer(
        config_dir=tmp_path / "nats-container", auth=auth, container_factory=factory
    ).start(timeout=5)
    return server, made[0]


@pytest.mark.unit
def test_the_container_runs_the_generated_config_with_every_user(
    tmp_path: Path, greeter: int
) -> None:
    auth = NatsAuth.ensure(tmp_path / "secrets")
    server, container = _started(tmp_path, greeter, auth)
    config_dir = tmp_path / "nats-container"
    assert container.started
    assert container.volumes == [(str(config_dir.resolve()), CONTAINER_CONFIG_DIR, "ro")]
    assert container.command == f"-c {CONTAINER_CONFIG_DIR}/nats-server.conf"
    config = (config_dir / "nats-server.conf").read_text()
    assert 'include "auth.conf"' in config.splitlines()
    assert 'listen: "0.0.0.0:4222"' in config and 'store_dir: "/data"' in config
    assert "sync_interval: always" in config  # the deploy template's durability, unchanged
    authorization = (config_dir / "auth.conf").read_text()
    for user in ALL_USERS:
        assert auth.credentials[user].password in authorization
    for name in ("nats-server.conf", "auth.conf"):
        assert stat.S_IMODE((config_dir / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    # Clients get credentials as with the local server; messages get the bare address.
    assert server.address == f"nats://127.0.0.1:{greeter}"
    assert "@" not in server.address
    operator = auth.credentials[OPERATOR_USER]
    assert server.url == f"nats://{operator.user}:{operator.password}@127.0.0.1:{greeter}"
    assert auth_for_url(server.address) is auth  # so started services get their own files


@pytest.mark.unit
def test_users_need_a_config_directory() -> None:
    with pytest.raises(NatsServerError, match="config_dir"):
        DockerNatsServer(auth=NatsAuth.ensure(Path("/nonexistent-never-created")), config_dir=None)


@pytest.mark.unit
def test_trainops_up_falls_back_to_an_authenticated_container(
    tmp_path: Path, greeter: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[FakeContainer] = []

    def container(data_dir: Path) -> DockerNatsServer:
        def factory(image: str) -> FakeContainer:
            made.append(FakeContainer(image, greeter))
            return made[-1]

        real = supervisor_container(data_dir)
        real._factory = factory
        return real

    supervisor_container = supervisor._nats_container
    monkeypatch.setattr(supervisor, "_nats_container", container)

    def no_binary() -> Path:
        raise NatsServerError("no nats-server here")

    monkeypatch.setattr(supervisor, "find_nats_server", no_binary)
    monkeypatch.setattr(supervisor, "docker_engine_available", lambda: True)
    said: list[str] = []
    server, description = supervisor._start_nats(tmp_path, "127.0.0.1", None, said.append)
    assert isinstance(server, DockerNatsServer) and server.auth is not None
    assert made and made[0].volumes[0][2] == "ro"
    assert 'include "auth.conf"' in (tmp_path / "nats-container" / "nats-server.conf").read_text()
    assert server.auth.folder == tmp_path / "secrets"
    assert "one user per service" in description
    for credentials in server.auth.credentials.values():  # no password in what is printed
        assert credentials.password not in description
        assert all(credentials.password not in line for line in said)


def _run(config: Path, port: int) -> subprocess.Popen[bytes]:
    """The local binary on ``config``, listening on 127.0.0.1:``port``, monitoring off."""
    return subprocess.Popen(
        [str(find_nats_server()), "-c", str(config), "-a", "127.0.0.1", "-p", str(port), "-m", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=config.parent,
    )


@pytest.mark.integration
async def test_the_container_config_refuses_anonymous_clients(tmp_path: Path, greeter: int) -> None:
    """The files the container would mount, run by the local binary (a copy with the store in
    the test's directory instead of the container's ``/data``; address and port moved by
    command-line flags, which override the file): no credentials, no connection."""
    auth = NatsAuth.ensure(tmp_path / "secrets")
    _started(tmp_path, greeter, auth)
    mounted = tmp_path / "nats-container"
    copy = tmp_path / "run"
    copy.mkdir()
    text = (mounted / "nats-server.conf").read_text()
    assert text.count('store_dir: "/data"') == 1
    config = copy / "nats-server.conf"
    config.write_text(text.replace('store_dir: "/data"', f'store_dir: "{tmp_path / "store"}"'))
    (copy / "auth.conf").write_text((mounted / "auth.conf").read_text())
    port = free_port()
    process = _run(config, port)
    try:

        async def greets() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    return sock.recv(4096).startswith(b"INFO")
            except OSError:
                return False

        await eventually(greets, timeout=15, what="nats-server with the container's config")
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            sock.recv(65536)
            sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
            assert sock.recv(4096).decode().startswith("-ERR 'Authorization Violation'")
        reporting = auth.credentials["reporting"]
        nc = await nats.connect(
            f"nats://127.0.0.1:{port}",
            user=reporting.user,
            password=reporting.password,
            inbox_prefix=inbox_prefix("reporting"),
            allow_reconnect=False,
            connect_timeout=3,
        )
        await nc.close()
    finally:
        process.terminate()
        process.wait(10)
