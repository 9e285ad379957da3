"""The post-training survey definition, validation of answers, and the HTML form parser.

One validation path serves both the JSON API (answers as ``{"overall": 5}``) and the browser
form (``overall=5`` urlencoded): :func:`parse_form` only turns strings into integers and then
hands over to the same checks as :func:`validate_answers`, so the two entry points can never
disagree about what a valid response is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import msgspec

from trainops_feedback.domain.errors import FieldError, InvalidAnswers, NotFound
from trainops_feedback.domain.errors import Invalid as FieldInvalid
from trainops_shared.errors import Invalid
from trainops_shared.validation import check_text

LIKERT_MIN: Final = 1
LIKERT_MAX: Final = 5
LIKERT_SCALE: Final[tuple[int, ...]] = tuple(range(LIKERT_MIN, LIKERT_MAX + 1))
COMMENT_MAX_LENGTH: Final = 2000
COMMENT_FIELD: Final = "comment"
LANG_FIELD: Final = "lang"

FORM_CONTROL_FIELDS: Final[frozenset[str]] = frozenset({LANG_FIELD})
"""Form fields that steer the page rather than answer a question; the parser skips them."""


class LikertItem(msgspec.Struct, frozen=True):
    """One 1..5 question; ``key`` is the answer key, the form name and the i18n key."""

    key: str
    required: bool = True


class SurveyDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """A survey: its stable code, its Likert items in display order, the comment limit."""

    code: str
    items: tuple[LikertItem, ...]
    comment_max_length: int = COMMENT_MAX_LENGTH

    @property
    def item_keys(self) -> tuple[str, ...]:
        """All Likert item keys in display order (what ``SurveyPublished.items`` carries)."""
        return tuple(item.key for item in self.items)

    @property
    def required_keys(self) -> tuple[str, ...]:
        """Keys a response must answer."""
        return tuple(item.key for item in self.items if item.required)

    def item(self, key: str) -> LikertItem | None:
        """The item called ``key``, or ``None`` if the survey has no such question."""
        return next((item for item in self.items if item.key == key), None)


POST_TRAINING_V1: Final = SurveyDefinition(
    code="post_training_v1",
    items=(
        LikertItem("overall"),
        LikertItem("relevance"),
        LikertItem("trainer"),
        LikertItem("knowledge_gain"),
        LikertItem("materials", required=False),
    ),
)
"""The default survey sent after every session. ``materials`` is optional because some
sessions (short briefings, field visits) hand out no materials to rate."""

DEFAULT_SURVEY_CODE: Final = POST_TRAINING_V1.code

SURVEYS: Final[Mapping[str, SurveyDefinition]] = {POST_TRAINING_V1.code: POST_TRAINING_V1}


def get_survey(code: str) -> SurveyDefinition:
    """The survey definition for ``code``; :class:`NotFound` naming ``survey_code`` otherwise."""
    try:
        return SURVEYS[code]
    except KeyError:
        raise NotFound("survey_code", f"unknown survey {code!r}") from None


class Submission(msgspec.Struct, frozen=True, kw_only=True):
    """A validated response: integer answers (optional items omitted when unanswered)."""

    answers: dict[str, int]
    comment: str | None = None

    @property
    def has_comment(self) -> bool:
        """Whether a comment was given; the event carries only this, never the text."""
        return self.comment is not None


# --------------------------------------------------------------------------------------------
# Validation


def _answer_field(key: str) -> str:
    return f"answers.{key}"


def _error(field: str, code: str, message: str) -> FieldError:
    return FieldError(field=field, code=code, message=message)


def _clean_comment(
    comment: object, survey: SurveyDefinition
) -> tuple[str | None, FieldError | None]:
    """Strip and bound the comment. Browsers submit textarea line breaks as CRLF while their
    ``maxlength`` counts them as one character, so CRLF is folded to LF before counting."""
    if comment is None:
        return None, None
    if not isinstance(comment, str):
        return None, _error(COMMENT_FIELD, "invalid", "comment must be text")
    text = comment.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None, None
    try:
        check_text(text, COMMENT_FIELD, multiline=True)
    except Invalid as exc:
        # Control and bidi-override characters would reach reporting staff's screens and
        # exports looking unlike what they hold; "invalid" is the code the page translates.
        return None, _error(COMMENT_FIELD, "invalid", exc.detail)
    if len(text) > survey.comment_max_length:
        return None, _error(
            COMMENT_FIELD,
            "too_long",
            f"comment must be at most {survey.comment_max_length} characters",
        )
    return text, None


def _check(
    answers: Mapping[str, object],
    comment: object,
    survey: SurveyDefinition,
    earlier: Mapping[str, FieldError],
) -> Submission:
    """Shared core: ``earlier`` holds per-item errors already found (e.g. non-numeric form
    values), reported in survey order instead of a misleading "required" for the same item."""
    errors: list[FieldError] = []
    clean: dict[str, int] = {}
    for item in survey.items:
        field = _answer_field(item.key)
        if item.key in earlier:
            errors.append(earlier[item.key])
            continue
        value = answers.get(item.key)
        if value is None:
            if item.required:
                errors.append(_error(field, "required", "an answer is required"))
            continue
        # bool is a subclass of int: True must not pass as a rating of 1.
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(
                _error(field, "not_integer", f"must be a whole number {LIKERT_MIN}..{LIKERT_MAX}")
            )
        elif not LIKERT_MIN <= value <= LIKERT_MAX:
            errors.append(
                _error(field, "out_of_range", f"must be between {LIKERT_MIN} and {LIKERT_MAX}")
            )
        else:
            clean[item.key] = value
    known = set(survey.item_keys)
    for key in answers:
        if key not in known:
            errors.append(
                _error(_answer_field(str(key)), "unknown_item", f"unknown survey item {key!r}")
            )
    text, comment_error = _clean_comment(comment, survey)
    if comment_error is not None:
        errors.append(comment_error)
    if errors:
        raise InvalidAnswers(errors)
    return Submission(answers=clean, comment=text)


def validate_answers(
    answers: object, comment: object = None, *, survey: SurveyDefinition = POST_TRAINING_V1
) -> Submission:
    """Validate JSON-style answers; raise :class:`InvalidAnswers` listing every problem.

    Required items must be present; values must be ``int`` (not ``bool``, not ``"5"``, not
    ``5.0``) within 1..5; unknown items are rejected by name (``answers.speed``) so a client
    built against another survey version fails loudly instead of losing data.
    """
    if not isinstance(answers, Mapping):
        raise InvalidAnswers([_error("answers", "invalid", "answers must be an object")])
    return _check(answers, comment, survey, {})


_DIGITS_RE: Final = re.compile(r"[0-9]+")


def parse_form(
    form: Mapping[str, str], *, survey: SurveyDefinition = POST_TRAINING_V1
) -> Submission:
    """Turn a decoded urlencoded form into a :class:`Submission` or :class:`InvalidAnswers`.

    Empty values mean "not answered" (an optional item left blank); non-numeric values are a
    ``not_integer`` error on that item. ``lang`` is a page control field and is ignored here.
    """
    answers: dict[str, object] = {}
    earlier: dict[str, FieldError] = {}
    comment: str | None = None
    for name, raw in form.items():
        if name in FORM_CONTROL_FIELDS:
            continue
        if name == COMMENT_FIELD:
            comment = raw
            continue
        value = raw.strip()
        if not value:
            continue
        if survey.item(name) is not None and not _DIGITS_RE.fullmatch(value):
            earlier[name] = _error(
                _answer_field(name),
                "not_integer",
                f"must be a whole number {LIKERT_MIN}..{LIKERT_MAX}, got {value[:20]!r}",
            )
            continue
        # Unknown names keep their raw value so _check reports them as unknown items.
        answers[name] = int(value) if _DIGITS_RE.fullmatch(value) else value
    return _check(answers, comment, survey, earlier)


def check_form_draft(
    answers: Mapping[str, object], *, survey: SurveyDefinition = POST_TRAINING_V1
) -> dict[str, int | str]:
    """What a half-filled form keeps: ratings as integers, the comment as typed (bounded).

    Nothing is required yet and a blank is left out, but what is kept must be something the
    form could submit: a browser sends ``"4"`` and a JSON client ``4``, both kept as ``4``;
    an unknown item, a rating outside 1..5 or an unprintable comment is refused by name, so a
    draft can never restore a value the submission would then reject.
    """
    kept: dict[str, int | str] = {}
    for key, value in answers.items():
        if value is None or value == "":
            continue
        if key == COMMENT_FIELD:
            text, error = _clean_comment(value, survey)
            if error is not None:
                raise FieldInvalid(error.field, error.message)
            if text is not None:
                kept[key] = text
            continue
        field = _answer_field(str(key))
        if survey.item(str(key)) is None:
            raise FieldInvalid(field, f"unknown survey item {key!r}")
        if isinstance(value, str) and _DIGITS_RE.fullmatch(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldInvalid(field, f"must be a whole number {LIKERT_MIN}..{LIKERT_MAX}")
        if not LIKERT_MIN <= value <= LIKERT_MAX:
            raise FieldInvalid(field, f"must be between {LIKERT_MIN} and {LIKERT_MAX}")
        kept[str(key)] = value
    return kept
