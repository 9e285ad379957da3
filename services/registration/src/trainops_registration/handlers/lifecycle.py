"""The personal-data lifecycle: consents, erasure on request or by retention, subject access.

Reach is the registration rule: an admin, or the coordinator of the person's region (another
region's person is "not found"). Every action is audited with ids and codes only: which
person (the pseudonymous id), which purpose, why erased; never a name or a contact.

Erasure publishes no event. Other services hold the pseudonymous id and the categories only,
and must keep them: reporting's counts (and their frozen snapshots) stay unchanged, feedback's
answers stay unattributed. Once registration's key and blind index are gone, no service can
link that id to a person any more, so there is nothing for them to forget.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from trainops_registration.adapters import lifecycle, people
from trainops_registration.domain.consent import ConsentRecord, ensure_withdrawable
from trainops_registration.domain.errors import NotFound
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.logging import get_logger
from trainops_shared.storage import Database
from trainops_shared.timeutil import utc_now

log = get_logger(__name__)

RETENTION_ACTOR = "registration-retention"
"""The audit actor of erasures the retention job makes."""

RETENTION_BATCH = 200
"""People erased per retention transaction: a backlog goes in short transactions."""


def _visible(conn: Connection, participant_id: uuid.UUID, principal: Principal) -> None:
    if people.get_person(conn, participant_id, principal) is None:
        raise NotFound("participant_id", f"participant {participant_id} not found")


def erase_participant(
    conn: Connection, participant_id: uuid.UUID, principal: Principal
) -> datetime:
    """DELETE /participants/{id}: shred the person's personal data (404 if not in reach, or
    already erased: nothing is held to erase). Returns when."""
    _visible(conn, participant_id, principal)
    now = utc_now()
    erase(conn, participant_id, principal, "request", now)
    return now


def erase(
    conn: Connection,
    participant_id: uuid.UUID,
    actor: Principal | str,
    reason: str,
    now: datetime,
) -> bool:
    """The one erasure: shred the person's data and audit it (``reason``: ``request``, staff
    on the person's behalf; ``consent_withdrawn``, the person withdrew taking part themselves).
    ``False`` when there was nothing left to erase."""
    erased = lifecycle.erase_person(conn, participant_id, now)
    if erased:
        record_audit(
            conn,
            actor,
            "participant.erased",
            "participant",
            participant_id,
            {"reason": reason},
            at=now,
        )
    return erased


def export_participant(
    conn: Connection, participant_id: uuid.UUID, principal: Principal
) -> dict[str, Any]:
    """GET /participants/{id}/export: everything held about the person (the access is
    audited; the audit entry holds the id only)."""
    _visible(conn, participant_id, principal)
    exported = lifecycle.export_person(conn, participant_id)
    if exported is None:
        raise NotFound("participant_id", f"participant {participant_id} not found")
    record_audit(conn, principal, "participant.exported", "participant", participant_id)
    return exported


def read_consents(
    conn: Connection, participant_id: uuid.UUID, principal: Principal
) -> list[ConsentRecord]:
    _visible(conn, participant_id, principal)
    return lifecycle.consents_of(conn, participant_id)


@dataclass(frozen=True, slots=True)
class WithdrawConsent:
    participant_id: uuid.UUID
    purpose: str
    offered: tuple[str, ...]


def withdraw_consent(
    conn: Connection, command: WithdrawConsent, principal: Principal
) -> list[ConsentRecord]:
    """Withdraw one purpose on the person's behalf; withdrawing what was not agreed changes
    nothing and says so in the answer (the purpose stays absent or withdrawn)."""
    _visible(conn, command.participant_id, principal)
    ensure_withdrawable(command.purpose, command.offered)
    now = utc_now()
    if lifecycle.withdraw_consent(conn, command.participant_id, command.purpose, now, "staff"):
        record_audit(
            conn,
            principal,
            "participant.consent_withdrawn",
            "participant",
            command.participant_id,
            {"purpose": command.purpose},
            at=now,
        )
    return lifecycle.consents_of(conn, command.participant_id)


def run_retention(conn: Connection, now: datetime, retain_for: timedelta) -> int:
    """Erase up to :data:`RETENTION_BATCH` people whose last session ended more than
    ``retain_for`` before ``now``; how many. Idempotent: an erased person is never due."""
    due = lifecycle.due_for_retention(conn, now - retain_for, RETENTION_BATCH)
    for participant_id in due:
        if lifecycle.erase_person(conn, participant_id, now):
            record_audit(
                conn,
                RETENTION_ACTOR,
                "participant.erased",
                "participant",
                participant_id,
                {"reason": "retention", "retention_days": retain_for.days},
                at=now,
            )
    return len(due)


Clock = Callable[[], datetime]


class RetentionSchedule:
    """Runs :func:`run_retention` every ``interval`` seconds while the service runs. A failed
    run (the database away) is logged and tried at the next tick; each batch is its own
    transaction, so a stop between two loses nothing and a restart just continues."""

    def __init__(
        self,
        db: Database,
        retain_for: timedelta,
        interval: float,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._retain_for = retain_for
        self._interval = interval
        self._clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Erase everyone due now; how many (logged as a count, never who)."""
        total = 0
        while True:
            erased = await self._db.write(
                partial(run_retention, now=self._clock(), retain_for=self._retain_for)
            )
            total += erased
            if erased < RETENTION_BATCH:
                break
        if total:
            log.info("retention_erased", erased=total, retention_days=self._retain_for.days)
        return total

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the next tick tries again
                log.warning("retention_retry", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
