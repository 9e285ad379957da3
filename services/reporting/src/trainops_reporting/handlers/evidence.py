"""Reads of every answer reported: item figures, knowledge gain and comments of a window.

Each returns figures already protected by the domain's disclosure rules
(:mod:`trainops_reporting.domain.evidence`); nothing here returns a row of one response, one
person's score or who wrote a comment.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from trainops_reporting.adapters import evidence
from trainops_reporting.domain.evidence import (
    CommentGroup,
    ItemComments,
    ItemFigure,
    KnowledgeGain,
    Pair,
    choice_figure,
    comment_group,
    fraction,
    item_comments,
    knowledge_gain,
    likert_figure,
)
from trainops_reporting.handlers.periods import period_window

LIKERT_SCALE = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class EvidenceRequest:
    period: str
    training_id: uuid.UUID | None
    k: int

    @property
    def window(self) -> evidence.Window:
        start, end = period_window(self.period)
        return start, end, self.training_id


def item_figures(conn: Connection, request: EvidenceRequest) -> list[ItemFigure]:
    """Every item answered in the window: Likert means and distributions, option counts."""
    likert: dict[str, dict[int, int]] = defaultdict(dict)
    for item, value, n in evidence.likert_counts(conn, request.window):
        likert[item][value] = n
    choices: dict[str, dict[str, int]] = defaultdict(dict)
    for item, option, n in evidence.choice_counts(conn, request.window):
        choices[item][option] = n
    respondents = evidence.choice_respondents(conn, request.window)
    declared = evidence.survey_options(conn)
    figures = [
        likert_figure(item, counts, LIKERT_SCALE, request.k)
        for item, counts in sorted(likert.items())
    ]
    for item, counts in sorted(choices.items()):
        kind, options = declared.get(item, ("multiple", sorted(counts)))
        figures.append(
            choice_figure(item, kind, respondents.get(item, 0), counts, options, request.k)
        )
    return figures


def gain(conn: Connection, request: EvidenceRequest) -> KnowledgeGain:
    pairs = [
        Pair(fraction(pre, pre_max), fraction(post, post_max))
        for pre, pre_max, post, post_max in evidence.test_pairs(conn, request.window)
    ]
    return knowledge_gain(pairs, request.k)


def comments(
    conn: Connection, request: EvidenceRequest, session_id: uuid.UUID | None
) -> CommentGroup:
    respondents, texts = evidence.group_comments(conn, request.window, session_id)
    return comment_group(respondents, texts, request.k)


def comments_per_item(conn: Connection, request: EvidenceRequest) -> list[ItemComments]:
    """The window's comments item by item, each item a group of the window's respondents."""
    respondents, by_item = evidence.comments_by_item(conn, request.window)
    return item_comments(respondents, by_item, request.k)
