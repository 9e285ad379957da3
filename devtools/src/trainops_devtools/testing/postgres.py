"""Uniquely named PostgreSQL test databases, created and dropped by the tests that use them.

Which server: ``$TRAINOPS_TEST_POSTGRES`` (an admin URL such as
``postgresql://postgres@127.0.0.1:5432/postgres``; when set and unreachable, that is a failure);
otherwise that default URL; otherwise a ``PostgresContainer`` when a Docker engine answers;
otherwise the test is skipped with a reason that says what is missing and how to provide it
(``TRAINOPS_REQUIRE_POSTGRES=1`` turns that skip into a failure, for CI).
"""

from __future__ import annotations

import os
import secrets
import warnings
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from trainops_devtools.nats_server import docker_engine_available

POSTGRES_ENV = "TRAINOPS_TEST_POSTGRES"
REQUIRE_ENV = "TRAINOPS_REQUIRE_POSTGRES"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_PREFIX = "trainops_test"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server answers; the message names what was tried and how to fix it.

    ``explicit``: the server was named by ``$TRAINOPS_TEST_POSTGRES``, so not reaching it is a
    failure rather than a reason to skip.
    """

    def __init__(self, message: str, *, explicit: bool = False) -> None:
        super().__init__(message)
        self.explicit = explicit


def asyncpg_dsn(url: str) -> str:
    """Any ``postgresql[+driver]://`` / ``postgres://`` URL -> a plain DSN asyncpg accepts."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def database_url_for(admin_url: str, database: str) -> str:
    """The SQLAlchemy ``postgresql+asyncpg://`` URL of ``database`` on ``admin_url``'s server."""
    parsed = make_url(admin_url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg", database=database).render_as_string(
        hide_password=False
    )


def _safe_name(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or len(name) > 63:
        raise ValueError(f"unsafe database name {name!r}")
    return name


async def check_server(admin_url: str, connect_timeout: float = 3.0) -> str | None:
    """``None`` when the server answers at ``admin_url``, else why not."""
    try:
        conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=connect_timeout)
    except Exception as exc:  # OSError, auth errors, timeouts: all mean "not usable"
        return f"{type(exc).__name__}: {exc}".strip()
    await conn.close()
    return None


async def database_exists(admin_url: str, name: str) -> bool:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        found = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await conn.close()
    return found is not None


async def create_database(admin_url: str, name: str | None = None) -> tuple[str, str]:
    """Create a database (default: a unique ``trainops_test_<hex>``); return ``(name, url)``."""
    name = _safe_name(name or f"{DEFAULT_PREFIX}_{secrets.token_hex(6)}")
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, database_url_for(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` even when connections are left open (``WITH (FORCE)``, PostgreSQL 13+)."""
    name = _safe_name(name)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    try:
        if conn.get_server_version().major >= 13:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await conn.close()


@dataclass
class PostgresServer:
    """A reachable PostgreSQL server (admin URL) and, if we started it, its container."""

    admin_url: str
    source: str
    container: Any = None

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
            self.container = None


def _start_container() -> PostgresServer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from testcontainers.community.postgres import PostgresContainer
        except ImportError:
            from testcontainers.postgres import PostgresContainer
        container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
        container.start()
    url = container.get_connection_url(driver=None)
    return PostgresServer(
        admin_url=url, source="testcontainers PostgresContainer", container=container
    )


async def find_postgres_server() -> PostgresServer:
    """Resolve the server as described in the module docstring, or raise
    :class:`PostgresUnavailable` with a message fit for ``pytest.skip``."""
    explicit = os.environ.get(POSTGRES_ENV)
    if explicit:
        problem = await check_server(explicit)
        if problem is None:
            return PostgresServer(admin_url=explicit, source=POSTGRES_ENV)
        raise PostgresUnavailable(
            f"{POSTGRES_ENV}={explicit!r} does not answer ({problem}); fix or unset it",
            explicit=True,
        )
    problem = await check_server(DEFAULT_ADMIN_URL)
    if problem is None:
        return PostgresServer(admin_url=DEFAULT_ADMIN_URL, source="default local server")
    if docker_engine_available():
        return _start_container()
    raise PostgresUnavailable(
        f"PostgreSQL is needed but none answers at {DEFAULT_ADMIN_URL} ({problem}) and no Docker "
        f"engine answers for a PostgresContainer: start PostgreSQL there, or set {POSTGRES_ENV}="
        f"postgresql://USER:PASSWORD@HOST:PORT/postgres (a role that may CREATE DATABASE)"
    )


def postgres_required() -> bool:
    """``TRAINOPS_REQUIRE_POSTGRES=1``: a missing server fails the tests instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "").lower() in ("1", "true", "yes")
