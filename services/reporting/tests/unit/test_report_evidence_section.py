"""The summary and donor answers carry the learning evidence of their own window and k."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from reporting_programme import Programme, build_donor_scenario
from reporting_streams import deliver, empty_read_model
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_cache import PatternCache
from trainops_reporting.handlers.evidence import (
    EvidenceRequest,
    comments,
    comments_per_item,
    gain,
    item_figures,
)
from trainops_reporting.handlers.reports import ReportRequest, donor_report, summary_report
from trainops_shared.events import ParticipantRegistered

pytestmark = pytest.mark.unit


@pytest.fixture
def conn() -> Iterator[Connection]:
    with empty_read_model() as connection:
        yield connection


def test_summary_and_donor_carry_the_evidence_of_their_window(
    conn: Connection, programme: Programme
) -> None:
    """Knowledge gain and item figures on the summary and donor answers are those of the
    evidence routes for the same window and k: the same suppression, nothing more."""
    ids = build_donor_scenario(programme)
    regs = [
        e
        for e in programme.events
        if isinstance(e, ParticipantRegistered) and e.session_id == ids["s1"]
    ]
    for reg, (pre, post) in zip(
        regs[:6], [(4, 8), (5, 5), (6, 9), (2, 6), (7, 6), (3, 8)], strict=True
    ):
        programme.knowledge_test(reg, "pre", pre)
        programme.knowledge_test(reg, "post", post)
    deliver(conn, programme.events)
    summary = summary_report(conn, ReportRequest(k=5), PatternCache(("all",)))
    section = summary["evidence"]
    assert section["knowledge_gain"] == {
        "pairs": 6,
        "mean_pre": 45.0,
        "mean_post": 70.0,
        "mean_gain": 25.0,
        "share_improved": 0.6667,
        "suppressed": None,
    }
    asked = EvidenceRequest(period="all", training_id=None, k=5)
    assert section == msgspec.json.decode(
        msgspec.json.encode(
            {
                "knowledge_gain": gain(conn, asked),
                "items": item_figures(conn, asked),
                "comments": comments_per_item(conn, asked),
            }
        )
    )
    overall = next(i for i in section["items"] if i["item"] == "overall")
    assert overall["respondents"] == 9 and overall["mean"] == 3.89
    # below k pairs (k = 7) the gain is hidden whole, as on /reports/knowledge-gain
    donor = donor_report(conn, ReportRequest(by=("city",), k=7), PatternCache(("all",)))
    assert donor["evidence"]["knowledge_gain"] == {
        "pairs": None,
        "mean_pre": None,
        "mean_post": None,
        "mean_gain": None,
        "share_improved": None,
        "suppressed": "primary",
    }
    # the training filter cuts the evidence too: T2 has no answers and no tests
    t2 = summary_report(conn, ReportRequest(training_id=ids["t2"], k=5), PatternCache(("all",)))
    assert t2["evidence"] == {
        "knowledge_gain": {
            "pairs": None,
            "mean_pre": None,
            "mean_post": None,
            "mean_gain": None,
            "share_improved": None,
            "suppressed": None,
        },
        "items": [],
        "comments": [],
    }


def test_donor_evidence_carries_comments_per_item_only_for_k_respondents(
    conn: Connection, programme: Programme
) -> None:
    """Each free-text item's comments come in text order without any id or time, and only
    where the window has k respondents and the item k comments; a smaller item shows that it
    was hidden, not how many it holds. The whole-window group is what /reports/comments says."""
    ids = build_donor_scenario(programme)  # 9 counted responses, all on s1
    for text in ("zeta", "Alpha", "beta", "gamma", "delta"):
        programme.comment(ids["s1"], text)
    for text in ("more exercises", "longer breaks"):
        programme.comment(ids["s1"], text, item="improve")
    deliver(conn, programme.events)
    section = donor_report(conn, ReportRequest(by=("city",), k=5), PatternCache(("all",)))[
        "evidence"
    ]
    shown = ["Alpha", "beta", "delta", "gamma", "zeta"]
    assert section["comments"] == [
        {"item": "comment", "respondents": 9, "comments": shown, "suppressed": None},
        {"item": "improve", "respondents": None, "comments": [], "suppressed": "primary"},
    ]
    asked = EvidenceRequest(period="all", training_id=None, k=5)
    assert comments(conn, asked, None).respondents == 9
    # a larger k than the respondents hides every item's comments
    strict = donor_report(conn, ReportRequest(k=10), PatternCache(("all",)))["evidence"]
    assert [g["suppressed"] for g in strict["comments"]] == ["primary", "primary"]
    assert all(g["comments"] == [] and g["respondents"] is None for g in strict["comments"])
    # the training filter cuts them too: T2 has no comments at all
    t2 = summary_report(conn, ReportRequest(training_id=ids["t2"], k=5), PatternCache(("all",)))
    assert t2["evidence"]["comments"] == []
