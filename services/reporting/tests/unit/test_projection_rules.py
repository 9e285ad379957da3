"""The projection's folding rules on plain values (no database)."""

from __future__ import annotations

import pytest

from trainops_reporting.domain.projection import (
    counted_response_change,
    counts_as_registered,
    is_newer,
    overall_of,
)

pytestmark = pytest.mark.unit


def test_only_a_confirmed_seat_in_a_live_session_counts_as_registered() -> None:
    assert counts_as_registered("confirmed", session_cancelled=False)
    assert not counts_as_registered("confirmed", session_cancelled=True)
    assert not counts_as_registered("waitlisted", session_cancelled=False)
    assert not counts_as_registered("cancelled", session_cancelled=False)


def test_an_attribute_moves_only_for_a_newer_version() -> None:
    assert is_newer(3, 2)
    assert not is_newer(2, 2)
    assert not is_newer(1, 2)


@pytest.mark.parametrize(
    ("answers", "overall"),
    [
        ({"overall": 4}, 4),
        ({"overall": 1}, 1),
        ({"overall": 5}, 5),
        ({"overall": 0}, None),
        ({"overall": 6}, None),
        ({"overall": True}, None),
        ({"clarity": 5}, None),
    ],
)
def test_only_a_likert_overall_is_averaged(answers: dict[str, int], overall: int | None) -> None:
    assert overall_of(answers) == overall


def test_a_first_response_adds_one_and_its_rating() -> None:
    change = counted_response_change(4, replaces=False)
    assert (change.feedback, change.overall_sum, change.overall_count) == (1, 4, 1)
    unrated = counted_response_change(None, replaces=False)
    assert (unrated.feedback, unrated.overall_sum, unrated.overall_count) == (1, 0, 0)


def test_an_earlier_response_swaps_the_counted_rating_and_keeps_one_response() -> None:
    change = counted_response_change(2, replaces=True, replaced_overall=5)
    assert (change.feedback, change.overall_sum, change.overall_count) == (0, -3, 0)
    rated_over_unrated = counted_response_change(3, replaces=True, replaced_overall=None)
    assert (rated_over_unrated.overall_sum, rated_over_unrated.overall_count) == (3, 1)
    unrated_over_rated = counted_response_change(None, replaces=True, replaced_overall=3)
    assert (unrated_over_rated.overall_sum, unrated_over_rated.overall_count) == (-3, -1)
