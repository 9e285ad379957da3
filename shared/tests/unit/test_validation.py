from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainops_shared.errors import Invalid
from trainops_shared.settings import SettingsError
from trainops_shared.validation import (
    check_instant,
    check_text,
    instant_bounds,
    load_bounds,
    parse_instant,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2020-12-22", datetime(2020, 12, 22, tzinfo=UTC)),
        ("2020-12-22T09:00", datetime(2020, 12, 22, 9, tzinfo=UTC)),
        ("2020-12-22T09:00:00Z", datetime(2020, 12, 22, 9, tzinfo=UTC)),
        ("2020-12-22t09:00:00z", datetime(2020, 12, 22, 9, tzinfo=UTC)),
        (" 2020-12-22T09:00+05:00 ", datetime(2020, 12, 22, 4, tzinfo=UTC)),
        ("2000-01-01", datetime(2000, 1, 1, tzinfo=UTC)),
        ("2100-12-31T23:59:59", datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_parse_instant_reads_dates_and_datetimes_as_utc(raw, expected):
    value = parse_instant(raw, "from")
    assert value == expected
    assert value.utcoffset() == timedelta(0)


def test_naive_values_are_wall_time_in_the_given_zone():
    almaty = ZoneInfo("Asia/Almaty")
    assert parse_instant("2020-12-22T10:00", "starts_at", zone=almaty) == datetime(
        2020, 12, 22, 4, tzinfo=UTC
    )
    assert parse_instant("2020-12-22T10:00Z", "starts_at", zone=almaty) == datetime(
        2020, 12, 22, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00",
        "0001-01-01T00:00+05:00",
        "9999-12-31T22:00-05:00",
        "9999-12-31T23:00:00-05:00",
        "9999-12-31",
        "1999-12-31T23:59:59",
        "2101-01-01",
        "2000-01-01T04:00+05:00",
    ],
)
def test_instants_outside_the_window_name_the_field(raw):
    with pytest.raises(Invalid) as caught:
        parse_instant(raw, "starts_at")
    assert caught.value.field == "starts_at"
    assert caught.value.status == 422
    assert "outside the accepted range of dates 2000-01-01..2100-12-31" in caught.value.detail


@pytest.mark.parametrize("raw", ["", "tomorrow", "2020-13-01", "2020-12-22T25:00", "2020-12-22 x"])
def test_unparseable_instants_say_what_is_expected(raw):
    with pytest.raises(Invalid, match="is not an ISO date") as caught:
        parse_instant(raw, "to")
    assert caught.value.field == "to"


def test_a_long_unparseable_value_is_cut_short_in_the_message():
    with pytest.raises(Invalid) as caught:
        parse_instant("x" * 5000, "to")
    assert len(caught.value.detail) < 200


@given(st.datetimes(timezones=st.timezones() | st.just(timezone(timedelta(hours=-23)))))
def test_check_instant_never_overflows(value):
    """Any decoded datetime, whatever its offset, is either accepted as UTC or refused as 422."""
    try:
        out = check_instant(value, "starts_at")
    except Invalid as exc:
        assert exc.field == "starts_at"
    else:
        assert out.tzinfo is UTC
        assert instant_bounds().low <= out < instant_bounds().high


def test_check_instant_refuses_the_extremes_msgspec_can_decode():
    for value in (
        datetime.min,
        datetime.max,
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-5))),
    ):
        with pytest.raises(Invalid):
            check_instant(value, "ends_at")


def test_bounds_are_configurable_by_year_or_date():
    bounds = load_bounds({"TRAINOPS_DATE_MIN": "2020", "TRAINOPS_DATE_MAX": "2021-02-28"})
    assert bounds.low == datetime(2020, 1, 1, tzinfo=UTC)
    assert bounds.high == datetime(2021, 3, 1, tzinfo=UTC)
    assert parse_instant("2021-02-28T23:00", "to", bounds=bounds)
    with pytest.raises(Invalid, match=r"2020-01-01\.\.2021-02-28"):
        parse_instant("2021-03-01", "to", bounds=bounds)
    with pytest.raises(Invalid):
        parse_instant("2019-12-31T23:00", "from", bounds=bounds)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRAINOPS_DATE_MIN": "soon"}, "TRAINOPS_DATE_MIN='soon'"),
        ({"TRAINOPS_DATE_MAX": "9998"}, "within years 0002..9998"),
        ({"TRAINOPS_DATE_MIN": "0001"}, "within years 0002..9998"),
        ({"TRAINOPS_DATE_MIN": "2030", "TRAINOPS_DATE_MAX": "2020"}, "must be before"),
    ],
)
def test_bad_bounds_are_a_settings_error(env, message):
    with pytest.raises(SettingsError, match=message):
        load_bounds(env)


@pytest.mark.parametrize("text", ["Айгерім Сәрсенбаева", "O'Brien-Smith", "شريف", "Zoë 🙂", "a  b"])
def test_check_text_keeps_ordinary_text(text):
    assert check_text(text, "full_name") == text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ali\x00", "U+0000"),
        ("Ali\x1bce", "U+001B"),
        ("Ali\x7f", "U+007F"),
        ("Ali\x85", "U+0085"),
        ("Ali\nce", "U+000A"),
        ("Ali\u202ece", "U+202E"),
        ("\u202aAli", "U+202A"),
        ("Ali\u2066ce", "U+2066"),
        ("Ali\u2069", "U+2069"),
        ("Ali\ud800", "U+D800"),
    ],
)
def test_check_text_refuses_control_bidi_and_surrogates(text, code):
    with pytest.raises(Invalid) as caught:
        check_text(text, "full_name")
    assert caught.value.field == "full_name"
    assert code in caught.value.detail
    assert "Ali" not in caught.value.detail, "the value (maybe a name) is never echoed"


def test_multiline_text_allows_line_breaks_and_tabs_only():
    assert check_text("line one\r\nline two\ttab", "comment", multiline=True)
    with pytest.raises(Invalid, match=r"U\+0000"):
        check_text("line one\n\x00", "comment", multiline=True)
    with pytest.raises(Invalid, match=r"U\+202E"):
        check_text("line one\n\u202e", "comment", multiline=True)
