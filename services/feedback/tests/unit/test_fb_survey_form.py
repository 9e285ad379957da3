"""The draft form's rows read back into a definition: option lines, blank rows, checkboxes."""

from __future__ import annotations

import pytest

from trainops_feedback.api.survey_form import (
    ItemRow,
    definition_from,
    option_lines,
    rows_from_form,
    rows_of,
)

pytestmark = pytest.mark.unit

TITLE = {"kk": "Т", "ru": "Т", "en": "T"}
WRONG = "four parts"


def test_rows_round_trip_through_option_lines() -> None:
    rows = [
        ItemRow(
            key="q",
            kind="single",
            text={"kk": "a", "ru": "b", "en": "c"},
            options="x | x kk | x ru | x en\n  *y | y kk | y ru | y en\n\n",
            scored=True,
        ),
        ItemRow(),
    ]
    definition, problems = definition_from(TITLE, rows, WRONG)
    assert problems == {}
    assert definition is not None
    [item] = definition.items  # the blank row is left out
    assert item.option_keys == ("x", "y")
    assert item.correct_keys == frozenset({"y"})
    assert item.options[1].text == {"kk": "y kk", "ru": "y ru", "en": "y en"}
    assert option_lines(item) == "x | x kk | x ru | x en\n*y | y kk | y ru | y en"
    assert rows_of(definition)[0].options == option_lines(item)


def test_form_only_problems_are_named_by_row() -> None:
    rows = [
        ItemRow(key="a", kind="single", text=TITLE, options="only | two"),
        ItemRow(key="b", kind="essay", text=TITLE),
    ]
    definition, problems = definition_from(TITLE, rows, WRONG)
    assert definition is None
    assert problems == {
        "items[0].options": WRONG,
        "items[1].kind": "one of likert, single, multiple, text",
    }


def test_posted_rows_keep_order_and_unticked_boxes() -> None:
    form = {
        "rows": ["2"],
        "item-0-key": [" q "],
        "item-0-kind": ["text"],
        "item-0-kk": ["a"],
        "item-0-required": ["1"],
        "item-1-key": ["r"],
        "item-1-options": ["x | 1 | 2 | 3\r\ny | 1 | 2 | 3"],
        "item-9-key": ["beyond rows: ignored"],
    }
    first, second = rows_from_form(form)
    assert (first.key, first.kind, first.required, first.scored) == ("q", "text", True, False)
    assert first.text == {"kk": "a", "ru": "", "en": ""}
    assert (second.required, second.options) == (False, "x | 1 | 2 | 3\ny | 1 | 2 | 3")
    assert rows_from_form({"rows": ["many"]}) == []
