"""Report dimensions and the checks of their values.

Donor tables may only be broken down by these dimensions: the categories ``ParticipantProfile``
carries (their value sets are the shared event vocabulary, defined once for every context) plus
the session's mode and training. The value sets include ``undisclosed`` because participants may
decline to answer, and that answer must be counted too (otherwise totals silently disagree with
registrations). What is reporting's own is the breakdown: which dimensions exist, in which order
a table is cut, and the age bands a raw age falls in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

from trainops_reporting.domain.errors import ReportingError
from trainops_shared.events.vocabulary import AGE_BANDS, SEXES, AgeBand, Sex

__all__ = [
    "AGE_BANDS",
    "DIMENSIONS",
    "MIN_AGE",
    "SEXES",
    "AgeBand",
    "Dimension",
    "DuplicateDimension",
    "InvalidCategoryValue",
    "ReportingError",
    "Sex",
    "UnknownDimension",
    "age_band_of",
    "parse_by",
    "validate_age_band",
    "validate_by",
    "validate_sex",
]

Dimension = Literal["city", "sector", "sex", "age_band", "language", "mode", "training"]

DIMENSIONS: Final[tuple[str, ...]] = get_args(Dimension)
MIN_AGE: Final[int] = 18
_BAND_UPPER_AGES: Final[tuple[tuple[int, AgeBand], ...]] = (
    (24, "18-24"),
    (34, "25-34"),
    (44, "35-44"),
    (54, "45-54"),
)
"""The closed age bands by their oldest age; older is ``55+``."""


class UnknownDimension(ReportingError):
    def __init__(self, dimension: str, field: str = "by") -> None:
        self.dimension = dimension
        super().__init__(
            field, f"unknown dimension {dimension!r}; valid dimensions: {', '.join(DIMENSIONS)}"
        )


class DuplicateDimension(ReportingError):
    def __init__(self, dimension: str, field: str = "by") -> None:
        self.dimension = dimension
        super().__init__(field, f"dimension {dimension!r} is listed more than once")


class InvalidCategoryValue(ReportingError):
    """A value outside a dimension's value set (e.g. ``sex=f``)."""


def validate_by(by: Iterable[str], field: str = "by") -> tuple[str, ...]:
    """Validate the requested breakdown; order is kept (the first is the table's row dimension).

    An empty breakdown is valid and means "totals only". Duplicates are rejected rather than
    dropped because ``city,city`` is a client bug worth surfacing.
    """
    seen: list[str] = []
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise UnknownDimension(dimension, field)
        if dimension in seen:
            raise DuplicateDimension(dimension, field)
        seen.append(dimension)
    return tuple(seen)


def parse_by(raw: str | None, field: str = "by") -> tuple[str, ...]:
    """Parse a query parameter like ``"city,sex"`` (blank or ``None`` = totals only)."""
    if raw is None or not raw.strip():
        return ()
    return validate_by((part.strip() for part in raw.split(",")), field)


def validate_sex(value: str, field: str = "sex") -> str:
    if value not in SEXES:
        raise InvalidCategoryValue(field, f"unknown value {value!r}; valid: {', '.join(SEXES)}")
    return value


def validate_age_band(value: str, field: str = "age_band") -> str:
    if value not in AGE_BANDS:
        raise InvalidCategoryValue(field, f"unknown value {value!r}; valid: {', '.join(AGE_BANDS)}")
    return value


def age_band_of(age: int | None, field: str = "age") -> str:
    """The band an age falls in; ``None`` (not given) is ``undisclosed``.

    Minors are not enrolled in the programme, so an age under 18 is an input error.
    """
    if age is None:
        return "undisclosed"
    if isinstance(age, bool) or not isinstance(age, int) or age < MIN_AGE:
        raise InvalidCategoryValue(field, f"must be an integer of at least {MIN_AGE}")
    for upper, band in _BAND_UPPER_AGES:
        if age <= upper:
            return band
    return "55+"
