"""The staff pages' figures and rows: the response rate, and which links a page may show."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from trainops_feedback.api.console import invitation_row, participant_code, title_in
from trainops_feedback.domain.uptake import Uptake
from trainops_feedback.handlers.commands import InvitationLink

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("invited", "answered", "rate"),
    [(0, 0, None), (3, 1, 33), (3, 2, 67), (8, 1, 13), (2, 1, 50), (4, 4, 100), (5, 0, 0)],
)
def test_rate_is_whole_percent_rounded_half_up(
    invited: int, answered: int, rate: int | None
) -> None:
    uptake = Uptake(invited=invited, answered=answered)
    assert uptake.rate == rate
    assert uptake.waiting == invited - answered


def _link(*, submitted: bool) -> InvitationLink:
    return InvitationLink(
        registration_id=uuid.uuid4(),
        participant_id=uuid.UUID("0190f3a2-7b4c-7d3e-9a1b-2c3d4e5f6a7b"),
        url="https://feedback.example.kz/f/secret",
        language="kk",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        submitted=submitted,
    )


def test_only_a_usable_link_is_shown() -> None:
    assert (
        invitation_row(_link(submitted=False), expired=False)["url"]
        == "https://feedback.example.kz/f/secret"
    )
    assert invitation_row(_link(submitted=True), expired=False)["url"] is None
    assert invitation_row(_link(submitted=False), expired=True)["url"] is None


def test_participant_code_is_the_random_tail() -> None:
    # UUIDv7 ids begin with their creation time: ids made together share a head, not a tail.
    assert participant_code(uuid.UUID("0190f3a2-7b4c-7d3e-9a1b-2c3d4e5f6a7b")) == "4e5f6a7b"


def test_title_falls_back_through_the_languages() -> None:
    assert title_in({"en": "Ethics", "ru": "Этика"}, "kk") == "Этика"
    assert title_in({"en": "Ethics"}, "kk") == "Ethics"
    assert title_in({}, "kk") == ""
