"""Service settings, read from environment variables and validated before anything starts.

A service that is misconfigured must stop at once with one line saying what to fix, instead of
failing later inside a request; :class:`SettingsError` carries that line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

DEV_JWT_SECRET = "trainops-development-secret-do-not-use-in-production"
"""Lets ``trainops up`` run with no configuration; refused when ``TRAINOPS_ENV=production``."""

DEFAULT_PORTS: dict[str, int] = {
    "registration": 8001,
    "scheduling": 8002,
    "feedback": 8003,
    "reporting": 8004,
}
SUPPORTED_DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(Exception):
    """A setting is missing or invalid; the message says which variable and what to set."""


def default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "trainops"


@dataclass(frozen=True, slots=True)
class Settings:
    service: str
    env: Literal["development", "production"]
    nats_url: str
    database_url: str
    data_dir: Path
    host: str
    port: int
    public_url: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    log_level: str
    log_format: Literal["json", "console", "auto"]
    nats_connect_timeout: float
    stream_replicas: int
    max_body_bytes: int

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range {low}..{high}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def validate_database_url(url: str, name: str = "DATABASE_URL") -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise SettingsError(
            f"{name}={url!r} is not supported: use sqlite+aiosqlite:///path/to/file.db "
            f"or postgresql+asyncpg://user@host:5432/dbname"
        )
    if scheme == "sqlite+aiosqlite" and url.rstrip("/") == "sqlite+aiosqlite:":
        raise SettingsError(f"{name} names no SQLite file")
    return url


def validate_nats_url(url: str) -> str:
    for part in url.split(","):
        parts = urlsplit(part.strip())
        if parts.scheme not in ("nats", "tls", "ws", "wss") or not parts.hostname:
            raise SettingsError(f"NATS_URL={url!r} is not a nats://host:port URL")
    return url


def load_settings(service: str, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings of ``service`` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    if service not in DEFAULT_PORTS:
        raise SettingsError(f"unknown service {service!r}")
    mode = _choice(env, "TRAINOPS_ENV", "development", ("development", "production"))
    data_dir = Path(env.get("TRAINOPS_DATA_DIR") or default_data_dir()).expanduser()
    database_url = validate_database_url(
        env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / (service + '.db')}"
    )
    secret = env.get("JWT_SECRET") or ""
    if not secret:
        if mode == "production":
            raise SettingsError("JWT_SECRET is required when TRAINOPS_ENV=production")
        secret = DEV_JWT_SECRET
    elif mode == "production" and (secret == DEV_JWT_SECRET or len(secret) < 32):
        raise SettingsError("JWT_SECRET must be a random secret of at least 32 characters")
    host = env.get("TRAINOPS_HOST") or "127.0.0.1"
    port = _int(env, "TRAINOPS_PORT", DEFAULT_PORTS[service], 1, 65535)
    timeout_ms = _int(env, "NATS_CONNECT_TIMEOUT_MS", 3000, 100, 120_000)
    log_format = _choice(env, "LOG_FORMAT", "auto", ("json", "console", "auto"))
    return Settings(
        service=service,
        env=cast(Literal["development", "production"], mode),
        nats_url=validate_nats_url(env.get("NATS_URL") or "nats://127.0.0.1:4222"),
        database_url=database_url,
        data_dir=data_dir,
        host=host,
        port=port,
        public_url=(env.get("TRAINOPS_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
        jwt_secret=secret,
        jwt_issuer=env.get("JWT_ISSUER") or "trainops",
        jwt_audience=env.get("JWT_AUDIENCE") or "trainops",
        log_level=_choice(
            env, "LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        ),
        log_format=cast(Literal["json", "console", "auto"], log_format),
        nats_connect_timeout=timeout_ms / 1000,
        stream_replicas=_int(env, "NATS_STREAM_REPLICAS", 1, 1, 5),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 256 * 1024, 1024, 64 * 1024 * 1024),
    )
