"""Snapshot rules without a server: canonical bytes, the diff of what is published, and the
snapshot table's migration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from trainops_reporting.adapters.migrations import MIGRATIONS
from trainops_reporting.domain.snapshots import (
    canonical,
    changed_cells,
    changed_evidence,
    content_hash,
    reasons,
)
from trainops_shared.storage import apply_migrations, schema_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.unit


def entry(city: str | None, count: int | None, **flags: str) -> dict[str, Any]:
    out: dict[str, Any] = {} if city is None else {"city": city}
    out.update(
        registered=count,
        attended=None if "attended" in flags else 4,
        feedback_responses=0,
        satisfaction_mean=None,
        suppressed=flags,
        indicators={"attendance_rate": None if "attended" in flags else 0.5},
        indicators_hidden={"attendance_rate": "suppressed"} if "attended" in flags else {},
    )
    return out


def report(rows: list[dict[str, Any]], total: dict[str, Any]) -> dict[str, Any]:
    return {"by": ["city"], "k": 5, "rows": rows, "totals": total}


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}
    assert canonical(a) == canonical(b) == b'{"a":{"x":null,"y":[1,2]},"b":1}'
    assert content_hash(canonical(a)) == content_hash(canonical(b))


def test_the_diff_compares_published_figures_never_hidden_values() -> None:
    before = report(
        [entry("aktau", 10), entry("almaty", None, registered="primary", attended="primary")],
        entry(None, 13),
    )
    after = report(
        [
            entry("aktau", 15, attended="complementary"),
            # almaty's hidden count moved (say 3 to 4): it still reads <5, so nothing changed
            entry("almaty", None, registered="primary", attended="primary"),
            entry("oskemen", 6),
        ],
        entry(None, 25),
    )
    changes = changed_cells(before, after)
    got = {
        (c["table"], c["cell"].get("city"), c["figure"]): (c["before"], c["after"]) for c in changes
    }
    assert got == {
        ("rows", "aktau", "registered"): (10, 15),
        ("rows", "aktau", "attended"): (4, "x"),  # into hiding: the marker, not the value
        ("rows", "aktau", "attendance_rate"): (0.5, "x"),
        ("rows", "oskemen", "registered"): (None, 6),
        ("rows", "oskemen", "attended"): (None, 4),
        ("rows", "oskemen", "attendance_rate"): (None, 0.5),
        ("rows", "oskemen", "feedback_responses"): (None, 0),
        ("totals", None, "registered"): (13, 25),
    }


def with_evidence(
    gain: dict[str, Any], items: list[dict[str, Any]], comments: list[dict[str, Any]]
) -> dict[str, Any]:
    out = report([], entry(None, 13))
    out["evidence"] = {"knowledge_gain": gain, "items": items, "comments": comments}
    return out


HIDDEN_GAIN = dict.fromkeys(("pairs", "mean_pre", "mean_post", "mean_gain", "share_improved"))


def likert(respondents: int, mean: float, cells: list[tuple[int | None, str | None]]) -> Any:
    return {
        "item": "overall",
        "kind": "likert",
        "respondents": respondents,
        "mean": mean,
        "cells": [
            {"value": str(v), "count": n, "suppressed": flag}
            for v, (n, flag) in enumerate(cells, start=1)
        ],
        "suppressed": None,
    }


def test_the_diff_itemises_the_evidence_as_published() -> None:
    """Knowledge gain, per-item means and distributions and comments are compared figure by
    figure as published (markers, never hidden values), each change with the applied event
    types that can move its section; an unchanged hidden figure is no change."""
    before = with_evidence(
        {**HIDDEN_GAIN, "pairs": None, "suppressed": "primary"},
        [
            likert(6, 4.0, [(0, None), (0, None), (None, "primary"), (None, "complementary"),
                            (0, None)]),
            {"item": "trainer", "kind": "likert", "respondents": None, "mean": None,
             "cells": [], "suppressed": "primary"},
        ],
        [{"item": "comment", "respondents": None, "comments": [], "suppressed": "primary"}],
    )  # fmt: skip
    after = with_evidence(
        {"pairs": 6, "mean_pre": 40.0, "mean_post": 65.0, "mean_gain": 25.0,
         "share_improved": 0.8333, "suppressed": None},
        [
            likert(11, 4.27, [(0, None), (0, None), (None, "primary"), (5, None), (5, None)]),
            {"item": "trainer", "kind": "likert", "respondents": None, "mean": None,
             "cells": [], "suppressed": "primary"},
        ],
        [{"item": "comment", "respondents": 11, "comments": ["a", "b", "c", "d", "e"],
          "suppressed": None}],
    )  # fmt: skip
    events = {
        "feedback.feedback_submitted.v1": 5,
        "feedback.knowledge_test_submitted.v1": 8,
        "feedback.comment_given.v1": 5,
        "registration.attendance_recorded.v1": 3,
    }
    got = {
        (c["section"], c["item"], c["figure"]): (c["before"], c["after"], tuple(c["reasons"]))
        for c in changed_evidence(before, after, events)
    }
    items = ("feedback.feedback_submitted.v1",)
    gain = ("feedback.knowledge_test_submitted.v1",)
    comments = ("feedback.comment_given.v1", "feedback.feedback_submitted.v1")
    assert got == {
        ("knowledge_gain", None, "pairs"): ("<5", 6, gain),
        ("knowledge_gain", None, "mean_pre"): ("x", 40.0, gain),
        ("knowledge_gain", None, "mean_post"): ("x", 65.0, gain),
        ("knowledge_gain", None, "mean_gain"): ("x", 25.0, gain),
        ("knowledge_gain", None, "share_improved"): ("x", 0.8333, gain),
        ("items", "overall", "respondents"): (6, 11, items),
        ("items", "overall", "mean"): (4.0, 4.27, items),
        # answer 3 stays hidden as primary: it reads <5 in both, whatever it holds
        ("items", "overall", "answer:4"): ("x", 5, items),
        ("items", "overall", "answer:5"): (0, 5, items),
        ("comments", "comment", "comments"): ("x", 5, comments),
        ("comments", "comment", "respondents"): (None, 11, comments),
    }
    assert changed_evidence(after, after, events) == []
    # a snapshot frozen before the evidence section reads as having none
    assert changed_evidence(report([], entry(None, 13)), report([], entry(None, 13)), {}) == []


def test_reasons_name_each_event_type() -> None:
    assert reasons({"registration.attendance_recorded.v1": 2, "other.thing.v1": 1, "x.y": 0}) == [
        {"event": "other.thing.v1", "count": 1, "meaning": "other events"},
        {
            "event": "registration.attendance_recorded.v1",
            "count": 2,
            "meaning": "attendance recorded (late records or corrections)",
        },
    ]


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    made = sa.create_engine("sqlite://")
    yield made
    made.dispose()


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_migration_6_brings_an_older_read_model_its_snapshot_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
    assert "report_snapshots" in tables(engine)
    with engine.begin() as conn:  # a database made by a build before snapshots: v1..v4 only
        conn.execute(sa.text("DROP TABLE report_snapshots"))
        conn.execute(
            schema_migrations.delete().where(
                schema_migrations.c.component == "reporting", schema_migrations.c.version == 6
            )
        )
    assert "report_snapshots" not in tables(engine)
    with engine.begin() as conn:
        assert apply_migrations(conn, [MIGRATIONS]) == [("reporting", 6)]
    assert "report_snapshots" in tables(engine)
