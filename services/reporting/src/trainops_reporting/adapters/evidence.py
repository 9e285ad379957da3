"""Statements of the evidence read model: item answers, test scores, comments.

Reads cut by the same window as the donor report (sessions starting in the period, optionally
one training) and count only the counted response of each registration.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.tables import (
    comments,
    feedback_responses,
    item_answers,
    item_choices,
    sessions,
    survey_items,
    test_scores,
)


def add_item_answers(
    conn: Connection,
    response_id: uuid.UUID,
    answers: Mapping[str, int],
    choices: Mapping[str, list[str]],
) -> None:
    if answers:
        conn.execute(
            item_answers.insert(),
            [{"response_id": response_id, "item": k, "value": v} for k, v in answers.items()],
        )
    rows = [
        {"response_id": response_id, "item": item, "option": option}
        for item, options in choices.items()
        for option in sorted(set(options))
    ]
    if rows:
        conn.execute(item_choices.insert(), rows)


def drop_item_answers(conn: Connection, response_id: uuid.UUID) -> None:
    conn.execute(item_answers.delete().where(item_answers.c.response_id == response_id))
    conn.execute(item_choices.delete().where(item_choices.c.response_id == response_id))


def counted_test(
    conn: Connection, participant_id: uuid.UUID, session_id: uuid.UUID, phase: str
) -> sa.Row[Any] | None:
    query: sa.Select[Any] = sa.select(test_scores.c.response_id, test_scores.c.submitted_at).where(
        test_scores.c.participant_id == participant_id,
        test_scores.c.session_id == session_id,
        test_scores.c.phase == phase,
    )
    return conn.execute(query).one_or_none()


def replace_test(conn: Connection, old: uuid.UUID | None, values: dict[str, Any]) -> None:
    if old is not None:
        conn.execute(test_scores.delete().where(test_scores.c.response_id == old))
    conn.execute(test_scores.insert().values(**values))


def add_comment(conn: Connection, values: dict[str, Any]) -> None:
    exists = conn.execute(
        sa.select(comments.c.comment_id).where(comments.c.comment_id == values["comment_id"])
    ).first()
    if exists is None:
        conn.execute(comments.insert().values(**values))


# --------------------------------------------------------------------------------------------
# Reads


def _window(
    start: datetime | None, end: datetime | None, training_id: uuid.UUID | None
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [sessions.c.status != "cancelled"]
    if start is not None:
        where.append(sessions.c.starts_at >= start)
    if end is not None:
        where.append(sessions.c.starts_at < end)
    if training_id is not None:
        where.append(sessions.c.training_id == training_id)
    return where


Window = tuple[datetime | None, datetime | None, uuid.UUID | None]


def likert_counts(conn: Connection, window: Window) -> list[tuple[str, int, int]]:
    """``(item, value, responses)`` over the counted responses of the window."""
    query = (
        sa.select(item_answers.c.item, item_answers.c.value, sa.func.count())
        .select_from(
            item_answers.join(
                feedback_responses, feedback_responses.c.response_id == item_answers.c.response_id
            ).join(sessions, sessions.c.session_id == feedback_responses.c.session_id)
        )
        .where(*_window(*window))
        .group_by(item_answers.c.item, item_answers.c.value)
        .order_by(item_answers.c.item, item_answers.c.value)
    )
    return [(r[0], int(r[1]), int(r[2])) for r in conn.execute(query)]


def choice_counts(conn: Connection, window: Window) -> list[tuple[str, str, int]]:
    query = (
        sa.select(item_choices.c.item, item_choices.c.option, sa.func.count())
        .select_from(
            item_choices.join(
                feedback_responses, feedback_responses.c.response_id == item_choices.c.response_id
            ).join(sessions, sessions.c.session_id == feedback_responses.c.session_id)
        )
        .where(*_window(*window))
        .group_by(item_choices.c.item, item_choices.c.option)
        .order_by(item_choices.c.item, item_choices.c.option)
    )
    return [(r[0], r[1], int(r[2])) for r in conn.execute(query)]


def choice_respondents(conn: Connection, window: Window) -> dict[str, int]:
    """Responses that answered each choice item (a multiple choice counts each once)."""
    query = (
        sa.select(item_choices.c.item, sa.func.count(sa.distinct(item_choices.c.response_id)))
        .select_from(
            item_choices.join(
                feedback_responses, feedback_responses.c.response_id == item_choices.c.response_id
            ).join(sessions, sessions.c.session_id == feedback_responses.c.session_id)
        )
        .where(*_window(*window))
        .group_by(item_choices.c.item)
    )
    return {r[0]: int(r[1]) for r in conn.execute(query)}


def save_survey_items(
    conn: Connection,
    survey_id: uuid.UUID,
    version: int,
    kinds: Mapping[str, str],
    options: Mapping[str, list[str]],
) -> None:
    """The items of one published version, once (a version never changes)."""
    known = conn.execute(
        sa.select(survey_items.c.item).where(
            survey_items.c.survey_id == survey_id, survey_items.c.version == version
        )
    ).first()
    rows = [
        {
            "survey_id": survey_id,
            "version": version,
            "item": item,
            "kind": kind,
            "options": list(options.get(item, [])),
        }
        for item, kind in kinds.items()
    ]
    if known is None and rows:
        conn.execute(survey_items.insert(), rows)


def survey_options(conn: Connection) -> dict[str, tuple[str, list[str]]]:
    """``item → (kind, option keys)`` as the newest published version says."""
    out: dict[str, tuple[str, list[str]]] = {}
    rows = conn.execute(
        sa.select(survey_items.c.item, survey_items.c.kind, survey_items.c.options).order_by(
            survey_items.c.version, survey_items.c.survey_id
        )
    )
    for item, kind, options in rows:
        out[item] = (kind, list(options or []))
    return out


def test_pairs(conn: Connection, window: Window) -> list[tuple[int, int, int, int]]:
    """``(pre score, pre max, post score, post max)`` of every person with both tests of one
    session in the window, matched on the pseudonymous participant id."""
    pre = test_scores.alias("pre")
    post = test_scores.alias("post")
    query = (
        sa.select(pre.c.score, pre.c.max_score, post.c.score, post.c.max_score)
        .select_from(
            pre.join(
                post,
                sa.and_(
                    post.c.participant_id == pre.c.participant_id,
                    post.c.session_id == pre.c.session_id,
                    post.c.phase == "post",
                ),
            ).join(sessions, sessions.c.session_id == pre.c.session_id)
        )
        .where(pre.c.phase == "pre", *_window(*window))
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in conn.execute(query)]


def _respondents(conn: Connection, where: list[sa.ColumnElement[bool]]) -> int:
    """Counted responses of sessions matching ``where`` (a group's respondents)."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(
                feedback_responses.join(
                    sessions, sessions.c.session_id == feedback_responses.c.session_id
                )
            )
            .where(*where)
        ).scalar_one()
    )


def _comments_of(where: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    return (
        sa.select(comments.c.item, comments.c.text)
        .select_from(comments.join(sessions, sessions.c.session_id == comments.c.session_id))
        .where(*where)
    )


def group_comments(
    conn: Connection, window: Window, session_id: uuid.UUID | None
) -> tuple[int, list[str]]:
    """Respondents (counted responses) and comment texts of a window or of one session."""
    where = _window(*window)
    if session_id is not None:
        where.append(sessions.c.session_id == session_id)
    texts = [row.text for row in conn.execute(_comments_of(where))]
    return _respondents(conn, where), texts


def comments_by_item(conn: Connection, window: Window) -> tuple[int, dict[str, list[str]]]:
    """Respondents (counted responses) of a window and its comment texts, item by item."""
    where = _window(*window)
    by_item: dict[str, list[str]] = {}
    for row in conn.execute(_comments_of(where)):
        by_item.setdefault(row.item, []).append(row.text)
    return _respondents(conn, where), by_item
