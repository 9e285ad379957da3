"""The programme's cities (with their time zones and names), and the checks of the shared
vocabulary's sectors and languages.

The city table is scheduling's configuration, not logic: :data:`DEFAULT_CITIES` is only the
starting point and the service can load a replacement from settings/JSON with
:meth:`CityCatalogue.from_mapping` or :meth:`CityCatalogue.from_json`, so adding a city (or
fixing a zone) needs no code change. Sectors and languages are the programme's vocabulary
(:mod:`trainops_shared.events.vocabulary`), defined once for every context.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trainops_scheduling.domain.errors import InvalidField, UnknownCity
from trainops_shared.events.vocabulary import LANGUAGES, SECTORS

FALLBACK_LANGUAGE: Final[str] = "en"


def validate_language(value: str, field: str = "language") -> str:
    """Return ``value`` if it is one of :data:`LANGUAGES`, else raise naming ``field``."""
    if value not in LANGUAGES:
        raise InvalidField(field, f"unknown language {value!r}; valid: {', '.join(LANGUAGES)}")
    return value


def validate_sector(value: str, field: str = "sector") -> str:
    """Return ``value`` if it is one of :data:`SECTORS`, else raise naming ``field``."""
    if value not in SECTORS:
        raise InvalidField(field, f"unknown sector {value!r}; valid: {', '.join(SECTORS)}")
    return value


def load_zone(name: str, field: str = "timezone") -> ZoneInfo:
    """Resolve an IANA zone name, turning the stdlib's errors into a domain error on ``field``."""
    if not isinstance(name, str) or not name:
        raise InvalidField(field, "an IANA time zone name such as 'Asia/Almaty' is required")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidField(field, f"unknown IANA time zone {name!r}") from exc


@dataclass(frozen=True)
class City:
    """One programme city: a stable code, its default zone and its names per language."""

    code: str
    timezone: str
    names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.code or self.code != self.code.strip().lower():
            raise InvalidField("code", f"city code {self.code!r} must be non-empty lower case")
        load_zone(self.timezone, field=f"cities.{self.code}.timezone")
        for language in self.names:
            validate_language(language, field=f"cities.{self.code}.names")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def display_name(self, language: str = FALLBACK_LANGUAGE) -> str:
        """The name in ``language``, falling back to English, then to the code itself."""
        return self.names.get(language) or self.names.get(FALLBACK_LANGUAGE) or self.code


DEFAULT_CITIES: Final[tuple[City, ...]] = (
    City("almaty", "Asia/Almaty", {"en": "Almaty", "ru": "Алматы", "kk": "Алматы"}),
    City("astana", "Asia/Almaty", {"en": "Astana", "ru": "Астана", "kk": "Астана"}),
    City("shymkent", "Asia/Almaty", {"en": "Shymkent", "ru": "Шымкент", "kk": "Шымкент"}),
    City("oskemen", "Asia/Almaty", {"en": "Oskemen", "ru": "Усть-Каменогорск", "kk": "Өскемен"}),
    City(
        "almaty_region",
        "Asia/Almaty",
        {"en": "Almaty Region", "ru": "Алматинская область", "kk": "Алматы облысы"},
    ),
    City("aktobe", "Asia/Aqtobe", {"en": "Aktobe", "ru": "Актобе", "kk": "Ақтөбе"}),
    City("aktau", "Asia/Aqtau", {"en": "Aktau", "ru": "Актау", "kk": "Ақтау"}),
    City("kostanay", "Asia/Qostanay", {"en": "Kostanay", "ru": "Костанай", "kk": "Қостанай"}),
)
"""The programme's cities as of launch; the order matters (the first is the default zone)."""


class CityCatalogue:
    """Lookup and validation of city codes against a configurable table.

    Sessions store city *codes*; everything else (zone, display name) is looked up here, so the
    catalogue is the single place that knows Kazakhstan's geography.
    """

    def __init__(self, cities: Iterable[City]) -> None:
        ordered = tuple(cities)
        if not ordered:
            raise InvalidField("cities", "the city catalogue must contain at least one city")
        by_code: dict[str, City] = {}
        for city in ordered:
            if city.code in by_code:
                raise InvalidField("cities", f"city {city.code!r} is listed twice")
            by_code[city.code] = city
        self._cities = ordered
        self._by_code = by_code

    @classmethod
    def default(cls) -> CityCatalogue:
        return cls(DEFAULT_CITIES)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CityCatalogue:
        """Build from ``{"almaty": {"timezone": "Asia/Almaty", "names": {"en": ...}}, ...}``.

        This is the shape settings and JSON files use; key order gives the catalogue order.
        """
        cities: list[City] = []
        for code, spec in data.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("timezone"), str):
                raise InvalidField(f"cities.{code}", "each city needs a 'timezone' string")
            names = spec.get("names", {})
            if not isinstance(names, Mapping) or not all(
                isinstance(v, str) for v in names.values()
            ):
                raise InvalidField(f"cities.{code}.names", "names must map language to text")
            cities.append(City(code=str(code), timezone=spec["timezone"], names=dict(names)))
        return cls(cities)

    @classmethod
    def from_json(cls, text: str | bytes) -> CityCatalogue:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidField("cities", f"city catalogue is not valid JSON: {exc}") from exc
        if not isinstance(data, Mapping):
            raise InvalidField("cities", "city catalogue JSON must be an object keyed by code")
        return cls.from_mapping(data)

    def to_mapping(self) -> dict[str, dict[str, Any]]:
        """The inverse of :meth:`from_mapping` (for settings dumps and the reference API)."""
        return {c.code: {"timezone": c.timezone, "names": dict(c.names)} for c in self._cities}

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self._cities)

    @property
    def default_timezone(self) -> str:
        """The zone of the catalogue's first city: used when nothing more specific is known."""
        return self._cities[0].timezone

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[City]:
        return iter(self._cities)

    def __len__(self) -> int:
        return len(self._cities)

    def get(self, code: str, field: str = "cities") -> City:
        """The city with ``code``; raises :class:`UnknownCity` listing the valid codes."""
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise UnknownCity(str(code), self.codes, field=field) from None

    def validate(self, code: str, field: str = "cities") -> str:
        return self.get(code, field=field).code

    def validate_many(self, codes: Sequence[str], field: str = "cities") -> tuple[str, ...]:
        """Validate a list of codes: known, and no duplicates (order is kept)."""
        seen: set[str] = set()
        for code in codes:
            self.validate(code, field=field)
            if code in seen:
                raise InvalidField(field, f"city {code!r} is listed twice")
            seen.add(code)
        return tuple(codes)

    def timezone_of(self, code: str) -> str:
        return self.get(code).timezone

    def zone_of(self, code: str) -> ZoneInfo:
        return self.get(code).zone

    def display_name(self, code: str, language: str = FALLBACK_LANGUAGE) -> str:
        return self.get(code).display_name(language)
