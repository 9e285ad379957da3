"""Frozen reports: the canonical bytes of a donor answer, their hash, and what changed between
two of them.

A snapshot stores the answer itself, not a way to recompute it: recomputing after new events
would give today's figures. The canonical form is the answer's JSON with every object's keys
sorted (msgspec's ``order="sorted"``), so equal answers are equal bytes whichever process made
them, and the SHA-256 of those bytes names the content.

Comparing two snapshots compares what they publish, never raw counts: a cell that reads
``<k`` in both is unchanged as far as anyone may know, and a change into or out of hiding is
told as the markers, not as the hidden number. The same holds for the evidence section
(knowledge gain, every item's mean and distribution, each item's comments), compared figure
by figure. The reasons are the events the read model applied between the two snapshots'
stream positions, by type, as far as they tell; an evidence change names those of the types
that can move its section.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any, Final

import msgspec

from trainops_reporting.domain.disclosure import MEASURES
from trainops_reporting.domain.evidence import GAIN_FIGURES
from trainops_reporting.domain.indicators import RATIOS

PUBLISHED: Final[tuple[str, ...]] = (*MEASURES, "satisfaction_mean")
TABLES: Final[tuple[str, ...]] = ("rows", "row_totals", "column_totals")
_SKIPPED: Final[frozenset[str]] = frozenset(
    {*PUBLISHED, "suppressed", "indicators", "indicators_hidden"}
)

REASONS: Final[Mapping[str, str]] = {
    "registration.participant_registered.v1": "new registrations",
    "registration.registration_cancelled.v1": "registrations cancelled",
    "registration.waitlist_promoted.v1": "promotions from the waiting list",
    "registration.attendance_recorded.v1": "attendance recorded (late records or corrections)",
    "scheduling.session_scheduled.v1": "sessions scheduled",
    "scheduling.session_rescheduled.v1": "sessions rescheduled (they may change period)",
    "scheduling.session_cancelled.v1": "sessions cancelled",
    "scheduling.session_completed.v1": "sessions completed",
    "scheduling.session_capacity_changed.v1": "capacities changed",
    "scheduling.training_defined.v1": "trainings defined or renamed",
    "feedback.feedback_submitted.v1": "feedback responses submitted",
    "feedback.survey_published.v1": "survey versions published (their items and options)",
    "feedback.knowledge_test_submitted.v1": "knowledge tests taken (pre or post)",
    "feedback.comment_given.v1": "comments given",
    "registration.participants_merged.v1": "participants merged (one person, one id)",
}
"""What each event type applied between two snapshots may have changed, in words."""


def canonical(report: Mapping[str, Any]) -> bytes:
    """The answer as canonical JSON: keys sorted at every level, no insignificant space."""
    return msgspec.json.encode(report, order="sorted")


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _shown(entry: Mapping[str, Any], name: str, k: int) -> Any:
    """A figure as published: its value, or the marker of why it is hidden."""
    flags: Mapping[str, str] = entry.get("suppressed", {})
    if name == "satisfaction_mean" and "feedback_responses" in flags:
        return "x"
    if name in flags:
        return f"<{k}" if flags[name] == "primary" else "x"
    if name in entry.get("indicators_hidden", {}) and entry["indicators_hidden"][name] == (
        "suppressed"
    ):
        return "x"
    if name in PUBLISHED:
        return entry.get(name)
    value: Any = entry.get("indicators", {}).get(name)
    return value


def _cells(report: Mapping[str, Any]) -> Iterator[tuple[str, tuple[tuple[str, str], ...], Any]]:
    for table in TABLES:
        for entry in report.get(table, []):
            labels = tuple(sorted((d, str(v)) for d, v in entry.items() if d not in _SKIPPED))
            yield table, labels, entry
    yield "totals", (), report["totals"]


def _figures(report: Mapping[str, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Any]:
    k = int(report["k"])
    names = (*PUBLISHED, *(i.code for i in RATIOS))
    return {
        (table, labels): {name: _shown(entry, name, k) for name in names}
        for table, labels, entry in _cells(report)
    }


def changed_cells(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every published figure that reads differently (value or marker), cell by cell; a cell
    present in one snapshot only reads as ``null`` in the other."""
    old, new = _figures(before), _figures(after)
    out: list[dict[str, Any]] = []
    for key in sorted(old.keys() | new.keys()):
        table, labels = key
        was, now = old.get(key, {}), new.get(key, {})
        for name in sorted(was.keys() | now.keys()):
            if was.get(name) != now.get(name):
                out.append(
                    {
                        "table": table,
                        "cell": dict(labels),
                        "figure": name,
                        "before": was.get(name),
                        "after": now.get(name),
                    }
                )
    return out


def reasons(events: Mapping[str, int]) -> list[dict[str, Any]]:
    """The events applied between two snapshots, by type, with what each may have changed."""
    return [
        {"event": subject, "count": count, "meaning": REASONS.get(subject, "other events")}
        for subject, count in sorted(events.items())
        if count
    ]


def same_question(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two snapshots answer the same parameters (their cells then line up one to
    one); others are still compared, cell by cell, as far as their cells coincide."""
    return dict(a) == dict(b)


_WINDOW_EVENTS: Final[tuple[str, ...]] = (
    "scheduling.session_rescheduled.v1",
    "scheduling.session_cancelled.v1",
)
"""Events that move a session into or out of a report's window (evidence reads skip
cancelled sessions), hence every figure of the evidence section."""
EVIDENCE_SOURCES: Final[Mapping[str, tuple[str, ...]]] = {
    "knowledge_gain": ("feedback.knowledge_test_submitted.v1", *_WINDOW_EVENTS),
    "items": ("feedback.feedback_submitted.v1", "feedback.survey_published.v1", *_WINDOW_EVENTS),
    "comments": ("feedback.comment_given.v1", "feedback.feedback_submitted.v1", *_WINDOW_EVENTS),
}
"""Per evidence section, the event types whose application can change its figures."""

EvidenceKey = tuple[str, str, str]
"""(section, item, figure); the knowledge gain's item is ``""``."""


def _marker(hidden: str | None, count: bool, k: int) -> str:
    return f"<{k}" if count and hidden == "primary" else "x"


def _evidence_figures(report: Mapping[str, Any]) -> dict[EvidenceKey, Any]:
    """Every figure the evidence section publishes: its value, or the marker of why it is
    hidden (``<k`` for a count of 1..k-1, ``x`` for what is hidden with it)."""
    evidence: Mapping[str, Any] | None = report.get("evidence")
    if evidence is None:
        return {}
    k = int(report["k"])
    out: dict[EvidenceKey, Any] = {}
    gain: Mapping[str, Any] = evidence["knowledge_gain"]
    hidden = gain.get("suppressed")
    for name in GAIN_FIGURES:
        shown = gain.get(name) if hidden is None else _marker(hidden, name == "pairs", k)
        out[("knowledge_gain", "", name)] = shown
    for item in evidence["items"]:
        code, hidden = str(item["item"]), item.get("suppressed")
        if hidden is not None:
            out[("items", code, "respondents")] = _marker(hidden, True, k)
            continue
        out[("items", code, "respondents")] = item["respondents"]
        if item["kind"] == "likert":
            out[("items", code, "mean")] = item["mean"]
        for cell in item["cells"]:
            flag = cell.get("suppressed")
            value = cell["count"] if flag is None else _marker(flag, True, k)
            out[("items", code, f"answer:{cell['value']}")] = value
    for group in evidence.get("comments", []):
        code = str(group["item"])
        if group.get("suppressed") is not None:
            out[("comments", code, "comments")] = "x"
            continue
        out[("comments", code, "respondents")] = group["respondents"]
        out[("comments", code, "comments")] = len(group["comments"])
    return out


def changed_evidence(
    before: Mapping[str, Any], after: Mapping[str, Any], events: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Every published evidence figure that reads differently (a figure present in one
    snapshot only reads as ``null`` in the other), with the event types applied between the
    two (``events``, by subject) that can explain a change of its section."""
    old, new = _evidence_figures(before), _evidence_figures(after)
    out: list[dict[str, Any]] = []
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) == new.get(key):
            continue
        section, item, figure = key
        out.append(
            {
                "section": section,
                "item": item or None,
                "figure": figure,
                "before": old.get(key),
                "after": new.get(key),
                "reasons": [s for s in EVIDENCE_SOURCES[section] if events.get(s, 0) > 0],
            }
        )
    return out
