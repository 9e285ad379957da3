"""Versioned survey and knowledge-test definitions: their rules, answer checks and scoring.

A definition is what programme staff write: items of four kinds (Likert 1..5, single choice,
multiple choice, short text), every text in kk, ru and en. Versions move from ``draft`` to
``published`` once; a published version never changes again, because responses name the
version they answered and a report must be able to say what exactly was asked.

A knowledge test is a definition whose choice items may be *scored*: the correct options are
part of the version, so the score of a response is computed here, from the version it answered,
and never sent back to anyone who could tie it to a person.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import msgspec

from trainops_feedback.domain.errors import Conflict, FieldError, Invalid, InvalidAnswers
from trainops_feedback.domain.survey import LIKERT_MAX, LIKERT_MIN
from trainops_shared.errors import Invalid as SharedInvalid
from trainops_shared.validation import check_text

ItemKind = Literal["likert", "single", "multiple", "text"]
Purpose = Literal["feedback", "knowledge_test"]
Phase = Literal["pre", "post"]
Status = Literal["draft", "published"]

LANGUAGES: Final = ("kk", "ru", "en")
KINDS: Final[tuple[ItemKind, ...]] = ("likert", "single", "multiple", "text")
KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ITEMS: Final = 60
MAX_OPTIONS: Final = 12
TEXT_MAX: Final = 500
"""Longest question or option text, per language."""
SHORT_TEXT_MAX: Final = 1000
"""Longest short-text answer a participant may give."""

Texts = dict[str, str]


class Option(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    text: Texts
    correct: bool = False


class Item(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    kind: ItemKind
    text: Texts
    required: bool = True
    options: tuple[Option, ...] = ()
    scored: bool = False

    @property
    def option_keys(self) -> tuple[str, ...]:
        return tuple(option.key for option in self.options)

    @property
    def correct_keys(self) -> frozenset[str]:
        return frozenset(option.key for option in self.options if option.correct)


class Definition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The content of one version: its title and items in display order."""

    title: Texts
    items: tuple[Item, ...]

    def item(self, key: str) -> Item | None:
        return next((item for item in self.items if item.key == key), None)

    @property
    def max_score(self) -> int:
        return sum(1 for item in self.items if item.scored)

    @property
    def likert_keys(self) -> list[str]:
        return [item.key for item in self.items if item.kind == "likert"]

    @property
    def item_kinds(self) -> dict[str, str]:
        return {item.key: item.kind for item in self.items}

    @property
    def choice_options(self) -> dict[str, list[str]]:
        return {item.key: list(item.option_keys) for item in self.items if item.options}


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One version of a definition as stored: its survey, status and content."""

    survey_id: uuid.UUID
    code: str
    purpose: Purpose
    training_id: uuid.UUID | None
    version: int
    status: Status
    definition: Definition
    published_at: datetime | None


def _err(field: str, message: str) -> FieldError:
    return FieldError(field=field, code="invalid", message=message)


def _check_texts(texts: Mapping[str, str], field: str, errors: list[FieldError]) -> None:
    missing = [lang for lang in LANGUAGES if not texts.get(lang, "").strip()]
    if missing:
        errors.append(_err(field, f"a text is required in {', '.join(missing)}"))
    extra = sorted(set(texts) - set(LANGUAGES))
    if extra:
        errors.append(_err(field, f"unknown language(s) {', '.join(extra)}: use kk, ru, en"))
    for lang, text in texts.items():
        if len(text) > TEXT_MAX:
            errors.append(_err(f"{field}.{lang}", f"at most {TEXT_MAX} characters"))
        else:
            try:
                check_text(text, f"{field}.{lang}")
            except SharedInvalid as exc:
                errors.append(_err(f"{field}.{lang}", exc.detail))


def _check_item(item: Item, index: int, purpose: Purpose, errors: list[FieldError]) -> None:
    where = f"items[{index}]"
    if not KEY_RE.fullmatch(item.key):
        errors.append(_err(f"{where}.key", "a key is a-z, 0-9 and _ (starting with a letter)"))
    _check_texts(item.text, f"{where}.text", errors)
    choice = item.kind in ("single", "multiple")
    if choice:
        if not 2 <= len(item.options) <= MAX_OPTIONS:
            errors.append(_err(f"{where}.options", f"a choice needs 2..{MAX_OPTIONS} options"))
        seen: set[str] = set()
        for n, option in enumerate(item.options):
            if not KEY_RE.fullmatch(option.key) or option.key in seen:
                errors.append(_err(f"{where}.options[{n}].key", "option keys are unique a-z_0-9"))
            seen.add(option.key)
            _check_texts(option.text, f"{where}.options[{n}].text", errors)
    elif item.options:
        errors.append(_err(f"{where}.options", f"a {item.kind} item has no options"))
    if item.scored:
        if purpose != "knowledge_test":
            errors.append(_err(f"{where}.scored", "only a knowledge test has scored items"))
        elif not choice:
            errors.append(_err(f"{where}.scored", "only choice items can be scored"))
        elif not item.correct_keys:
            errors.append(_err(f"{where}.options", "a scored item needs a correct option"))
        elif item.kind == "single" and len(item.correct_keys) != 1:
            errors.append(_err(f"{where}.options", "a scored single choice has one correct option"))
    elif any(option.correct for option in item.options):
        errors.append(_err(f"{where}.options", "correct options belong to scored items only"))


def check_definition(definition: Definition, purpose: Purpose) -> Definition:
    """Every problem of a definition at once (:class:`InvalidAnswers` lists them), else it."""
    errors: list[FieldError] = []
    _check_texts(definition.title, "title", errors)
    if not 1 <= len(definition.items) <= MAX_ITEMS:
        errors.append(_err("items", f"a definition has 1..{MAX_ITEMS} items"))
    keys = [item.key for item in definition.items]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        errors.append(_err("items", f"item key {key!r} appears twice"))
    for index, item in enumerate(definition.items):
        _check_item(item, index, purpose, errors)
    if purpose == "knowledge_test" and not errors and definition.max_score == 0:
        errors.append(_err("items", "a knowledge test needs at least one scored item"))
    if errors:
        raise InvalidAnswers(errors)
    return definition


def ensure_editable(status: Status) -> None:
    """A published version is frozen: edits go to a new draft version."""
    if status == "published":
        raise Conflict("version", "a published version cannot change; start a new version")


# --------------------------------------------------------------------------------------------
# Answers

Answer = int | str | list[str]


class VersionedSubmission(msgspec.Struct, frozen=True, kw_only=True):
    """Checked answers of one version: Likert integers, chosen option keys, short texts."""

    likert: dict[str, int]
    choices: dict[str, list[str]]
    texts: dict[str, str]


def _answer_error(key: str, code: str, message: str) -> FieldError:
    return FieldError(field=f"answers.{key}", code=code, message=message)


def _check_answer(item: Item, value: object) -> Answer | FieldError:
    key = item.key
    if item.kind == "likert":
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return _answer_error(key, "not_integer", f"a whole number {LIKERT_MIN}..{LIKERT_MAX}")
        if not LIKERT_MIN <= value <= LIKERT_MAX:
            return _answer_error(key, "out_of_range", f"between {LIKERT_MIN} and {LIKERT_MAX}")
        return value
    if item.kind == "text":
        if not isinstance(value, str):
            return _answer_error(key, "invalid", "must be text")
        text = value.replace("\r\n", "\n").strip()
        if len(text) > SHORT_TEXT_MAX:
            return _answer_error(key, "too_long", f"at most {SHORT_TEXT_MAX} characters")
        try:
            check_text(text, key, multiline=True)
        except SharedInvalid as exc:
            return _answer_error(key, "invalid", exc.detail)
        return text
    chosen = [value] if isinstance(value, str) else value
    if not isinstance(chosen, list) or not all(isinstance(v, str) for v in chosen):
        return _answer_error(key, "invalid", "must be option keys")
    unknown = sorted(set(chosen) - set(item.option_keys))
    if unknown:
        return _answer_error(key, "unknown_option", f"unknown option(s) {', '.join(unknown)}")
    if item.kind == "single" and len(chosen) != 1:
        return _answer_error(key, "invalid", "choose exactly one option")
    return sorted(set(chosen))


def _is_blank(value: object) -> bool:
    return value is None or value == "" or value == []


def check_answers(definition: Definition, answers: Mapping[str, object]) -> VersionedSubmission:
    """Check answers against one version; :class:`InvalidAnswers` lists every problem.

    Values may come from JSON (``5``, ``"a"``, ``["a", "b"]``) or from a form (``"5"``): one
    path for both, so the page and the API cannot disagree about what is valid.
    """
    errors: list[FieldError] = []
    likert: dict[str, int] = {}
    choices: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for item in definition.items:
        value = answers.get(item.key)
        if _is_blank(value):
            if item.required:
                errors.append(_answer_error(item.key, "required", "an answer is required"))
            continue
        checked = _check_answer(item, value)
        if isinstance(checked, FieldError):
            errors.append(checked)
        elif isinstance(checked, int):
            likert[item.key] = checked
        elif isinstance(checked, list):
            choices[item.key] = checked
        elif checked:
            texts[item.key] = checked
        elif item.required:
            errors.append(_answer_error(item.key, "required", "an answer is required"))
    for key in answers:
        if definition.item(str(key)) is None:
            errors.append(_answer_error(str(key), "unknown_item", f"unknown item {key!r}"))
    if errors:
        raise InvalidAnswers(errors)
    return VersionedSubmission(likert=likert, choices=choices, texts=texts)


def score(definition: Definition, submission: VersionedSubmission) -> int:
    """Points of a submission: one per scored item answered exactly right (all-or-nothing for
    multiple choice, so ticking every option never earns a point)."""
    return sum(
        1
        for item in definition.items
        if item.scored and frozenset(submission.choices.get(item.key, ())) == item.correct_keys
    )


def form_answers(form: Mapping[str, Sequence[str]], definition: Definition) -> dict[str, object]:
    """A decoded form (every value a list, as multiple checkboxes post) as answers: a multiple
    choice keeps its list, every other item its last value."""
    out: dict[str, object] = {}
    for name, values in form.items():
        item = definition.item(name)
        if item is None:
            continue
        out[name] = list(values) if item.kind == "multiple" else (values[-1] if values else "")
    return out


DRAFT_MAX_BYTES: Final = 32 * 1024


def check_draft(definition: Definition, answers: Mapping[str, object]) -> dict[str, object]:
    """A draft keeps what was answered so far: known items only, each answer well-formed or
    left out; nothing is required yet."""
    kept: dict[str, object] = {}
    unknown = [str(key) for key in answers if definition.item(str(key)) is None]
    if unknown:
        raise Invalid(f"answers.{unknown[0]}", f"unknown item {unknown[0]!r}")
    for item in definition.items:
        value = answers.get(item.key)
        if _is_blank(value):
            continue
        checked = _check_answer(item, value)
        if isinstance(checked, FieldError):
            raise Invalid(checked.field, checked.message)
        if item.kind == "single" and isinstance(checked, list):
            kept[item.key] = checked[0]
        else:
            kept[item.key] = checked
    return kept
