"""Query-parameter parsing and the CSV rendering of the donor report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from trainops_reporting.api.controllers import donor_csv
from trainops_reporting.api.params import parse_filter, parse_format, parse_instant, parse_k
from trainops_reporting.domain.categories import ReportingError
from trainops_shared.errors import Invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-12-22", datetime(2020, 12, 22, tzinfo=UTC)),
        ("2020-12-22T10:00:00", datetime(2020, 12, 22, 10, tzinfo=UTC)),
        ("2020-12-22T10:00:00Z", datetime(2020, 12, 22, 10, tzinfo=UTC)),
        ("2020-12-22T10:00:00+06:00", datetime(2020, 12, 22, 4, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_instants_are_utc(raw: str | None, expected: datetime | None) -> None:
    assert parse_instant(raw, "from") == expected


@pytest.mark.parametrize(
    ("start", "end", "training", "field"),
    [
        ("yesterday", None, None, "from"),
        (None, "2020-02-30", None, "to"),
        ("2021-01-02", "2021-01-01", None, "from"),
        ("2021-01-01", "2021-01-01T00:00:00Z", None, "from"),
        (None, None, "not-a-uuid", "training_id"),
    ],
)
def test_bad_filters_name_the_parameter(
    start: str | None, end: str | None, training: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_filter(start, end, training)
    assert caught.value.field == field


def test_filter_parses_training() -> None:
    training = uuid.uuid4()
    assert parse_filter(None, None, str(training)).training_id == training


def test_k_and_format() -> None:
    assert parse_k(None) == 5
    assert parse_k("1") == 1
    for bad in ("0", "-3", "x"):
        with pytest.raises(Invalid) as caught:
            parse_k(bad)
        assert caught.value.field == "k"
    assert parse_format(None) == "json"
    assert parse_format("CSV") == "csv"
    with pytest.raises(Invalid):
        parse_format("xml")


def test_unknown_dimension_is_a_reporting_error_on_by() -> None:
    from trainops_reporting.api.params import parse_dimensions

    assert parse_dimensions("city, sex") == ("city", "sex")
    with pytest.raises(ReportingError) as caught:
        parse_dimensions("city,colour")
    assert caught.value.field == "by" and "colour" in str(caught.value)


def test_csv_marks_suppressed_counts_and_ends_with_total() -> None:
    report = {
        "by": ["city", "sex"],
        "k": 5,
        "rows": [
            {
                "city": "almaty",
                "sex": "female",
                "registered": 12,
                "attended": None,
                "feedback_responses": 0,
                "satisfaction_mean": None,
                "suppressed": {"attended": "primary"},
            }
        ],
        "totals": {
            "registered": 12,
            "attended": None,
            "feedback_responses": 0,
            "satisfaction_mean": None,
            "suppressed": {"attended": "primary"},
        },
    }
    assert donor_csv(report).splitlines() == [
        "city,sex,registered,attended,feedback_responses,satisfaction_mean",
        "almaty,female,12,<5,0,",
        "TOTAL,,12,<5,0,",
    ]


def test_csv_without_dimensions_has_a_label_column() -> None:
    totals = {
        "registered": 7,
        "attended": 6,
        "feedback_responses": 5,
        "satisfaction_mean": 4.2,
        "suppressed": {},
    }
    report = {"by": [], "k": 5, "rows": [totals], "totals": totals}
    assert donor_csv(report).splitlines() == [
        "scope,registered,attended,feedback_responses,satisfaction_mean",
        "all,7,6,5,4.2",
        "TOTAL,7,6,5,4.2",
    ]
