"""Response shapes of the reporting API (msgspec Structs, documented in the OpenAPI schema).

A donor row's keys depend on the requested ``by`` dimensions, so rows are plain mappings.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Filters(msgspec.Struct, kw_only=True):
    from_: str | None = msgspec.field(name="from")
    to: str | None
    training_id: str | None


class SummaryOut(msgspec.Struct, kw_only=True):
    sessions_scheduled: int
    sessions_delivered: int
    participants_registered: int
    participants_attended: int
    feedback_responses: int
    satisfaction_mean: float | None
    cities_reached: int
    filters: Filters


class DonorTotals(msgspec.Struct, kw_only=True):
    registered: int | None
    attended: int | None
    feedback_responses: int | None
    satisfaction_mean: float | None
    suppressed: dict[str, str]


class DonorReportOut(msgspec.Struct, kw_only=True):
    """``rows``: ``{<each by-dimension>: value, registered, attended, feedback_responses,
    satisfaction_mean, suppressed: {measure: "primary"|"complementary"}}``; a suppressed count
    is ``null``. ``row_totals``/``column_totals`` are the table's margins (two or more
    dimensions), suppressed by the same rules."""

    by: list[str]
    k: int
    rows: list[dict[str, Any]]
    totals: DonorTotals
    row_totals: list[dict[str, Any]]
    column_totals: list[dict[str, Any]]
    suppressed_cells: int
    filters: Filters
