"""The programme's indicators, declared once: what each one means, its formula, how it is
computed from a published cell, and the version of the set.

Every indicator is computed from figures the disclosure control has already let through:
the counts of one cell of the protected universe (``domain.disclosure``), and for the share
of women the same cell refined by ``sex=female`` (itself a cell of the universe). A ratio is
shown only when every count it is made of is shown; if any of them is hidden, so is the
ratio (``suppressed``), because a ratio beside one of its published terms gives the hidden
term away. A ratio over a zero denominator is ``not_applicable``; one whose refined cell is
not in the universe (e.g. the share of women of a ``sector`` row: ``sector × sex`` is not a
requestable table) is ``not_available``. Nothing here reads a raw count.

Distinct people (reach as a head count) is not an indicator here: a count of distinct people
is not a sum of the published registration cells, and differencing it against them would
tell who is in which cell; reach is given in registrations, the unit of every table.

``VERSION`` changes whenever a formula or the set changes, so a frozen snapshot says which
definitions its figures follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

VERSION: Final[str] = "2"
"""Version of the indicator definitions below (recorded in every snapshot)."""

Kind = Literal["count", "mean", "ratio", "share"]
HiddenReason = Literal["suppressed", "not_applicable", "not_available"]
RATIO_DIGITS: Final[int] = 3
"""Ratios are rounded to three decimals (a tenth of a percent)."""


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator: its code, what it means, its formula over the published measures.

    ``numerator`` and ``denominator`` name measures of the cell (a ratio); ``female`` says the
    numerator is read from the cell refined by ``sex=female``.
    """

    code: str
    kind: Kind
    meaning: str
    formula: str
    numerator: str | None = None
    denominator: str | None = None
    female: bool = False


INDICATORS: Final[tuple[Indicator, ...]] = (
    Indicator(
        "registered",
        "count",
        "Reach: confirmed registrations on sessions that were not cancelled (one person in one "
        "session).",
        "count of registrations with status confirmed (a promotion from the waiting list "
        "included) whose session is not cancelled; from ParticipantRegistered, "
        "WaitlistPromoted, RegistrationCancelled, SessionCancelled",
    ),
    Indicator(
        "attended",
        "count",
        "People attended: registrations recorded as attended.",
        "count of registrations whose latest AttendanceRecorded (highest version) says attended",
    ),
    Indicator(
        "feedback_responses",
        "count",
        "Feedback received: responses, at most one per invitation (per registration).",
        "count of FeedbackSubmitted, the first submitted per registration",
    ),
    Indicator(
        "attendance_rate",
        "ratio",
        "Attendance rate: the share of registrations that were attended.",
        "attended / registered",
        numerator="attended",
        denominator="registered",
    ),
    Indicator(
        "feedback_completion",
        "ratio",
        "Completion of feedback: the share of attended registrations that answered the "
        "feedback form.",
        "feedback_responses / attended",
        numerator="feedback_responses",
        denominator="attended",
    ),
    Indicator(
        "satisfaction_mean",
        "mean",
        "Satisfaction: mean of the 1-5 overall rating of the feedback form; hidden with "
        "feedback_responses.",
        "sum of overall ratings / number of responses with an overall rating (2 decimals)",
    ),
    Indicator(
        "share_of_women",
        "ratio",
        "Share of women among the registrations of the cell.",
        "registered (same cell, sex = female) / registered",
        numerator="registered",
        denominator="registered",
        female=True,
    ),
    Indicator(
        "knowledge_gain",
        "mean",
        "Knowledge gain: mean of post-test minus pre-test result, in percentage points of the "
        "maximum score, over everyone with both tests of one session (matched by the "
        "pseudonymous participant id only); hidden below k pairs.",
        "mean over pairs of 100 × (post score / post max − pre score / pre max) (2 decimals); "
        "from KnowledgeTestSubmitted",
    ),
    Indicator(
        "share_improved",
        "share",
        "Share of the matched pre/post pairs whose post-test result is higher; hidden with "
        "knowledge_gain.",
        "pairs with post / post max > pre / pre max ÷ pairs (4 decimals)",
    ),
    Indicator(
        "item_mean",
        "mean",
        "Per-item satisfaction: mean answer (1-5) of every Likert item of the survey, with its "
        "distribution; an item hidden below k responses, a count of 1..k-1 within it hidden "
        "(and one complement where it alone would be derivable from the item's total).",
        "sum of an item's answers / number of counted responses answering it (2 decimals); "
        "from FeedbackSubmitted",
    ),
)
RATIOS: Final[tuple[Indicator, ...]] = tuple(i for i in INDICATORS if i.kind == "ratio")
CODES: Final[tuple[str, ...]] = tuple(i.code for i in INDICATORS)


def _shown(cell: Mapping[str, Any], measure: str) -> int | None:
    """A count as the cell publishes it: ``None`` if hidden (or absent)."""
    if measure in cell.get("suppressed", {}):
        return None
    value = cell.get(measure)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ratio_of(
    indicator: Indicator, cell: Mapping[str, Any], female: Mapping[str, Any] | None
) -> tuple[float | None, HiddenReason | None]:
    """One ratio of a published cell: its value, or why it is not given.

    ``female`` is the published cell refined by ``sex=female`` (``None`` where the universe
    has no such cell); an empty mapping means the refinement holds nobody (a zero).
    """
    assert indicator.numerator is not None and indicator.denominator is not None
    denominator = _shown(cell, indicator.denominator)
    if indicator.female:
        if female is None:
            return None, "not_available"
        numerator = _shown(female, indicator.numerator) if female else 0
    else:
        numerator = _shown(cell, indicator.numerator)
    if denominator is None or numerator is None:
        return None, "suppressed"
    if denominator == 0:
        return None, "not_applicable"
    return round(numerator / denominator, RATIO_DIGITS), None


def ratios(
    cell: Mapping[str, Any], female: Mapping[str, Any] | None
) -> tuple[dict[str, float | None], dict[str, HiddenReason]]:
    """Every ratio of a published cell, and the reason of each one not given."""
    values: dict[str, float | None] = {}
    reasons: dict[str, HiddenReason] = {}
    for indicator in RATIOS:
        value, reason = ratio_of(indicator, cell, female)
        values[indicator.code] = value
        if reason is not None:
            reasons[indicator.code] = reason
    return values, reasons


def definitions() -> list[dict[str, str]]:
    """The declared indicators as published beside every report."""
    return [
        {"code": i.code, "kind": i.kind, "meaning": i.meaning, "formula": i.formula}
        for i in INDICATORS
    ]


def markdown() -> str:
    """``docs/indicators.md``: generated from ``INDICATORS`` (a test keeps the file equal)."""
    lines = [
        "# Indicators",
        "",
        "Generated from `services/reporting/src/trainops_reporting/domain/indicators.py` "
        f"(definitions version {VERSION}); do not edit by hand.",
        "",
        "Every count is of registrations (one person in one session) and obeys the "
        "disclosure control (server k, primary and complementary suppression). A ratio is "
        "given only when every count it is made of is published; otherwise it is hidden "
        "(`suppressed`), or `not_applicable` (zero denominator), or `not_available` (the "
        "refined cell is not a requestable table). Ratios are rounded to "
        f"{RATIO_DIGITS} decimals. Distinct people are not counted: a distinct count is "
        "not a sum of the published cells, and differencing it against them would tell "
        "who is in which cell.",
        "",
        "| Code | Kind | Meaning | Formula |",
        "| --- | --- | --- | --- |",
    ]
    for i in INDICATORS:
        lines.append(f"| `{i.code}` | {i.kind} | {i.meaning} | {i.formula} |")
    lines.append("")
    return "\n".join(lines)
