"""What the coordinator sees of messages that did not go, and sending one again.

A coordinator sees and retries their own region's only (another region's message does not
exist for them: 404); an admin sees all. Retrying is audited (who, which message, its status
before), never with the address or the text.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy.engine import Connection

from trainops_registration.adapters import failed_messages
from trainops_registration.domain.identity import region_code
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, NotFound

LIST_MAX: Final = 500
"""A page shows at most this many (newest first); a backlog larger than that is an outage."""


def _region(principal: Principal) -> str | None:
    scope = principal.region_scope
    return None if principal.role != "coordinator" else (region_code(scope) or "")


def read_stuck_messages(
    conn: Connection, principal: Principal
) -> list[failed_messages.StuckMessage]:
    return failed_messages.stuck_messages(conn, _region(principal), LIST_MAX)


def retry_message(
    conn: Connection, message_id: uuid.UUID, principal: Principal, now: datetime
) -> str:
    """Queue the message again; its status before. 404 unknown (or another region's), 409 for
    one that is not stuck (waiting or sent already)."""
    before = failed_messages.send_again(conn, message_id, _region(principal), now)
    if before is None:
        raise NotFound(f"message {message_id} not found", field="message_id")
    if before not in failed_messages.STUCK:
        raise Conflict(f"message {message_id} is {before}, not failed", field="message_id")
    record_audit(
        conn,
        principal,
        "message.retried",
        "message",
        message_id,
        {"previous_status": before},
        at=now,
    )
    return before
