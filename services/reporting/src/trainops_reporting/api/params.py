"""Parsing of the report query parameters and of the disclosure settings, with errors naming
the parameter (422) or the variable (at start-up)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from trainops_reporting.domain.categories import parse_by
from trainops_reporting.domain.disclosure import (
    DEFAULT_PERIOD_LEVELS,
    HUB,
    MAX_BY,
    PERIOD_LEVELS,
    requestable,
)
from trainops_reporting.domain.suppression import DEFAULT_K
from trainops_reporting.handlers.periods import period_window
from trainops_shared.errors import Invalid
from trainops_shared.settings import SettingsError
from trainops_shared.validation import instant_bounds

FORMATS = ("json", "csv", "xlsx", "pdf")
"""What ``/reports/donor`` answers in."""
SUMMARY_FORMATS = ("json", "xlsx", "pdf")
"""The summary has no CSV: a handful of headline figures is not a table of rows to load."""
MIN_CELL_ENV = "REPORT_MIN_CELL"
PERIODS_ENV = "REPORT_PERIODS"
_PERIOD_PATTERNS = {
    "year": re.compile(r"^(\d{4})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
}


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """Server-side disclosure settings: the smallest publishable count and the periods."""

    min_cell: int = DEFAULT_K
    levels: tuple[str, ...] = DEFAULT_PERIOD_LEVELS


def load_policy(env: Mapping[str, str] | None = None) -> ReportPolicy:
    """Read ``REPORT_MIN_CELL`` (default 5) and ``REPORT_PERIODS`` (default ``all``).

    Checked when the app is built, so a bad value stops the service at start-up rather than
    at the first report.
    """
    source = os.environ if env is None else env
    raw = (source.get(MIN_CELL_ENV) or "").strip()
    min_cell = DEFAULT_K
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise SettingsError(f"{MIN_CELL_ENV}={raw!r} must be an integer from 1 to 100")
        min_cell = int(raw)
    raw_levels = (source.get(PERIODS_ENV) or "").strip()
    levels = DEFAULT_PERIOD_LEVELS
    if raw_levels:
        wanted = {part.strip() for part in raw_levels.split(",") if part.strip()}
        unknown = wanted - set(PERIOD_LEVELS)
        if unknown or "all" not in wanted:
            raise SettingsError(
                f"{PERIODS_ENV}={raw_levels!r} must list levels among "
                f"{', '.join(PERIOD_LEVELS)}, including all"
            )
        levels = tuple(level for level in PERIOD_LEVELS if level in wanted)
    return ReportPolicy(min_cell, levels)


def reject_window(start: str | None, end: str | None) -> None:
    """Arbitrary windows are refused: two windows one session apart give hidden counts away
    by subtraction, so reports are by reporting period only."""
    for name, raw in (("from", start), ("to", end)):
        if raw is not None:
            raise Invalid(
                f"{name} is not accepted: reports cover whole reporting periods; "
                "use period=all, YYYY, YYYY-Qn or YYYY-MM (as the server offers)",
                field=name,
            )


def parse_period(raw: str | None, levels: tuple[str, ...]) -> str:
    value = (raw or "all").strip()
    if value == "all":
        return value
    offered = ", ".join(
        {"all": "all", "year": "YYYY", "quarter": "YYYY-Qn", "month": "YYYY-MM"}[level]
        for level in levels
    )
    for level, pattern in _PERIOD_PATTERNS.items():
        match = pattern.match(value)
        if match is None:
            continue
        if level not in levels:
            raise Invalid(f"period={raw!r}: this server reports by {offered} only", field="period")
        bounds = instant_bounds()
        year = int(match.group(1))
        start = None
        if bounds.low.year <= year <= bounds.high.year:
            start, _ = period_window(value)
        if start is None or not bounds.low <= start < bounds.high:
            raise Invalid(
                f"period={raw!r} is outside the programme window {bounds.describe()}",
                field="period",
            )
        return value
    raise Invalid(f"period={raw!r} is not one of {offered}", field="period")


def parse_training(training_id: str | None) -> uuid.UUID | None:
    if training_id is None or not training_id.strip():
        return None
    try:
        return uuid.UUID(training_id.strip())
    except ValueError:
        raise Invalid(f"training_id={training_id!r} is not a UUID", field="training_id") from None


def parse_k(raw: str | None, server_k: int = DEFAULT_K) -> int:
    """k is the server's setting, not a choice of the request: an absent ``k`` or the server's
    own is accepted, any other value is refused. Patterns at two thresholds, combined, prove
    more of a hidden count than either one (a cell primary at k+1 but complementary at k holds
    exactly k), so every table is published at the server's k only.

    The raw value is never echoed at length: it is attacker-controlled text.
    """
    if raw is None or raw.strip() == "":
        return server_k
    text = raw.strip()
    if not text.isdigit() or len(text) > 3 or int(text) != server_k:  # the setting is <= 100
        raise Invalid(
            f"k={text[:12]!r}: the cell size is the server's setting "
            f"({MIN_CELL_ENV}={server_k}); omit k or send k={server_k}",
            field="k",
        )
    return server_k


def parse_format(raw: str | None, offered: tuple[str, ...] = FORMATS) -> str:
    """The representation asked for; the raw value is echoed short, being the caller's text."""
    value = (raw or "json").strip().lower()
    if value not in offered:
        raise Invalid(
            f"format={(raw or '')[:12]!r} is not one of {', '.join(offered)}", field="format"
        )
    return value


def parse_dimensions(raw: str | None, training: uuid.UUID | None = None) -> tuple[str, ...]:
    """``by`` as a tuple of dimensions, within what the protection universe covers.

    Unknown or repeated names raise (422, field ``by``); so do breakdowns outside the universe:
    more than two dimensions, two without ``city``, or more than one with ``training_id``
    (which is itself a ``training`` breakdown).
    """
    dims = parse_by(raw)
    effective = (*dims, "training") if training is not None and "training" not in dims else dims
    if not requestable(effective):
        raise Invalid(
            f"by={raw!r}: a report breaks down by at most {MAX_BY} dimensions, and by two only "
            f"when one is {HUB} (training_id counts as a training dimension), so that every "
            "table published fits one protection pattern",
            field="by",
        )
    return dims
