"""The post-training survey: definition, answer validation and the urlencoded form parser."""

from __future__ import annotations

import pytest

from trainops_feedback.domain.errors import FieldError, InvalidAnswers, NotFound
from trainops_feedback.domain.errors import Invalid as FieldInvalid
from trainops_feedback.domain.survey import (
    COMMENT_MAX_LENGTH,
    DEFAULT_SURVEY_CODE,
    POST_TRAINING_V1,
    Submission,
    check_form_draft,
    get_survey,
    parse_form,
    validate_answers,
)

pytestmark = pytest.mark.unit

FULL = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 3, "materials": 4}
REQUIRED_ONLY = {"overall": 4, "relevance": 4, "trainer": 4, "knowledge_gain": 4}


def _errors(exc: InvalidAnswers) -> dict[str, str]:
    return {e.field: e.code for e in exc.errors}


# -- definition ------------------------------------------------------------------------------


def test_default_survey_definition() -> None:
    assert DEFAULT_SURVEY_CODE == "post_training_v1"
    assert POST_TRAINING_V1.item_keys == (
        "overall",
        "relevance",
        "trainer",
        "knowledge_gain",
        "materials",
    )
    assert POST_TRAINING_V1.required_keys == ("overall", "relevance", "trainer", "knowledge_gain")
    assert POST_TRAINING_V1.comment_max_length == 2000
    assert get_survey("post_training_v1") is POST_TRAINING_V1


def test_unknown_survey_code() -> None:
    with pytest.raises(NotFound) as exc_info:
        get_survey("pre_training_v9")
    assert exc_info.value.field == "survey_code"
    assert exc_info.value.status == 404


# -- validate_answers (JSON API) -------------------------------------------------------------


def test_full_answers_accepted() -> None:
    assert validate_answers(FULL, "Очень полезно!") == Submission(
        answers=FULL, comment="Очень полезно!"
    )


def test_optional_materials_may_be_missing_or_null() -> None:
    assert validate_answers(REQUIRED_ONLY).answers == REQUIRED_ONLY
    assert validate_answers({**REQUIRED_ONLY, "materials": None}).answers == REQUIRED_ONLY


@pytest.mark.parametrize("missing", ["overall", "relevance", "trainer", "knowledge_gain"])
def test_each_required_item_is_required(missing: str) -> None:
    answers = {k: v for k, v in FULL.items() if k != missing}
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers(answers)
    assert exc_info.value.field == f"answers.{missing}"
    assert _errors(exc_info.value) == {f"answers.{missing}": "required"}
    assert exc_info.value.status == 422


@pytest.mark.parametrize("value", [1, 5])
def test_scale_bounds_accepted(value: int) -> None:
    assert validate_answers({**FULL, "trainer": value}).answers["trainer"] == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (0, "out_of_range"),
        (6, "out_of_range"),
        (-3, "out_of_range"),
        (True, "not_integer"),
        (False, "not_integer"),
        (4.0, "not_integer"),
        ("5", "not_integer"),
        ([5], "not_integer"),
    ],
)
def test_bad_values_named(value: object, code: str) -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers({**FULL, "trainer": value})
    assert _errors(exc_info.value) == {"answers.trainer": code}
    assert exc_info.value.field == "answers.trainer"
    assert "answers.trainer" in str(exc_info.value)


def test_unknown_item_rejected_by_name() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers({**FULL, "venue": 5})
    assert _errors(exc_info.value) == {"answers.venue": "unknown_item"}
    assert "venue" in exc_info.value.message


def test_all_problems_reported_in_survey_order() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers({"overall": 9, "trainer": True, "venue": 1}, "x" * 2001)
    assert [e.field for e in exc_info.value.errors] == [
        "answers.overall",
        "answers.relevance",
        "answers.trainer",
        "answers.knowledge_gain",
        "answers.venue",
        "comment",
    ]
    assert exc_info.value.field == "answers.overall"


def test_answers_must_be_an_object() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers([5, 5, 5, 5])
    assert exc_info.value.field == "answers"


def test_comment_trimmed_and_blank_means_none() -> None:
    assert validate_answers(FULL, "  спасибо  ").comment == "спасибо"
    assert validate_answers(FULL, "   \n ").comment is None
    assert validate_answers(FULL, None).has_comment is False
    assert validate_answers(FULL, "ok").has_comment is True


def test_comment_length_limit() -> None:
    assert validate_answers(FULL, "ә" * COMMENT_MAX_LENGTH).comment == "ә" * 2000
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers(FULL, "ә" * 2001)
    assert _errors(exc_info.value) == {"comment": "too_long"}


def test_crlf_counts_as_one_character() -> None:
    # 1000 lines of "a" separated by CRLF = 1999 characters once normalised.
    text = "\r\n".join(["a"] * 1000)
    submission = validate_answers(FULL, text)
    assert submission.comment is not None
    assert "\r" not in submission.comment and len(submission.comment) == 1999


def test_comment_must_be_text() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        validate_answers(FULL, 42)
    assert _errors(exc_info.value) == {"comment": "invalid"}


def test_invalid_answers_by_item_and_item_property() -> None:
    err = InvalidAnswers([FieldError(field="answers.trainer", code="required", message="m")])
    assert err.by_item() == {"trainer": err.errors[0]}
    assert err.errors[0].item == "trainer"
    with pytest.raises(ValueError):
        InvalidAnswers([])


# -- parse_form (browser) --------------------------------------------------------------------


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "lang": "kk",
        "overall": "5",
        "relevance": "4",
        "trainer": "5",
        "knowledge_gain": "3",
        "materials": "2",
        "comment": "Рахмет!",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_form_parsed_into_submission() -> None:
    assert parse_form(_form()) == Submission(
        answers={"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 3, "materials": 2},
        comment="Рахмет!",
    )


def test_form_without_optional_fields() -> None:
    form = _form()
    del form["materials"], form["comment"], form["lang"]
    assert parse_form(form) == Submission(
        answers={"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 3}
    )


def test_form_blank_optional_is_unanswered() -> None:
    assert "materials" not in parse_form(_form(materials="", comment="")).answers


def test_form_values_are_trimmed() -> None:
    assert parse_form(_form(overall=" 4 ")).answers["overall"] == 4


@pytest.mark.parametrize("raw", ["abc", "4.5", "-1", "+3", "٥", "1e0", "five"])
def test_form_non_numeric_is_field_error(raw: str) -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form(_form(relevance=raw))
    assert _errors(exc_info.value) == {"answers.relevance": "not_integer"}


def test_form_out_of_range() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form(_form(overall="0", materials="6"))
    assert _errors(exc_info.value) == {
        "answers.overall": "out_of_range",
        "answers.materials": "out_of_range",
    }


def test_form_missing_required_item() -> None:
    form = _form()
    del form["knowledge_gain"]
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form(form)
    assert _errors(exc_info.value) == {"answers.knowledge_gain": "required"}


def test_form_blank_required_item() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form(_form(trainer="  "))
    assert _errors(exc_info.value) == {"answers.trainer": "required"}


def test_form_unknown_field_rejected_by_name() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form({**_form(), "speed": "3"})
    assert _errors(exc_info.value) == {"answers.speed": "unknown_item"}


def test_form_collects_every_problem() -> None:
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form({"overall": "x", "trainer": "7", "comment": "z" * 2001})
    assert _errors(exc_info.value) == {
        "answers.overall": "not_integer",
        "answers.relevance": "required",
        "answers.trainer": "out_of_range",
        "answers.knowledge_gain": "required",
        "comment": "too_long",
    }


def test_a_form_draft_keeps_well_formed_answers_only() -> None:
    kept = check_form_draft({"overall": "4", "trainer": 5, "relevance": "", "comment": " Hi\r\n"})
    assert kept == {"overall": 4, "trainer": 5, "comment": "Hi"}
    assert check_form_draft({}) == {}
    for bad, field in [
        ({"speed": "3"}, "answers.speed"),
        ({"overall": "6"}, "answers.overall"),
        ({"overall": True}, "answers.overall"),
        ({"overall": "four"}, "answers.overall"),
        ({"comment": "x" * 2001}, "comment"),
        ({"comment": "a\u202eb"}, "comment"),
    ]:
        with pytest.raises(FieldInvalid) as caught:
            check_form_draft(bad)
        assert caught.value.field == field, bad
