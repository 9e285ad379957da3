"""Report dimensions and category value sets."""

from __future__ import annotations

import pytest

from trainops_reporting.domain import (
    AGE_BANDS,
    DIMENSIONS,
    SEXES,
    DuplicateDimension,
    InvalidCategoryValue,
    UnknownDimension,
    age_band_of,
    parse_by,
    validate_age_band,
    validate_by,
    validate_sex,
)

pytestmark = pytest.mark.unit


def test_value_sets() -> None:
    assert DIMENSIONS == ("city", "sector", "sex", "age_band", "language", "mode", "training")
    assert SEXES == ("female", "male", "other", "undisclosed")
    assert AGE_BANDS == ("18-24", "25-34", "35-44", "45-54", "55+", "undisclosed")


def test_by_keeps_order_and_empty_means_totals_only() -> None:
    assert validate_by(["sex", "city"]) == ("sex", "city")
    assert validate_by([]) == ()
    assert parse_by(None) == parse_by(" ") == ()
    assert parse_by("city, age_band") == ("city", "age_band")


def test_unknown_dimension_is_named() -> None:
    with pytest.raises(UnknownDimension) as caught:
        parse_by("city,gender")
    assert caught.value.field == "by"
    assert caught.value.dimension == "gender"
    assert "'gender'" in str(caught.value) and "age_band" in str(caught.value)


def test_duplicate_dimension_is_rejected() -> None:
    with pytest.raises(DuplicateDimension, match="'city'") as caught:
        validate_by(["city", "sex", "city"])
    assert caught.value.field == "by"


def test_category_values() -> None:
    assert validate_sex("undisclosed") == "undisclosed"
    assert validate_age_band("55+") == "55+"
    with pytest.raises(InvalidCategoryValue) as caught:
        validate_sex("f")
    assert caught.value.field == "sex"
    with pytest.raises(InvalidCategoryValue) as caught:
        validate_age_band("55-64")
    assert caught.value.field == "age_band"


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (44, "35-44"),
        (54, "45-54"),
        (55, "55+"),
        (90, "55+"),
        (None, "undisclosed"),
    ],
)
def test_age_band_of(age: int | None, band: str) -> None:
    assert age_band_of(age) == band


@pytest.mark.parametrize("age", [17, -1, True])
def test_minors_and_non_ages_are_rejected(age: int) -> None:
    with pytest.raises(InvalidCategoryValue) as caught:
        age_band_of(age)
    assert caught.value.field == "age"
