"""The report categories every context agrees on, typed once where the events carry them.

They are part of the event schema because consumers must be able to refuse a payload whose
categories nobody defined (``sex="banana"`` would otherwise become a donor-table row): with these
types msgspec rejects such a payload at decode time and the consumer dead-letters it with the
path of the bad value. Cities are a configurable catalogue (scheduling loads it from settings),
so the schema only fixes their form, a lower-case code.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

import msgspec

Sector = Literal["media", "blogger", "ngo", "akimat", "other"]
Sex = Literal["female", "male", "other", "undisclosed"]
AgeBand = Literal["18-24", "25-34", "35-44", "45-54", "55+", "undisclosed"]
Language = Literal["kk", "ru", "en"]

CITY_CODE_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,63}$"
CityCode = Annotated[str, msgspec.Meta(pattern=CITY_CODE_PATTERN)]
"""A city as the catalogue names it (``almaty``, ``ust-kamenogorsk``)."""

SECTORS: Final[tuple[Sector, ...]] = get_args(Sector)
SEXES: Final[tuple[Sex, ...]] = get_args(Sex)
AGE_BANDS: Final[tuple[AgeBand, ...]] = get_args(AgeBand)
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
"""The same sets as tuples, typed with their ``Literal``: ``random.choice(SECTORS)`` is a
``Sector``, and adding a sector stays one edit (the ``Literal`` above)."""
