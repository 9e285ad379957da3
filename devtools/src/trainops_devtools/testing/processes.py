"""Run trainops services as separate processes: for end-to-end tests and for ``trainops up``.

:func:`start_service` runs ``python -m trainops_<name>`` with an environment built by
:func:`service_env`, appends its output to a log file, and waits (with a deadline, polling) until
``GET /ready`` answers 200. :meth:`ServiceProcess.stop` sends SIGTERM, then SIGKILL. Every
failure message carries the tail of the service's log, so a broken start is diagnosable from the
test report alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from trainops_devtools.nats_server import auth_for_url

SERVICES: tuple[str, ...] = ("registration", "scheduling", "feedback", "reporting", "identity")


def identity_env(urls: Mapping[str, str]) -> dict[str, str]:
    """What every service of one system needs to know of sign-in: where the identity service
    is (pages redirect there), and, for identity, every service's origin (the only places a
    sign-in may send the browser back to)."""
    env = {
        "TRAINOPS_SERVICE_ORIGINS": ",".join(urls.values()),
        # The consoles link to each other (a coordinator's page to the feedback links, ...).
        "TRAINOPS_SERVICE_URLS": ",".join(f"{name}={url}" for name, url in urls.items()),
    }
    if "identity" in urls:
        env["TRAINOPS_IDENTITY_URL"] = urls["identity"]
    return env


class ServiceStartError(RuntimeError):
    """A service exited or did not become ready in time; the message ends with its log tail."""


def tail_text(path: Path, lines: int = 60, start: int = 0) -> str:
    """The last ``lines`` lines of ``path`` from byte offset ``start`` on."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def service_env(
    name: str,
    *,
    port: int,
    nats_url: str,
    database_url: str,
    data_dir: Path,
    host: str = "127.0.0.1",
    env: str = "development",
    jwt_public_key: str | None = None,
    public_url: str | None = None,
    log_level: str = "INFO",
    log_format: str = "json",
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one service process (``base`` defaults to ``os.environ``).

    ``TRAINOPS_PUBLIC_URL`` defaults to the service's own ``http://host:port``. When
    ``nats_url`` is a server this process started with generated users, the service gets the
    bare URL and its own user's credentials file (never the password in ``NATS_URL``).
    Without ``jwt_public_key`` a development service uses its data directory's key pair.
    """
    result = dict(os.environ if base is None else base)
    for inherited in ("JWT_SECRET", "JWT_PUBLIC_KEY", "JWT_PUBLIC_KEY_FILE"):
        result.pop(inherited, None)
    result.pop("NATS_CREDENTIALS_FILE", None)
    result.update(service_nats_env(name, nats_url))
    if jwt_public_key is not None:
        result["JWT_PUBLIC_KEY"] = jwt_public_key
    result.update(
        {
            "TRAINOPS_ENV": env,
            "DATABASE_URL": database_url,
            "TRAINOPS_DATA_DIR": str(data_dir),
            "TRAINOPS_HOST": host,
            "TRAINOPS_PORT": str(port),
            "TRAINOPS_PUBLIC_URL": public_url or f"http://{host}:{port}",
            "LOG_LEVEL": log_level,
            "LOG_FORMAT": log_format,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if extra:
        result.update(extra)
    return result


def service_nats_env(name: str, nats_url: str) -> dict[str, str]:
    """``NATS_URL`` (and ``NATS_CREDENTIALS_FILE``) of service ``name`` for ``nats_url``."""
    auth = auth_for_url(nats_url)
    if auth is None or name not in auth.credentials:
        return {"NATS_URL": nats_url}
    bare = ",".join(
        f"{scheme}://{rest.rpartition('@')[2]}"
        for scheme, _, rest in (part.strip().partition("://") for part in nats_url.split(","))
    )
    return {"NATS_URL": bare, "NATS_CREDENTIALS_FILE": str(auth.credentials_file(name))}


@dataclass(eq=False)
class ServiceProcess:
    """One service subprocess and where to reach it."""

    name: str
    host: str
    port: int
    log_path: Path
    env: dict[str, str]
    module: str
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0
    """Where this run's output starts in ``log_path`` (the file is appended to across runs)."""
    started_at: float = field(default=0.0)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_tail(self, lines: int = 60) -> str:
        return tail_text(self.log_path, lines, self.log_offset)

    def start(self) -> ServiceProcess:
        if self.is_running():
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.log_offset = log.tell()
            # A JSON line like the service's own, so the whole file stays machine-readable.
            marker = {
                "event": "service_starting",
                "level": "info",
                "service": self.name,
                "module": self.module,
                "url": self.url,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            log.write(json.dumps(marker).encode() + b"\n")
            log.flush()
            # Own session: Ctrl-C in a terminal reaches only the supervisor, which then stops
            # the services in order.
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        return self

    def ready(self, client: httpx.Client | None = None) -> bool:
        """One probe of ``GET /ready``."""
        try:
            if client is None:
                response = httpx.get(f"{self.url}/ready", timeout=2.0)
            else:
                response = client.get(f"{self.url}/ready", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def failure(self, reason: str) -> ServiceStartError:
        return ServiceStartError(
            f"service {self.name} ({self.module} on {self.url}) {reason}; "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_all_ready([self], timeout)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout``, then SIGKILL; return the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
        return process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, for fault tests (worker processes included)."""
        process = self.process
        if process is not None and process.poll() is None:
            _kill_group(process)

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.process = None
        self.start()
        self.wait_ready(timeout)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the service and the worker processes it forked (its own session's group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_all_ready(services: list[ServiceProcess], timeout: float = 30.0) -> None:
    """Poll every service's ``/ready`` until all answer 200; raise :class:`ServiceStartError`
    naming the first one that exited or, at the deadline, every one that is not ready."""
    deadline = time.monotonic() + timeout
    pending = list(services)
    delay = 0.05
    with httpx.Client() as client:
        while pending:
            for service in list(pending):
                if not service.is_running():
                    raise service.failure(f"exited with code {service.returncode} during start-up")
                if service.ready(client):
                    pending.remove(service)
            if not pending:
                return
            if time.monotonic() >= deadline:
                raise ServiceStartError(
                    "\n\n".join(
                        str(s.failure(f"was not ready within {timeout:.0f} s")) for s in pending
                    )
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)


def start_service(
    name: str,
    *,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    host: str = "127.0.0.1",
    module: str | None = None,
    wait: bool = True,
    ready_timeout: float = 30.0,
) -> ServiceProcess:
    """Start ``python -m trainops_<name>`` (or ``module``) and, with ``wait``, wait until ready.
    On a failed start the process is stopped before the error is raised."""
    service = ServiceProcess(
        name=name,
        host=host,
        port=port,
        log_path=log_path,
        env=dict(env),
        module=module or f"trainops_{name}",
    ).start()
    if wait:
        try:
            service.wait_ready(ready_timeout)
        except BaseException:
            service.stop()
            raise
    return service


def stop_all(services: list[ServiceProcess], timeout: float = 10.0) -> None:
    """SIGTERM every service at once (one signal each: a second one makes uvicorn skip its
    graceful shutdown), wait until ``timeout`` for all, then SIGKILL what is left."""
    deadline = time.monotonic() + timeout
    for service in services:
        if service.is_running() and service.process is not None:
            service.process.send_signal(signal.SIGTERM)
    for service in services:
        process = service.process
        if process is None:
            continue
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
