"""Storage: one SQLAlchemy engine per service, transactions as plain functions of a Connection.

Handlers are written as synchronous functions ``fn(conn) -> result`` over a SQLAlchemy
``Connection``. That keeps domain code free of ``await`` and lets each backend run them the way it
is fastest and safest:

* PostgreSQL: an ``AsyncEngine`` on asyncpg; ``AsyncConnection.run_sync`` runs the function in
  one transaction. Serialization failures and deadlocks are retried.
* SQLite: aiosqlite pays a thread hop (~100 µs here) on *every* statement, so a write transaction
  of five statements costs more than its fsync. Instead a single writer thread owns one blocking
  ``sqlite3`` connection and applies queued write functions in **group commits**: every function
  in a batch runs inside its own SAVEPOINT (one failing rolls back alone), then one COMMIT (one
  fsync with ``synchronous=FULL``) makes the whole batch durable before any caller is answered.
  Reads run on a small pool of reader connections (WAL lets them proceed during writes).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from trainops_shared.leadership import AdvisoryLock, Leadership, SoleProcess
from trainops_shared.logging import get_logger

T = TypeVar("T")
TxFn = Callable[[Connection], T]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    """One versioned schema step of a component (``plumbing`` or the service itself)."""

    version: int
    description: str
    upgrade: Callable[[Connection], None]


@dataclass(frozen=True, slots=True)
class MigrationSet:
    component: str
    migrations: Sequence[Migration] = field(default_factory=tuple)


_migrations_meta = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations",
    _migrations_meta,
    sa.Column("component", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)


def apply_migrations(conn: Connection, sets: Sequence[MigrationSet]) -> list[tuple[str, int]]:
    """Apply every pending migration in order; returns what was applied."""
    _migrations_meta.create_all(conn)
    applied: list[tuple[str, int]] = []
    for mset in sets:
        done = set(
            conn.execute(
                sa.select(schema_migrations.c.version).where(
                    schema_migrations.c.component == mset.component
                )
            ).scalars()
        )
        for migration in sorted(mset.migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            migration.upgrade(conn)
            conn.execute(
                schema_migrations.insert().values(
                    component=mset.component,
                    version=migration.version,
                    description=migration.description,
                    applied_at=datetime.now(UTC),
                )
            )
            applied.append((mset.component, migration.version))
    return applied


class DatabaseUnavailable(Exception):
    """The database cannot be reached or refused the connection (transient for consumers)."""


def is_transient(exc: BaseException) -> bool:
    """Whether retrying later may succeed (connection lost, database locked, server gone)."""
    if isinstance(
        exc, DatabaseUnavailable | OSError | asyncio.TimeoutError | ConnectionError | PoolTimeout
    ):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            return True
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return code in {"40001", "40P01", "55P03", "57P01", "57P03", "08006", "08001", "08003"}
    return False


class Database(abc.ABC):
    """The backend-neutral face: ``write(fn)`` commits, ``read(fn)`` only reads."""

    url: str

    @abc.abstractmethod
    async def start(self, migrations: Sequence[MigrationSet]) -> None:
        """Connect and apply pending migrations."""

    @abc.abstractmethod
    async def write(self, fn: TxFn[T], *, serializable: bool = False) -> T:
        """Run ``fn`` in one transaction and commit it before returning its result.

        ``serializable`` asks for SERIALIZABLE isolation where the backend has weaker defaults
        (PostgreSQL): event consumers use it because two streams' handlers may read what the
        other writes (attendance vs. completion), and under READ COMMITTED each could miss the
        other's change. SQLite's single writer is serializable already.
        """

    @abc.abstractmethod
    async def read(self, fn: TxFn[T]) -> T:
        """Run ``fn`` on a connection whose changes are never committed."""

    async def ping(self) -> bool:
        try:
            await self.read(lambda conn: conn.execute(sa.text("SELECT 1")).scalar())
        except Exception:
            return False
        return True

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes and release connections."""

    def leadership(self, role: str) -> Leadership:
        """Who of the processes sharing this store runs ``role`` (one process: this one)."""
        return SoleProcess()

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url.startswith("sqlite") else "postgresql"


DEFAULT_WRITE_TIMEOUT = 3.0
"""Seconds a write may wait for the database before it answers "unavailable": long enough for a
busy group commit, short enough that a held lock turns into a quick 503 rather than a hang."""


def open_database(url: str, *, write_timeout: float = DEFAULT_WRITE_TIMEOUT) -> Database:
    if url.startswith("sqlite"):
        return SqliteDatabase(url, write_timeout=write_timeout)
    if url.startswith("postgresql"):
        return PostgresDatabase(url, write_timeout=write_timeout)
    raise ValueError(f"unsupported database URL {url!r}")


class PostgresDatabase(Database):
    _RETRIES = 5

    def __init__(
        self, url: str, pool_size: int = 10, *, write_timeout: float = DEFAULT_WRITE_TIMEOUT
    ) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None
        self._pool_size = pool_size
        self._write_timeout = write_timeout

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise DatabaseUnavailable("database not started")
        return self._engine

    async def start(self, migrations: Sequence[MigrationSet]) -> None:
        self._engine = create_async_engine(
            self.url,
            pool_size=self._pool_size,
            max_overflow=self._pool_size,
            pool_pre_ping=True,
            pool_timeout=self._write_timeout,
            connect_args={
                "timeout": 5,
                # A row lock held by a stuck transaction fails the waiter (55P03, transient)
                # within the write bound instead of hanging the request.
                "server_settings": {"lock_timeout": str(int(self._write_timeout * 1000))},
            },
            hide_parameters=True,  # parameters are personal data: never in errors or logs
        )
        async with self.engine.begin() as conn:
            # One migrator at a time when several replicas start together.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(7310001)"))
            await conn.run_sync(apply_migrations, migrations)

    async def write(self, fn: TxFn[T], *, serializable: bool = False) -> T:
        delay = 0.01
        for attempt in range(self._RETRIES):
            try:
                async with self.engine.connect() as conn:
                    if serializable:
                        await conn.execution_options(isolation_level="SERIALIZABLE")
                    async with conn.begin():
                        return await conn.run_sync(fn)
            except DBAPIError as exc:
                code = getattr(exc.orig, "sqlstate", None)
                if code not in {"40001", "40P01"} or attempt == self._RETRIES - 1:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def read(self, fn: TxFn[T]) -> T:
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

    def leadership(self, role: str) -> Leadership:
        """Several worker processes may share this database: one leads, by advisory lock."""
        return AdvisoryLock(lambda: self.engine, role)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def create_private_file(path: str) -> None:
    """Create the SQLite file readable and writable by this user only, before SQLite opens it.

    The database holds personal data. SQLite would create it 0644 (less the umask); it creates
    the ``-wal`` and ``-shm`` files with the database file's own mode, so a 0600 file makes all
    three 0600. A folder created here is 0700. A file an older version left wider is tightened.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    target = Path(path)
    if not target.parent.exists():
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(target, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = Path(f"{path}{suffix}")
        try:
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                candidate.chmod(0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:  # not the owner: it still opens, but say so
            log.warning("database_file_mode_kept", file=candidate.name, error=type(exc).__name__)


def _sqlite_path(url: str) -> str:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path:
        raise ValueError(f"SQLite URL {url!r} names no file")
    return path


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (SAVEPOINTs work).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Deleted content is overwritten with zeros, so what was erased is not left in free
        # pages of the file.
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: no lock-upgrade deadlocks between writers.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("writer") else "BEGIN")


@dataclass(slots=True)
class _Job:
    fn: Callable[[Connection], Any]
    future: asyncio.Future[Any]
    taken: bool = False
    """Set when the writer takes the job into a batch: from then on its outcome is decided by
    that batch's COMMIT, and the caller must wait for it to answer truthfully."""


class SqliteDatabase(Database):
    """SQLite with one writer thread doing group commits and a pool of reader threads."""

    MAX_BATCH = 256

    def __init__(
        self, url: str, readers: int = 4, *, write_timeout: float = DEFAULT_WRITE_TIMEOUT
    ) -> None:
        self.url = url
        self.path = _sqlite_path(url)
        self._write_timeout = write_timeout
        self._engine: Engine | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-read")
        self._queue: list[_Job] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._writer_conn: Connection | None = None
        self._closed = False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise DatabaseUnavailable("database not started")
        return self._engine

    async def start(self, migrations: Sequence[MigrationSet]) -> None:
        create_private_file(self.path)
        self._engine = sa.create_engine(
            f"sqlite:///{self.path}",
            connect_args={"check_same_thread": False, "timeout": self._write_timeout},
            hide_parameters=True,  # parameters are personal data: never in errors or logs
            pool_size=8,
            max_overflow=0,
        )
        _configure_sqlite(self._engine, busy_timeout_ms=int(self._write_timeout * 1000))
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._writer, self._open_writer, migrations)
        self._task = asyncio.create_task(self._drain(), name="sqlite-group-commit")

    def _open_writer(self, migrations: Sequence[MigrationSet]) -> None:
        conn = self.engine.connect()
        conn.info["writer"] = True
        with conn.begin():
            apply_migrations(conn, migrations)
        self._writer_conn = conn

    async def write(self, fn: TxFn[T], *, serializable: bool = False) -> T:
        if self._closed or self._wake is None:
            raise DatabaseUnavailable("database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        job = _Job(fn, future)
        self._queue.append(job)
        self._wake.set()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._write_timeout)
        except TimeoutError:
            if job.taken:
                # Its batch is running: it commits or fails as a whole within the busy timeout,
                # and only that outcome is a true answer.
                return await future
            self._queue.remove(job)
            raise DatabaseUnavailable(
                f"the database did not take the write within {self._write_timeout:g} s"
            ) from None

    async def _drain(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while not (self._closed and not self._queue):
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[: self.MAX_BATCH], self._queue[self.MAX_BATCH :]
                for job in batch:
                    job.taken = True
                try:
                    outcomes = await loop.run_in_executor(self._writer, self._commit_batch, batch)
                except BaseException as exc:  # the COMMIT itself failed: nobody is durable
                    for job in batch:
                        if not job.future.done():
                            job.future.set_exception(
                                exc if isinstance(exc, Exception) else DatabaseUnavailable(str(exc))
                            )
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for job, (ok, value) in zip(batch, outcomes, strict=True):
                    if job.future.done():
                        continue
                    if ok:
                        job.future.set_result(value)
                    else:
                        job.future.set_exception(value)

    def _commit_batch(self, batch: list[_Job]) -> list[tuple[bool, Any]]:
        """Apply a batch in one transaction, one COMMIT.

        Optimistic first: the functions run back to back with no SAVEPOINT (a savepoint pair
        costs more than a typical insert through SQLAlchemy). Only if one of them raises is the
        transaction rolled back and the batch run again with each function in its own
        SAVEPOINT, so the failing one is undone alone and the others still commit.
        """
        conn = self._writer_conn
        if conn is None:
            raise DatabaseUnavailable("database is closed")
        failure: Exception | None = None
        try:
            with conn.begin():
                outcomes: list[tuple[bool, Any]] = []
                for job in batch:
                    try:
                        outcomes.append((True, job.fn(conn)))
                    except Exception as exc:
                        failure = exc
                        raise
            return outcomes
        except Exception:
            with contextlib.suppress(Exception):
                conn.rollback()
            if failure is None:
                raise  # the COMMIT itself failed: nobody is durable
        if len(batch) == 1:
            return [(False, failure)]
        return self._commit_isolated(conn, batch)

    def _commit_isolated(self, conn: Connection, batch: list[_Job]) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            with conn.begin():
                for job in batch:
                    try:
                        with conn.begin_nested():
                            outcomes.append((True, job.fn(conn)))
                    except Exception as exc:
                        outcomes.append((False, exc))
        except Exception:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise
        return outcomes

    async def read(self, fn: TxFn[T]) -> T:
        if self._closed:
            raise DatabaseUnavailable("database is closed")
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._run_read, fn)

    def _run_read(self, fn: TxFn[T]) -> T:
        with self.engine.connect() as conn:
            try:
                return fn(conn)
            finally:
                conn.rollback()

    async def close(self) -> None:
        self._closed = True
        if self._task is not None and self._wake is not None:
            # The drain loop finishes the writes already queued, then returns.
            self._wake.set()
            await self._task
        loop = asyncio.get_running_loop()
        if self._writer_conn is not None:
            await loop.run_in_executor(self._writer, self._writer_conn.close)
            self._writer_conn = None
        if self._engine is not None:
            self._engine.dispose()
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
