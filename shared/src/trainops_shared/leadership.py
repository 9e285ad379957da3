"""Which of several worker processes runs a job that must run once (the event outbox relay).

On PostgreSQL several processes may serve one service (``TRAINOPS_WORKERS``). Most background
work is safe side by side because it claims rows (mail) or is idempotent (follow-ups); the event
relay is not: two relays reading the same unsent rows would publish each twice and could
interleave one aggregate's events out of order. So one process leads: it holds a session-level
advisory lock on a connection of its own, and the others stand by and try again now and then. A
leader that dies (or loses that connection) releases the lock with its session, and a standby
takes over at its next try.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trainops_shared.logging import get_logger

log = get_logger(__name__)

_TRY = sa.text("SELECT pg_try_advisory_lock(:key)")
_CHECK = sa.text("SELECT 1")
_UNLOCK = sa.text("SELECT pg_advisory_unlock(:key)")


def lock_key(role: str) -> int:
    """A stable signed 64-bit advisory lock key for ``role`` (the same in every process)."""
    digest = hashlib.sha256(f"trainops-leader:{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership(abc.ABC):
    """Whether this process may run the job now; asked before each unit of the job."""

    @abc.abstractmethod
    async def hold(self) -> bool:
        """Take or confirm the role: ``True`` while this process leads."""

    @abc.abstractmethod
    async def release(self) -> None:
        """Give the role up (at shutdown), so a standby takes it without waiting for a crash."""


class SoleProcess(Leadership):
    """One process per store (SQLite): it always leads."""

    async def hold(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock(Leadership):
    """Leads while it holds ``pg_try_advisory_lock(key)`` on a dedicated connection.

    The connection is autocommit, so holding it leaves no transaction open. A standby tries at
    most every ``retry_s`` (a relay is woken after every commit; a try per commit would cost a
    round trip per request). The leader confirms its connection on every :meth:`hold`: once it
    is gone the lock is too, and it stops at once.
    """

    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        role: str,
        *,
        retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self.role = role
        self._key = lock_key(role)
        self._retry_s = retry_s
        self._clock = clock
        self._conn: AsyncConnection | None = None
        self._next_try = 0.0

    @property
    def leading(self) -> bool:
        return self._conn is not None

    async def hold(self) -> bool:
        if self._conn is not None:
            try:
                await self._conn.execute(_CHECK)
            except Exception as exc:
                log.warning("leadership_lost", role=self.role, error=type(exc).__name__)
                await self._discard()
                self._next_try = self._clock() + self._retry_s
                return False
            return True
        if self._clock() < self._next_try:
            return False
        self._next_try = self._clock() + self._retry_s
        conn: AsyncConnection | None = None
        try:
            conn = await self._engine().connect()
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = bool((await conn.execute(_TRY, {"key": self._key})).scalar())
        except Exception as exc:
            log.warning("leadership_try_failed", role=self.role, error=type(exc).__name__)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                    await conn.close()
            return False
        if not got:
            await conn.close()
            return False
        self._conn = conn
        log.info("leadership_taken", role=self.role)
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await conn.execute(_UNLOCK, {"key": self._key})
            await conn.close()
        except Exception:
            # Unsure whether the lock went: never hand a connection that may still hold it back
            # to the pool, close the session (which releases it) instead.
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
                await conn.close()
