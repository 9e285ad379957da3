"""The summary and donor answers carry the learning evidence of their own window and k."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from reporting_programme import Programme, build_donor_scenario
from reporting_streams import deliver, empty_read_model
from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_cache import PatternCache
from trainops_reporting.handlers.evidence import EvidenceRequest, gain, item_figures
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
            {"knowledge_gain": gain(conn, asked), "items": item_figures(conn, asked)}
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
    }
