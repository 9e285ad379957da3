"""Routes of frozen reports: freeze a donor report, list, read or download one, compare two.

A snapshot's files are rendered from its stored answer with its own creation time as the
documents' time, so every download of one snapshot is the same bytes, whatever happened since.
"""

from __future__ import annotations

import dataclasses
import uuid
from functools import partial
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from trainops_reporting.api.console_snapshot_texts import FREEZE_ROLES
from trainops_reporting.api.controllers import (
    CSV_DESCRIPTION,
    CSV_MEDIA_TYPE,
    DOCUMENTS,
    RENDERERS,
    Download,
    LangParam,
    _language,
    attachment,
    document,
    downloads_operation,
    reader_of,
)
from trainops_reporting.api.exports import donor_csv, donor_table
from trainops_reporting.api.params import (
    ReportPolicy,
    parse_dimensions,
    parse_format,
    parse_period,
    parse_training,
    reject_window,
)
from trainops_reporting.handlers.reports import ReportRequest
from trainops_reporting.handlers.snapshots import (
    RETRY_AFTER_S,
    NotCaughtUp,
    compare,
    created_at,
    freeze,
    listing,
    stored,
)
from trainops_shared.auth import Principal, requires
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime

SNAPSHOT_ROLES: Final = FREEZE_ROLES
Runtime = NamedDependency[ServiceRuntime]
Short = Annotated[str, msgspec.Meta(max_length=64)]


class SnapshotIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The donor report's parameters (as ``GET /reports/donor`` takes them); k is the
    server's. ``from``/``to`` are refused as there: reports cover whole periods."""

    by: Annotated[list[Short], msgspec.Meta(max_length=8)] = msgspec.field(default_factory=list)
    period: Short | None = None
    training_id: Short | None = None
    from_: Short | None = msgspec.field(default=None, name="from")
    to: Short | None = None


class SnapshotOut(msgspec.Struct, kw_only=True):
    """A snapshot's provenance: what was asked, the stream sequences its figures reflect
    (per stream, every event up to them), the indicator definitions' version, k, when and by
    whom (the principal's id), and the SHA-256 of its canonical content."""

    id: str
    created_at: str
    created_by: str
    parameters: dict[str, Any]
    k: int
    definitions_version: str
    positions: dict[str, int]
    content_sha256: str


class SnapshotReportOut(SnapshotOut, kw_only=True):
    report: dict[str, Any]
    """The frozen donor answer, as ``GET /reports/donor`` gave it then."""


class SnapshotChange(msgspec.Struct, kw_only=True):
    table: str
    cell: dict[str, str]
    figure: str
    before: Any
    after: Any
    """A figure as published: a number, ``null``, or the marker of a hidden count."""


class EvidenceChange(msgspec.Struct, kw_only=True):
    section: str
    """``knowledge_gain``, ``items`` (per-item means and distributions) or ``comments``."""
    item: str | None
    figure: str
    """``respondents``, ``mean``, ``answer:<value>``, ``comments`` (how many are shown) or a
    knowledge-gain figure."""
    before: Any
    after: Any
    """As published: a number, ``null`` (absent), or the marker of a hidden figure."""
    reasons: list[str]
    """Event types applied between the snapshots that can change this section."""


class EventsApplied(msgspec.Struct, kw_only=True):
    event: str
    count: int
    meaning: str


class SnapshotDiffOut(msgspec.Struct, kw_only=True):
    """What reads differently from one snapshot to the other, and the events applied between
    their positions (by type) that explain it as far as they tell."""

    from_: SnapshotOut = msgspec.field(name="from")
    to: SnapshotOut
    same_parameters: bool
    same_content: bool
    changes: list[SnapshotChange]
    evidence_changes: list[EvidenceChange]
    events_between: list[EventsApplied]


def snapshot_request(
    data: SnapshotIn, policy: ReportPolicy
) -> tuple[ReportRequest, dict[str, Any]]:
    """The report a body asks for (422 naming the field, as the live route), and the
    parameters recorded with it."""
    reject_window(data.from_, data.to)
    training = parse_training(data.training_id)
    request = ReportRequest(
        period=parse_period(data.period, policy.levels),
        training_id=training,
        by=parse_dimensions(",".join(data.by), training),
        k=policy.min_cell,
    )
    parameters = {
        "by": list(request.by),
        "period": request.period,
        "training_id": str(training) if training else None,
    }
    return request, parameters


def unavailable(detail: str) -> Response[dict[str, Any]]:
    return Response(
        content={"status": 503, "error": "unavailable", "detail": detail},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def freeze_for(
    runtime: ServiceRuntime, principal: Principal, data: SnapshotIn
) -> dict[str, Any]:
    policy, reader = reader_of(runtime)
    request, parameters = snapshot_request(data, policy)
    return await freeze(runtime, reader, request, parameters, principal.subject)


@post(
    "/reports/snapshots",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["snapshots"],
    status_code=201,
    responses=protected(413),
    summary="Freeze a donor report with its provenance",
)
async def create_snapshot(
    runtime: Runtime, principal: NamedDependency[Principal], data: JSONBody[SnapshotIn]
) -> SnapshotOut:
    """The donor answer to these parameters, frozen: 201 with its id and provenance. 503
    (``Retry-After``) while the read model is between two stream positions (events being
    applied), so the positions recorded are ones a rebuild reproduces."""
    try:
        made = await freeze_for(runtime, principal, data)
    except NotCaughtUp as exc:
        answer = unavailable(f"the read model is catching up ({exc}); retry")
        return answer  # type: ignore[return-value]  # the documented 503
    return msgspec.convert(made, SnapshotOut)


@get(
    "/reports/snapshots",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["snapshots"],
    responses=protected(),
    summary="Every snapshot's provenance, newest first",
)
async def list_snapshots(runtime: Runtime) -> list[SnapshotOut]:
    return msgspec.convert(await runtime.read(listing), list[SnapshotOut])


SNAPSHOT_FILE: Final = (
    "The frozen figures as the live donor report's files, dated by the snapshot: the same "
    "bytes at every download."
)


@get(
    "/reports/snapshots/{snapshot_id:uuid}",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["snapshots"],
    responses=protected(404),
    summary="One snapshot: its provenance and frozen answer (JSON, CSV, XLSX or PDF)",
    operation_class=downloads_operation(
        Download(CSV_MEDIA_TYPE, CSV_DESCRIPTION, binary=False), *DOCUMENTS
    ),
)
async def get_snapshot(
    request: Request[Any, Any, Any],
    runtime: Runtime,
    snapshot_id: FromPath[uuid.UUID],
    format_: Annotated[
        str | None,
        QueryParameter(name="format", description="json (default), csv, xlsx or pdf"),
    ] = None,
    lang: LangParam = None,
) -> SnapshotReportOut:
    fmt = parse_format(format_)
    provenance, report = await runtime.read(partial(stored, snapshot_id=snapshot_id))
    name = f"snapshot-{snapshot_id}"
    if fmt == "csv":
        return Response(  # type: ignore[return-value]  # the CSV representation, documented
            content=donor_csv(report), media_type=CSV_MEDIA_TYPE, headers=attachment(f"{name}.csv")
        )
    if fmt in RENDERERS:
        table = donor_table(report, _language(request, lang), created_at(provenance))
        named = dataclasses.replace(table, filename=name)
        return await document(named, fmt)  # type: ignore[return-value]  # documented download
    return msgspec.convert({**provenance, "report": report}, SnapshotReportOut)


@get(
    "/reports/snapshots/{snapshot_id:uuid}/diff/{other_id:uuid}",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["snapshots"],
    responses=protected(404),
    summary="What changed from one snapshot to another, and why as far as the events tell",
)
async def diff_snapshots(
    runtime: Runtime, snapshot_id: FromPath[uuid.UUID], other_id: FromPath[uuid.UUID]
) -> SnapshotDiffOut:
    result = await runtime.read(partial(compare, first=snapshot_id, second=other_id))
    return msgspec.convert(result, SnapshotDiffOut)


SNAPSHOT_ROUTES: Final = (create_snapshot, list_snapshots, get_snapshot, diff_snapshots)
