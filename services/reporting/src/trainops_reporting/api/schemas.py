"""Response shapes of the reporting API (msgspec Structs, documented in the OpenAPI schema).

A donor row's keys depend on the requested ``by`` dimensions, so rows are plain mappings.
"""

from __future__ import annotations

from typing import Any

import msgspec


class IndicatorDefinition(msgspec.Struct, kw_only=True):
    """One declared indicator (``domain.indicators``): its code, kind, meaning and formula."""

    code: str
    kind: str
    meaning: str
    formula: str


class Filters(msgspec.Struct, kw_only=True):
    period: str
    """The reporting period the figures cover (``all``, ``YYYY``, ``YYYY-Qn``, ``YYYY-MM``)."""
    training_id: str | None


class CellOut(msgspec.Struct, kw_only=True):
    value: str
    count: int | None
    suppressed: str | None = None


class ItemOut(msgspec.Struct, kw_only=True):
    item: str
    kind: str
    respondents: int | None
    mean: float | None
    """Likert items: the mean answer (1..5) of the counted responses."""
    cells: list[CellOut]
    suppressed: str | None = None


class KnowledgeGainOut(msgspec.Struct, kw_only=True):
    """Over the matched pre/post pairs of the window; all ``null`` below k pairs."""

    pairs: int | None
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    """Mean of post − pre, in percentage points of the maximum score."""
    share_improved: float | None
    suppressed: str | None = None


class ItemCommentsOut(msgspec.Struct, kw_only=True):
    """One free-text item's comments in text order, never attributed; none (``suppressed``)
    for fewer than k respondents or k comments."""

    item: str
    respondents: int | None
    comments: list[str]
    suppressed: str | None = None


class EvidenceOut(msgspec.Struct, kw_only=True):
    """What the evidence routes publish for the same window and k: knowledge gain, every
    item's mean and distribution, and each free-text item's comments (as on
    ``/reports/comments``, item by item)."""

    knowledge_gain: KnowledgeGainOut
    items: list[ItemOut]
    comments: list[ItemCommentsOut] = msgspec.field(default_factory=list)
    """Absent from snapshots frozen before comments were reported (read as none)."""


class SummaryOut(msgspec.Struct, kw_only=True):
    """Counts of registrations (see ``definitions``); ``null`` where suppressed, with the
    reason in ``suppressed``."""

    sessions_scheduled: int
    sessions_delivered: int
    registered: int | None
    attended: int | None
    feedback_responses: int | None
    satisfaction_mean: float | None
    cities_reached: int
    suppressed: dict[str, str]
    """``{measure: "primary" | "complementary"}`` for every hidden count."""
    k: int
    unit: str
    definitions: dict[str, str]
    filters: Filters
    indicators: dict[str, float | None] = {}
    """The ratios of the total (``indicator_definitions``), from published counts only."""
    indicators_hidden: dict[str, str] = {}
    """Why a ratio is ``null``: ``suppressed``, ``not_applicable`` or ``not_available``."""
    indicators_version: str = ""
    indicator_definitions: list[IndicatorDefinition] = []
    evidence: EvidenceOut | None = None


class DonorTotals(msgspec.Struct, kw_only=True):
    registered: int | None
    attended: int | None
    feedback_responses: int | None
    satisfaction_mean: float | None
    suppressed: dict[str, str]
    indicators: dict[str, float | None] = {}
    indicators_hidden: dict[str, str] = {}


class DonorReportOut(msgspec.Struct, kw_only=True):
    """``rows``: ``{<each by-dimension>: value, registered, attended, feedback_responses,
    satisfaction_mean, suppressed: {measure: "primary"|"complementary"}}``; a suppressed count
    is ``null``: ``primary`` holds 1..k-1, ``complementary`` k or more (hidden so that no
    primary one can be derived). ``row_totals``/``column_totals`` are the table's margins (two
    dimensions). Every count is of ``unit`` (registrations), so the totals are the same for
    every ``by`` of a period and equal the summary's."""

    by: list[str]
    k: int
    unit: str
    definitions: dict[str, str]
    rows: list[dict[str, Any]]
    totals: DonorTotals
    row_totals: list[dict[str, Any]]
    column_totals: list[dict[str, Any]]
    suppressed_cells: int
    filters: Filters
    indicators_version: str = ""
    """Version of the indicator definitions; every row and margin carries ``indicators``
    (ratios from its published counts) and ``indicators_hidden`` (why one is ``null``)."""
    indicator_definitions: list[IndicatorDefinition] = []
    evidence: EvidenceOut | None = None
