"""Query-parameter parsing and the CSV rendering of the donor report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from trainops_reporting.api.controllers import donor_csv
from trainops_reporting.api.params import (
    ReportPolicy,
    load_policy,
    parse_dimensions,
    parse_format,
    parse_k,
    parse_period,
    parse_training,
)
from trainops_reporting.domain.categories import ReportingError
from trainops_reporting.handlers.periods import period_window
from trainops_shared.errors import Invalid
from trainops_shared.settings import SettingsError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "levels", "expected"),
    [
        (None, ("all",), "all"),
        ("all", ("all",), "all"),
        ("2021", ("all", "year"), "2021"),
        ("2021-Q2", ("all", "quarter"), "2021-Q2"),
        ("2021-03", ("all", "month"), "2021-03"),
    ],
)
def test_periods(raw: str | None, levels: tuple[str, ...], expected: str) -> None:
    assert parse_period(raw, levels) == expected


@pytest.mark.parametrize(
    ("raw", "levels"),
    [
        ("2021", ("all",)),
        ("2021-Q5", ("all", "quarter")),
        ("2021-13", ("all", "month")),
        ("x", ("all",)),
    ],
)
def test_bad_periods_name_the_parameter(raw: str, levels: tuple[str, ...]) -> None:
    with pytest.raises(Invalid) as caught:
        parse_period(raw, levels)
    assert caught.value.field == "period"


def test_period_windows_are_utc_bounds() -> None:
    assert period_window("all") == (None, None)
    assert period_window("2021") == (
        datetime(2021, 1, 1, tzinfo=UTC),
        datetime(2022, 1, 1, tzinfo=UTC),
    )
    assert period_window("2021-Q4") == (
        datetime(2021, 10, 1, tzinfo=UTC),
        datetime(2022, 1, 1, tzinfo=UTC),
    )
    assert period_window("2021-02") == (
        datetime(2021, 2, 1, tzinfo=UTC),
        datetime(2021, 3, 1, tzinfo=UTC),
    )


def test_training_is_a_uuid() -> None:
    training = uuid.uuid4()
    assert parse_training(str(training)) == training
    with pytest.raises(Invalid) as caught:
        parse_training("not-a-uuid")
    assert caught.value.field == "training_id"


def test_policy_is_read_and_checked_at_start_up() -> None:
    assert load_policy({}) == ReportPolicy(5, ("all",))
    assert load_policy({"REPORT_MIN_CELL": "10", "REPORT_PERIODS": "year,all"}) == ReportPolicy(
        10, ("all", "year")
    )
    for env in ({"REPORT_MIN_CELL": "0"}, {"REPORT_MIN_CELL": "five"}, {"REPORT_PERIODS": "year"}):
        with pytest.raises(SettingsError):
            load_policy(env)


def test_k_and_format() -> None:
    assert parse_k(None) == 5
    assert parse_k(" 5 ") == 5
    assert parse_k("1", server_k=1) == 1
    for bad in ("0", "-3", "x", "1", "4", "6", "50", "1000", "9" * 40):
        with pytest.raises(Invalid) as caught:
            parse_k(bad)
        assert caught.value.field == "k"
        assert "REPORT_MIN_CELL=5" in str(caught.value)
        assert "9" * 13 not in str(caught.value)  # the caller's text is echoed short
    assert parse_format(None) == "json"
    assert parse_format("CSV") == "csv"
    with pytest.raises(Invalid):
        parse_format("xml")


@pytest.mark.parametrize(
    ("raw", "training"),
    [("city,sex,age_band", None), ("sex,age_band", None), ("sex", uuid.uuid4())],
)
def test_breakdowns_outside_the_universe_are_refused(raw: str, training: uuid.UUID | None) -> None:
    with pytest.raises(Invalid) as caught:
        parse_dimensions(raw, training)
    assert caught.value.field == "by"


def test_breakdowns_inside_the_universe() -> None:
    assert parse_dimensions("sex,city") == ("sex", "city")
    assert parse_dimensions("training,city") == ("training", "city")
    assert parse_dimensions("city", uuid.uuid4()) == ("city",)
    assert parse_dimensions("training", uuid.uuid4()) == ("training",)


def test_unknown_dimension_is_a_reporting_error_on_by() -> None:
    assert parse_dimensions("city, sex") == ("city", "sex")
    with pytest.raises(ReportingError) as caught:
        parse_dimensions("city,colour")
    assert caught.value.field == "by" and "colour" in str(caught.value)


def test_csv_marks_primary_and_complementary_apart_and_ends_with_total() -> None:
    report = {
        "by": ["city", "sex"],
        "k": 5,
        "rows": [
            {
                "city": "almaty",
                "sex": "female",
                "registered": 12,
                "attended": None,
                "feedback_responses": None,
                "satisfaction_mean": None,
                "suppressed": {"attended": "primary", "feedback_responses": "complementary"},
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
        "city,sex,registered,attended,feedback_responses,satisfaction_mean,"
        "attendance_rate,feedback_completion,share_of_women",
        "almaty,female,12,<5,x,x,,,",
        "TOTAL,,12,<5,0,,,,",
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
        "scope,registered,attended,feedback_responses,satisfaction_mean,"
        "attendance_rate,feedback_completion,share_of_women",
        "all,7,6,5,4.2,,,",
        "TOTAL,7,6,5,4.2,,,",
    ]
