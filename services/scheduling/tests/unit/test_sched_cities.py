"""City catalogue: the default table, overriding it from settings, and validation messages."""

from __future__ import annotations

import json

import pytest

from trainops_scheduling.domain import (
    DEFAULT_CITIES,
    CityCatalogue,
    InvalidField,
    UnknownCity,
    validate_language,
    validate_sector,
)

pytestmark = pytest.mark.unit


def test_default_catalogue_has_the_programme_cities_and_zones() -> None:
    catalogue = CityCatalogue.default()
    assert catalogue.codes == (
        "almaty",
        "astana",
        "shymkent",
        "oskemen",
        "almaty_region",
        "aktobe",
        "aktau",
        "kostanay",
    )
    assert catalogue.timezone_of("astana") == "Asia/Almaty"
    assert catalogue.timezone_of("aktobe") == "Asia/Aqtobe"
    assert catalogue.timezone_of("aktau") == "Asia/Aqtau"
    assert catalogue.timezone_of("kostanay") == "Asia/Qostanay"
    assert catalogue.default_timezone == "Asia/Almaty"
    assert len(catalogue) == len(DEFAULT_CITIES)


def test_every_default_city_has_a_name_in_each_language() -> None:
    for city in CityCatalogue.default():
        assert set(city.names) == {"en", "ru", "kk"}, city.code
    assert CityCatalogue.default().display_name("oskemen", "kk") == "Өскемен"
    assert CityCatalogue.default().display_name("oskemen", "ru") == "Усть-Каменогорск"


def test_display_name_falls_back_to_english_then_code() -> None:
    catalogue = CityCatalogue.from_mapping(
        {
            "turkistan": {"timezone": "Asia/Almaty", "names": {"en": "Turkistan"}},
            "x": {"timezone": "UTC"},
        }
    )
    assert catalogue.display_name("turkistan", "kk") == "Turkistan"
    assert catalogue.display_name("x", "ru") == "x"


def test_unknown_city_names_it_and_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownCity) as caught:
        CityCatalogue.default().get("almata")
    assert caught.value.field == "cities"
    assert caught.value.city == "almata"
    assert "'almata'" in str(caught.value)
    assert "almaty, astana" in str(caught.value)


def test_validate_many_rejects_duplicates() -> None:
    with pytest.raises(InvalidField, match="listed twice") as caught:
        CityCatalogue.default().validate_many(["almaty", "almaty"])
    assert caught.value.field == "cities"


def test_catalogue_round_trips_through_json_and_can_be_overridden() -> None:
    data = CityCatalogue.default().to_mapping()
    data["kostanay"]["timezone"] = "Asia/Almaty"
    catalogue = CityCatalogue.from_json(json.dumps(data))
    assert catalogue.timezone_of("kostanay") == "Asia/Almaty"
    assert catalogue.codes == CityCatalogue.default().codes


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ('{"almaty": {"timezone": "Mars/Olympus"}}', "cities.almaty.timezone"),
        ('{"almaty": {}}', "cities.almaty"),
        (
            '{"almaty": {"timezone": "Asia/Almaty", "names": {"fr": "Almaty"}}}',
            "cities.almaty.names",
        ),
        ("[1, 2]", "cities"),
        ("{not json", "cities"),
        ("{}", "cities"),
    ],
)
def test_bad_catalogue_json_is_rejected_naming_the_field(payload: str, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        CityCatalogue.from_json(payload)
    assert caught.value.field == field


def test_sector_and_language_validation() -> None:
    assert validate_sector("akimat") == "akimat"
    assert validate_language("kk") == "kk"
    with pytest.raises(InvalidField, match="unknown sector 'press'") as caught:
        validate_sector("press")
    assert caught.value.field == "sector"
    with pytest.raises(InvalidField, match="kk, ru, en"):
        validate_language("de")
