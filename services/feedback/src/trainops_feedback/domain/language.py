"""Which language a participant's page and response are in.

The ``?lang=`` the participant picked, else the language they registered with, else Russian
(the language every participant in the programme reads). People type codes that are not
ISO 639-1 (``kz`` is the country, ``rus`` the three-letter code), so those are understood too.
"""

from __future__ import annotations

from typing import Final, get_args

from trainops_shared.events.vocabulary import Language
from trainops_shared.languages import DEFAULT_LANGUAGE, normalise_language

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Language", "normalise_language", "resolve_language"]

LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
"""The page languages, in the order the switcher shows them: the programme's vocabulary."""


def resolve_language(requested: str | None, participant_language: str | None = None) -> Language:
    """Requested (``?lang=``) → the participant's registered language → Russian."""
    return (
        normalise_language(requested)
        or normalise_language(participant_language)
        or DEFAULT_LANGUAGE
    )
