"""Definition rules, answer checks and scoring of versioned surveys and knowledge tests."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from trainops_feedback.domain.definitions import (
    Definition,
    check_answers,
    check_definition,
    check_draft,
    ensure_editable,
    form_answers,
    score,
)
from trainops_feedback.domain.errors import Conflict, Invalid, InvalidAnswers

pytestmark = pytest.mark.unit

T = {"kk": "kk", "ru": "ru", "en": "en"}


def opt(key: str, correct: bool = False) -> dict[str, Any]:
    return {"key": key, "text": T, "correct": correct}


def build(items: list[dict[str, Any]]) -> Definition:
    return msgspec.convert({"title": T, "items": items}, Definition)


TEST = build(
    [
        {
            "key": "one",
            "kind": "single",
            "text": T,
            "scored": True,
            "options": [opt("a", True), opt("b")],
        },
        {
            "key": "many",
            "kind": "multiple",
            "text": T,
            "scored": True,
            "options": [opt("x", True), opt("y", True), opt("z")],
        },
        {"key": "feel", "kind": "likert", "text": T},
        {"key": "note", "kind": "text", "text": T, "required": False},
    ]
)


def fields(exc: InvalidAnswers) -> set[str]:
    return {e.field for e in exc.errors}


def test_a_valid_test_passes_and_counts_its_scored_items() -> None:
    assert check_definition(TEST, "knowledge_test") is TEST
    assert TEST.max_score == 2
    assert TEST.choice_options == {"one": ["a", "b"], "many": ["x", "y", "z"]}
    assert TEST.likert_keys == ["feel"]


def test_every_problem_of_a_definition_is_listed() -> None:
    bad = build(
        [
            {"key": "Bad Key", "kind": "likert", "text": {"en": "only"}},
            {"key": "c", "kind": "single", "text": T, "options": [opt("a")]},
            {"key": "c", "kind": "text", "text": T, "options": [opt("a"), opt("b")]},
            {
                "key": "s",
                "kind": "single",
                "text": T,
                "scored": True,
                "options": [opt("a"), opt("b")],
            },
        ]
    )
    with pytest.raises(InvalidAnswers) as caught:
        check_definition(bad, "knowledge_test")
    assert {
        "items[0].key",
        "items[0].text",
        "items[1].options",
        "items[2].options",
        "items[3].options",
        "items",
    } <= fields(caught.value)


def test_a_feedback_survey_has_no_scored_items() -> None:
    with pytest.raises(InvalidAnswers) as caught:
        check_definition(TEST, "feedback")
    assert "items[0].scored" in fields(caught.value)


def test_a_knowledge_test_needs_a_scored_item() -> None:
    with pytest.raises(InvalidAnswers):
        check_definition(build([{"key": "f", "kind": "likert", "text": T}]), "knowledge_test")


def test_a_published_version_cannot_be_edited() -> None:
    ensure_editable("draft")
    with pytest.raises(Conflict):
        ensure_editable("published")


@pytest.mark.parametrize(
    ("answers", "points"),
    [
        ({"one": "a", "many": ["y", "x"], "feel": 4}, 2),
        ({"one": "b", "many": ["x", "y"], "feel": "4"}, 1),
        ({"one": "a", "many": ["x", "y", "z"], "feel": 1}, 1),  # ticking all earns nothing
        ({"one": "b", "many": ["x"], "feel": 5, "note": "  ok "}, 0),
    ],
)
def test_scoring_is_all_or_nothing_per_item(answers: dict[str, Any], points: int) -> None:
    assert score(TEST, check_answers(TEST, answers)) == points


def test_wrong_answers_are_named_each() -> None:
    with pytest.raises(InvalidAnswers) as caught:
        check_answers(TEST, {"one": ["a", "b"], "many": ["w"], "feel": 9, "extra": 1})
    codes = {e.field: e.code for e in caught.value.errors}
    assert codes == {
        "answers.one": "invalid",
        "answers.many": "unknown_option",
        "answers.feel": "out_of_range",
        "answers.extra": "unknown_item",
    }


def test_a_form_keeps_every_checkbox_and_the_last_radio() -> None:
    form = {"one": ["a"], "many": ["x", "y"], "feel": ["3"], "lang": ["kk"]}
    assert form_answers(form, TEST) == {"one": "a", "many": ["x", "y"], "feel": "3"}


def test_a_draft_keeps_what_is_well_formed_and_needs_nothing() -> None:
    assert check_draft(TEST, {"one": "a", "feel": ""}) == {"one": "a"}
    with pytest.raises(Invalid):
        check_draft(TEST, {"one": "q"})
    with pytest.raises(Invalid):
        check_draft(TEST, {"nope": "a"})
