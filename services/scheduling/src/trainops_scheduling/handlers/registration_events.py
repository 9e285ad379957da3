"""Registration's public events, applied to the per-session counts the planners' previews show.

Run by the shared consumer inside its batch transaction, with the inbox row of each event, so a
redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import registrations
from trainops_scheduling.domain.registrations import registration_delta
from trainops_shared.events import (
    Event,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
)
from trainops_shared.inbox import EventHandler


def count_registration(
    conn: Connection, event: ParticipantRegistered | RegistrationCancelled | WaitlistPromoted
) -> None:
    registrations.add_counts(conn, event.session_id, registration_delta(event))


EVENT_HANDLERS: Mapping[type[Event], EventHandler] = {
    ParticipantRegistered: count_registration,
    RegistrationCancelled: count_registration,
    WaitlistPromoted: count_registration,
}
