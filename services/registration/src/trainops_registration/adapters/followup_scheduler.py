"""The recurring pass that decides reminders and certificates, until the service stops.

Each pass is one short write transaction (:func:`~trainops_registration.handlers.followups.
followup_pass`); what it decides is read back from the tables every time, so a pass missed
by a crash or an outage is simply made up by the next one, and two replicas running it side by
side queue nothing twice (the outbox's unique key per registration and kind).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_shared.logging import get_logger
from trainops_shared.storage import Database
from trainops_shared.timeutil import utc_now

log = get_logger(__name__)

FollowupPass = Callable[[Connection, datetime], int]

DEFAULT_INTERVAL_S = 5.0


class FollowupScheduler:
    def __init__(
        self,
        db: Database,
        run_pass: FollowupPass,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], datetime] = utc_now,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._pass = run_pass
        self._interval = interval
        self._clock = clock
        self._on_queued = on_queued
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="followup-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run_once(self) -> int:
        """One pass now; how many messages it queued."""
        now = self._clock()
        queued = await self._db.write(lambda conn: self._pass(conn, now))
        if queued:
            log.info("followups_queued", messages=queued)
            if self._on_queued is not None:
                self._on_queued()
        return queued

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the next pass makes up for it
                log.warning("followup_pass_retry", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
