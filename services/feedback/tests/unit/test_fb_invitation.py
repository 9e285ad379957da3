"""What a link shows: the form, "already submitted" or the one "not found or expired" page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from trainops_feedback.domain.invitation import InvitationView, link_state

pytestmark = pytest.mark.unit

NOW = datetime(2025, 3, 12, 18, 0, tzinfo=UTC)
OPEN = InvitationView(
    invitation_id="i",
    registration_id="r",
    session_id="s",
    survey_id="v",
    participant_id="p",
    language="kk",
    expires_at=NOW + timedelta(days=1),
    revoked_at=None,
    used_at=None,
    starts_at=NOW - timedelta(days=1),
    timezone="Asia/Almaty",
    training_title={},
)


def test_open_used_and_the_three_faces_of_not_found() -> None:
    assert link_state(OPEN, NOW) == "open"
    assert link_state(replace(OPEN, used_at=NOW), NOW) == "used"
    assert link_state(None, NOW) == "not_found"
    assert link_state(replace(OPEN, revoked_at=NOW), NOW) == "not_found"
    # The expiry instant itself is already expired; a used link past expiry reveals nothing.
    assert link_state(replace(OPEN, expires_at=NOW), NOW) == "not_found"
    assert link_state(replace(OPEN, expires_at=NOW, used_at=NOW), NOW) == "not_found"


def test_naive_instants_are_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        link_state(OPEN, NOW.replace(tzinfo=None))
