"""Disclosure rules of every answer reported: distributions, knowledge gain, comments."""

from __future__ import annotations

import pytest

from trainops_reporting.domain.evidence import (
    Cell,
    Pair,
    choice_figure,
    comment_group,
    knowledge_gain,
    likert_figure,
    protect_cells,
)

pytestmark = pytest.mark.unit


def test_one_small_cell_takes_the_smallest_other_with_it() -> None:
    cells = protect_cells({"1": 2, "2": 0, "3": 7, "4": 9, "5": 6}, 5)
    assert cells == (
        Cell("1", None, "primary"),
        Cell("2", 0),
        Cell("3", 7),
        Cell("4", 9),
        Cell("5", None, "complementary"),
    )


def test_two_small_cells_need_no_complement() -> None:
    hidden = [c.suppressed for c in protect_cells({"a": 1, "b": 2, "c": 9}, 5)]
    assert hidden == ["primary", "primary", None]


def test_an_item_below_k_publishes_nothing() -> None:
    figure = likert_figure("overall", {4: 2, 5: 2}, (1, 2, 3, 4, 5), 5)
    assert (figure.respondents, figure.mean, figure.cells, figure.suppressed) == (
        None,
        None,
        (),
        "primary",
    )


def test_the_mean_is_over_the_counted_answers() -> None:
    figure = likert_figure("overall", {3: 5, 5: 5}, (1, 2, 3, 4, 5), 5)
    assert (figure.respondents, figure.mean) == (10, 4.0)
    assert [c.count for c in figure.cells] == [0, 0, 5, 0, 5]


def test_a_multiple_choice_hides_each_small_option_alone() -> None:
    figure = choice_figure("flags", "multiple", 6, {"x": 6, "y": 2}, ["x", "y", "z"], 5)
    assert [(c.value, c.count, c.suppressed) for c in figure.cells] == [
        ("x", 6, None),
        ("y", None, "primary"),
        ("z", 0, None),
    ]


def test_knowledge_gain_in_points_and_share_improved() -> None:
    pairs = [Pair(0.0, 0.5), Pair(0.5, 0.5), Pair(0.25, 1.0)]
    gain = knowledge_gain(pairs, 3)
    assert (gain.pairs, gain.mean_pre, gain.mean_post, gain.mean_gain) == (3, 25.0, 66.67, 41.67)
    assert gain.share_improved == 0.6667
    assert knowledge_gain(pairs, 4).pairs is None
    assert knowledge_gain([], 4).suppressed is None


def test_comments_need_k_respondents_and_k_comments_and_lose_their_order() -> None:
    assert comment_group(10, ["b", "A", "c"], 3).comments == ("A", "b", "c")
    assert comment_group(10, ["b", "a"], 3).comments == ()
    assert comment_group(2, ["b", "a", "c"], 3).suppressed == "primary"
