"""Report parameters at the edges: far offsets, dates past the programme window, huge k."""

from __future__ import annotations

import pytest

from trainops_reporting.api.params import parse_filter, parse_k
from trainops_shared.errors import Invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (None, "9999-12-31T23:00:00-05:00", "to"),
        ("0001-01-01T00:00+05:00", None, "from"),
        ("0001-01-01", None, "from"),
        (None, "2101-01-01", "to"),
        ("1999-12-31T23:59:59Z", "2020-01-01", "from"),
    ],
)
def test_instants_past_the_window_are_a_422_naming_the_bound(
    start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_filter(start, end, None)
    assert caught.value.field == field
    assert "outside the accepted range of dates" in caught.value.detail


@pytest.mark.parametrize("raw", ["1001", str(2**63), "9" * 5000])
def test_k_is_bounded(raw: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_k(raw)
    assert caught.value.field == "k"
    assert len(caught.value.detail) < 120
