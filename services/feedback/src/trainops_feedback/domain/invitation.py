"""An invitation as its page and its submission see it, and the state a link is in.

Unknown, revoked and expired links are one state on purpose (``not_found``): the answer reveals
nothing about which tokens ever existed. A used link stays ``used`` forever: the response stands.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trainops_feedback.domain.tokens import is_expired

LinkState = Literal["open", "used", "not_found"]
InvitationKind = Literal["feedback", "pre_test", "post_test"]
"""What a link opens: the feedback form after a session (``/f/…``), or the knowledge test
before (``pre_test``) or after it (``post_test``, both ``/t/…``). Whoever sends invitations
picks by kind: a pre-test belongs in the confirmation, the others after the session."""


@dataclass(frozen=True, slots=True)
class InvitationView:
    """An invitation with what its page shows and its submission needs."""

    invitation_id: uuid.UUID
    registration_id: uuid.UUID
    session_id: uuid.UUID
    survey_id: uuid.UUID
    participant_id: uuid.UUID
    language: str
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    starts_at: datetime
    timezone: str
    training_title: dict[str, str]


def link_state(view: InvitationView | None, now: datetime) -> LinkState:
    """What the link of ``view`` shows at ``now``: the form, "already submitted" or "not found"."""
    if view is None or view.revoked_at is not None or is_expired(view.expires_at, now):
        return "not_found"
    return "used" if view.used_at is not None else "open"
