"""Report parameters at the edges: windows (refused for periods), periods past the programme
window, huge or lowered k."""

from __future__ import annotations

import pytest

from trainops_reporting.api.params import parse_k, parse_period, reject_window
from trainops_shared.errors import Invalid

pytestmark = pytest.mark.unit

ALL_LEVELS = ("all", "year", "quarter", "month")


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, "9999-12-31T23:00:00-05:00", "to"),
        ("0001-01-01T00:00+05:00", None, "from"),
        ("2021-03-01", "2021-04-01", "from"),
    ],
)
def test_arbitrary_windows_are_a_422_pointing_to_period(
    start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        reject_window(start, end)
    assert caught.value.field == field
    assert "period=" in caught.value.detail


@pytest.mark.parametrize("raw", ["9999", "0001", "1999-Q4", "2101-01"])
def test_periods_past_the_programme_window_are_a_422(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_period(raw, ALL_LEVELS)
    assert caught.value.field == "period"
    assert "outside the programme window" in caught.value.detail


@pytest.mark.parametrize("raw", ["1001", str(2**63), "9" * 5000, "-1", "5.0"])
def test_k_is_bounded(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_k(raw)
    assert caught.value.field == "k"
    assert len(caught.value.detail) < 120


@pytest.mark.parametrize("raw", ["1", "4", "6", "50"])
def test_a_request_cannot_choose_another_k_than_the_servers(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_k(raw, 5)
    assert caught.value.field == "k"
    assert "REPORT_MIN_CELL=5" in caught.value.detail


def test_a_request_may_only_repeat_the_servers_k() -> None:
    assert parse_k("8", 8) == 8
    assert parse_k(None, 5) == 5
