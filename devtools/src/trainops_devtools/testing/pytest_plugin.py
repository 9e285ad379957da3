"""pytest fixtures for real servers: NATS with JetStream, PostgreSQL databases, service processes.

Register with ``pytest_plugins = ["trainops_devtools.testing.pytest_plugin"]`` (tests/conftest.py).

* ``nats_server`` (session): one NATS server for the run, store in a temporary directory.
  ``nats_url`` (session) is its URL.
* ``fresh_nats_server`` (function): a private server for tests that kill or restart it.
* ``nats_server_factory`` (function): ``factory(**NatsServer kwargs) -> NatsServer`` for tests that
  need several (a local cluster); all are stopped afterwards.

Every local server enforces the generated users of :mod:`trainops_shared.nats_auth` (one per
service with its permissions, plus the operator), as ``trainops up`` does. A server's ``url``
(and ``nats_url``) carries the operator's credentials, for tests that publish, inspect or forge
directly; ``server.url_for("reporting")`` connects as a service user; ``server.address`` is the
bare URL. Services started by the harness connect as their own user (credentials file).
* ``postgres_server`` (session): the PostgreSQL server in use (see ``testing.postgres``); skips
  with the reason when there is none (fails instead with ``TRAINOPS_REQUIRE_POSTGRES=1``).
* ``postgres_database`` (function): ``factory(name=None) -> "postgresql+asyncpg://..."``; every
  database it created is dropped afterwards.
* ``database_url`` (function, parametrized ``sqlite`` / ``postgres``): a fresh, empty database.
* ``service_processes`` (function): a :class:`ServiceHarness` to start services as processes.

The NATS server is the local ``nats-server`` binary (>= 2.10) unless ``TRAINOPS_TEST_NATS=docker``;
with ``auto`` (default) a container is used only when no usable binary exists and Docker answers.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.nats_server import DockerNatsServer, NatsAuth, NatsServer, start_nats
from trainops_devtools.testing.browser import chrome as chrome  # a fixture: registered here
from trainops_devtools.testing.oidc_provider import (
    oidc_provider_factory as oidc_provider_factory,  # a fixture: registered by being here
)
from trainops_devtools.testing.ports import free_port
from trainops_devtools.testing.postgres import (
    PostgresServer,
    PostgresUnavailable,
    create_database,
    drop_database,
    find_postgres_server,
    postgres_required,
)
from trainops_devtools.testing.processes import (
    SERVICES,
    ServiceProcess,
    identity_env,
    service_env,
    start_service,
    stop_all,
    wait_all_ready,
)
from trainops_shared.credentials import ensure_signing_key, load_signing_key

T = TypeVar("T")
NATS_MODE_ENV = "TRAINOPS_TEST_NATS"
AnyNatsServer = NatsServer | DockerNatsServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL server")


def run_coroutine_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private loop in a worker thread, so sync fixtures can
    use asyncpg without touching the event loop pytest-asyncio runs the tests on."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def _nats_mode() -> Literal["auto", "local", "docker"]:
    mode = os.environ.get(NATS_MODE_ENV, "auto")
    if mode not in ("auto", "local", "docker"):
        raise pytest.UsageError(f"{NATS_MODE_ENV}={mode!r}: use auto, local or docker")
    return cast(Literal["auto", "local", "docker"], mode)


# --------------------------------------------------------------------------------------------
# NATS
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnyNatsServer]:
    store = tmp_path_factory.mktemp("nats-session")
    server = start_nats(store, prefer=_nats_mode(), auth=NatsAuth.ensure(store / "secrets"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_url(nats_server: AnyNatsServer) -> str:
    return nats_server.url


@pytest.fixture
def fresh_nats_server(tmp_path: Path) -> Iterator[AnyNatsServer]:
    """A server of this test's own: kill it, restart it, break it."""
    store = tmp_path / "nats"
    server = start_nats(store, prefer=_nats_mode(), auth=NatsAuth.ensure(store / "secrets"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_server_factory(tmp_path: Path) -> Iterator[Callable[..., NatsServer]]:
    """``factory(name="n1", **NatsServer kwargs)``: started local servers, stopped afterwards.
    They share one set of generated users (a cluster's nodes must), unless ``auth=`` says
    otherwise (``auth=None``: no authentication)."""
    servers: list[NatsServer] = []
    shared_auth: list[NatsAuth] = []

    def factory(name: str | None = None, **kwargs: Any) -> NatsServer:
        label = name or f"nats{len(servers) + 1}"
        kwargs.setdefault("store_dir", tmp_path / label)
        kwargs.setdefault("server_name", label)
        if "auth" not in kwargs and kwargs.get("auth_config") is None:
            if not shared_auth:
                shared_auth.append(NatsAuth.ensure(tmp_path / "nats-secrets"))
            kwargs["auth"] = shared_auth[0]
        server = NatsServer(**kwargs)
        servers.append(server)
        return server.start()

    try:
        yield factory
    finally:
        for server in servers:
            server.kill()


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = run_coroutine_sync(find_postgres_server)
    except PostgresUnavailable as exc:
        if exc.explicit:
            pytest.fail(str(exc), pytrace=False)
        if postgres_required():
            pytest.fail(f"{exc} (TRAINOPS_REQUIRE_POSTGRES is set)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """``factory(name=None) -> postgresql+asyncpg URL`` of a new, empty database."""
    created: list[str] = []

    def factory(name: str | None = None) -> str:
        db_name, url = run_coroutine_sync(lambda: create_database(postgres_server.admin_url, name))
        created.append(db_name)
        return url

    try:
        yield factory
    finally:
        for db_name in created:
            run_coroutine_sync(functools.partial(drop_database, postgres_server.admin_url, db_name))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once on SQLite (a file in ``tmp_path``) and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    factory = cast(Callable[..., str], request.getfixturevalue("postgres_database"))
    return factory()


# --------------------------------------------------------------------------------------------
# Service processes
# --------------------------------------------------------------------------------------------


class ServiceHarness:
    """Starts services as ``python -m trainops_<name>`` processes; stops them at teardown.

    ``start()`` returns ``{name: ServiceProcess}``; each has ``.url``, ``.log_path``,
    ``.log_tail()``, ``.stop()``, ``.kill()``, ``.restart()``.
    """

    def __init__(self, request: pytest.FixtureRequest, root: Path) -> None:
        self._request = request
        self.root = root
        self.processes: dict[str, ServiceProcess] = {}
        self.data_dir = root / "data"
        # The services' development key pair, made before they start (they would make it
        # themselves otherwise); the harness signs with its private half.
        self.signing_key: Ed25519PrivateKey = load_signing_key(ensure_signing_key(self.data_dir))
        self.mail: MailCatcher | None = None

    def mail_catcher(self) -> MailCatcher:
        """The development mail catcher of these services (``<data dir>/mail``, as ``trainops
        up`` has it): started on first use, the ``SMTP_URL`` of every service started after
        that, stopped after the services."""
        if self.mail is None:
            self.mail = MailCatcher(self.data_dir / "mail")
            self.mail.start()
        return self.mail

    def start(
        self,
        services: Sequence[str] = SERVICES,
        *,
        nats_url: str | None = None,
        database: Literal["sqlite", "postgres"] | Mapping[str, str] = "sqlite",
        extra_env: Mapping[str, str] | None = None,
        modules: Mapping[str, str] | None = None,
        ready_timeout: float = 90.0,
    ) -> dict[str, ServiceProcess]:
        """Start ``services`` concurrently and wait until all are ready.

        ``nats_url`` defaults to the session server; ``database`` is ``"sqlite"`` (a file per
        service under the harness dir), ``"postgres"`` (a fresh database per service) or an
        explicit ``{service: url}``; ``modules`` overrides ``trainops_<name>`` per service.
        """
        if nats_url is None:
            nats_url = cast(str, self._request.getfixturevalue("nats_url"))
        data_dir = self.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        started: list[ServiceProcess] = []
        ports = {name: free_port() for name in services}
        sign_in = identity_env({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        mail = {"SMTP_URL": self.mail.url} if self.mail is not None else {}
        for name in services:
            if name in self.processes:
                raise ValueError(f"service {name} is already started")
            if isinstance(database, Mapping):
                url = database[name]
            elif database == "postgres":
                factory = cast(
                    Callable[..., str], self._request.getfixturevalue("postgres_database")
                )
                url = factory()
            else:
                url = f"sqlite+aiosqlite:///{data_dir / (name + '.db')}"
            port = ports[name]
            env = service_env(
                name,
                port=port,
                nats_url=nats_url,
                database_url=url,
                data_dir=data_dir,
                extra={**sign_in, **mail, **(extra_env or {})},
            )
            process = start_service(
                name,
                port=port,
                env=env,
                log_path=self.root / "logs" / f"{name}.log",
                module=(modules or {}).get(name),
                wait=False,
            )
            self.processes[name] = process
            started.append(process)
        wait_all_ready(started, ready_timeout)
        return {p.name: p for p in started}

    def url(self, name: str) -> str:
        return self.processes[name].url

    def token(self, role: str, region: str | None = None, subject: str = "e2e") -> str:
        """A bearer token the started services accept."""
        from trainops_shared.auth import issue_token

        return issue_token(key=self.signing_key, role=role, region=region, subject=subject)

    def stop_all(self) -> None:
        stop_all(list(self.processes.values()))
        if self.mail is not None:
            self.mail.stop()


@pytest.fixture
def service_processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceHarness]:
    harness = ServiceHarness(request, tmp_path / "services")
    try:
        yield harness
    finally:
        harness.stop_all()
