"""Parsing of the report query parameters into domain values, with errors naming the parameter."""

from __future__ import annotations

import uuid
from datetime import datetime

from trainops_reporting.adapters.report_queries import ReportFilter
from trainops_reporting.domain.categories import parse_by
from trainops_reporting.domain.suppression import DEFAULT_K
from trainops_shared import validation
from trainops_shared.errors import Invalid

FORMATS = ("json", "csv")
MAX_K = 1000
"""Past any cell of a programme of this size; a bound keeps k an ordinary number everywhere."""


def parse_instant(raw: str | None, field: str) -> datetime | None:
    """An absent or blank bound is no bound; anything else goes through the shared parser."""
    if raw is None or raw.strip() == "":
        return None
    return validation.parse_instant(raw, field)


def parse_filter(start: str | None, end: str | None, training_id: str | None) -> ReportFilter:
    lower = parse_instant(start, "from")
    upper = parse_instant(end, "to")
    if lower is not None and upper is not None and lower >= upper:
        raise Invalid(
            f"from ({lower.isoformat()}) must be before to ({upper.isoformat()})", field="from"
        )
    training: uuid.UUID | None = None
    if training_id is not None and training_id.strip():
        try:
            training = uuid.UUID(training_id.strip())
        except ValueError:
            raise Invalid(
                f"training_id={training_id!r} is not a UUID", field="training_id"
            ) from None
    return ReportFilter(start=lower, end=upper, training_id=training)


def parse_k(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return DEFAULT_K
    try:
        k = int(raw.strip())
    except ValueError:
        raise Invalid(f"k={raw[:40]!r} is not an integer", field="k") from None
    if k < 1:
        raise Invalid(f"k must be at least 1 (got {k})", field="k")
    if k > MAX_K:
        raise Invalid(f"k must be at most {MAX_K} (got {k})", field="k")
    return k


def parse_format(raw: str | None) -> str:
    value = (raw or "json").strip().lower()
    if value not in FORMATS:
        raise Invalid(f"format={raw!r} is not one of {', '.join(FORMATS)}", field="format")
    return value


def parse_dimensions(raw: str | None) -> tuple[str, ...]:
    """``by`` as a tuple of dimensions; unknown or repeated names raise (422, field ``by``)."""
    return parse_by(raw)
