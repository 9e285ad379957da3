"""The declared indicators: ratios only from published counts, and their documentation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainops_reporting.domain import indicators
from trainops_reporting.domain.indicators import CODES, INDICATORS, markdown, ratios

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[4] / "docs" / "indicators.md"


def published(suppressed: dict[str, str] | None = None, **counts: int | None) -> dict[str, Any]:
    return {**counts, "suppressed": suppressed or {}}


def test_ratios_of_published_counts() -> None:
    cell = published(registered=20, attended=15, feedback_responses=12)
    female = published(registered=11, attended=9, feedback_responses=7)
    values, hidden = ratios(cell, female)
    assert values == {"attendance_rate": 0.75, "feedback_completion": 0.8, "share_of_women": 0.55}
    assert hidden == {}


def test_a_ratio_with_a_hidden_term_is_hidden_whatever_the_hidden_value() -> None:
    # The hidden counts keep their raw values on purpose: a ratio must never be made of them.
    cell = published({"attended": "primary"}, registered=20, attended=3, feedback_responses=12)
    female = published({"registered": "complementary"}, registered=17, attended=2)
    values, hidden = ratios(cell, female)
    assert values == {"attendance_rate": None, "feedback_completion": None, "share_of_women": None}
    assert hidden == dict.fromkeys(values, "suppressed")


def test_zero_denominators_and_missing_refinements_say_why() -> None:
    values, hidden = ratios(published(registered=0, attended=0, feedback_responses=0), None)
    assert set(values.values()) == {None}
    assert hidden == {
        "attendance_rate": "not_applicable",
        "feedback_completion": "not_applicable",
        "share_of_women": "not_available",
    }
    # a cell of men: no women in it, a published zero
    values, hidden = ratios(published(registered=8, attended=8, feedback_responses=0), {})
    assert values["share_of_women"] == 0.0 and "share_of_women" not in hidden


def test_every_indicator_has_a_formula_and_a_distinct_code() -> None:
    assert len(set(CODES)) == len(CODES)
    for indicator in INDICATORS:
        assert indicator.meaning and indicator.formula
        if indicator.kind == "ratio":
            assert indicator.numerator and indicator.denominator
    assert [d["code"] for d in indicators.definitions()] == list(CODES)


def test_the_indicators_document_is_generated_from_the_declarations() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/indicators.md is stale: regenerate it with "
        "`uv run python -c 'from trainops_reporting.domain.indicators import markdown; "
        'print(markdown(), end="")\' > docs/indicators.md`'
    )
    for code in CODES:
        assert f"`{code}`" in DOC.read_text(encoding="utf-8")
