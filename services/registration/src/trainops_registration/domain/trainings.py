"""How a training is named on a page: its title in the page's language where scheduling gave one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

TrainingNames = Mapping[uuid.UUID, tuple[str, Mapping[str, str]]]
"""``training_id -> (code, title per language)``, as scheduling defined the trainings."""

_FALLBACK_LANGUAGES = ("en", "ru", "kk")


def training_name(names: TrainingNames, training_id: uuid.UUID, lang: str) -> str:
    """The title in ``lang``, else in another language, else the code; a training this service
    never heard of is its id's first eight digits (enough to tell sessions apart)."""
    known = names.get(training_id)
    if known is None:
        return str(training_id)[:8]
    code, title = known
    for language in (lang, *_FALLBACK_LANGUAGES):
        if title.get(language, "").strip():
            return title[language].strip()
    return code
