"""Every answer reported: per-item figures, knowledge gain and comments (JSON).

The window (``period``, ``training_id``) and k are read exactly as for the donor tables, and
k is the server's minimum unless a larger one is asked for. No route here returns a row of
one response or one person's score; comments come without any id, time or author.
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from trainops_reporting.api.controllers import (
    REPORT_ROLES,
    KParam,
    PeriodParam,
    TrainingParam,
    reader_of,
)
from trainops_reporting.api.params import parse_k, parse_period, parse_training
from trainops_reporting.api.schemas import ItemOut, KnowledgeGainOut
from trainops_reporting.handlers import evidence
from trainops_shared.auth import requires
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime

Runtime = NamedDependency[ServiceRuntime]


class ItemsOut(msgspec.Struct, kw_only=True):
    period: str
    training_id: uuid.UUID | None
    k: int
    items: list[ItemOut]


class GainOut(KnowledgeGainOut, kw_only=True):
    period: str
    training_id: uuid.UUID | None
    k: int


class CommentsOut(msgspec.Struct, kw_only=True):
    period: str
    training_id: uuid.UUID | None
    session_id: uuid.UUID | None
    k: int
    respondents: int | None
    comments: list[str]
    suppressed: str | None = None


def parse_request(
    runtime: ServiceRuntime, period: str | None, training_id: str | None, k: str | None
) -> evidence.EvidenceRequest:
    policy, _ = reader_of(runtime)
    return evidence.EvidenceRequest(
        period=parse_period(period, policy.levels),
        training_id=parse_training(training_id),
        k=parse_k(k, policy.min_cell),
    )


@get(
    "/reports/items",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Every survey item: means and distributions (small counts suppressed)",
    responses=protected(),
)
async def get_items(
    runtime: Runtime,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    k: KParam = None,
) -> ItemsOut:
    """An item answered by fewer than k counted responses is hidden whole; a count of
    1..k-1 is ``primary``, and its complement (when one hidden count alone would be the
    difference from the published total) ``complementary``."""
    asked = parse_request(runtime, period, training_id, k)
    figures = await runtime.read(partial(evidence.item_figures, request=asked))
    return ItemsOut(
        period=asked.period,
        training_id=asked.training_id,
        k=asked.k,
        items=[msgspec.convert(f, ItemOut, from_attributes=True) for f in figures],
    )


@get(
    "/reports/knowledge-gain",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Knowledge gain: mean post − pre (percentage points) and the share who improved",
    responses=protected(),
)
async def get_knowledge_gain(
    runtime: Runtime,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    k: KParam = None,
) -> GainOut:
    """Over everyone with both tests of a session in the window, matched by the pseudonymous
    participant id; fewer than k pairs publishes nothing but ``suppressed``."""
    asked = parse_request(runtime, period, training_id, k)
    result = await runtime.read(partial(evidence.gain, request=asked))
    return GainOut(
        period=asked.period,
        training_id=asked.training_id,
        k=asked.k,
        pairs=result.pairs,
        mean_pre=result.mean_pre,
        mean_post=result.mean_post,
        mean_gain=result.mean_gain,
        share_improved=result.share_improved,
        suppressed=result.suppressed,
    )


SessionParam = Annotated[
    uuid.UUID | None, QueryParameter(description="Only the comments of this session.")
]


@get(
    "/reports/comments",
    guards=[requires(*REPORT_ROLES)],
    tags=["reports"],
    summary="Free-text comments of a group of at least k respondents (never attributed)",
    responses=protected(),
)
async def get_comments(
    runtime: Runtime,
    period: PeriodParam = None,
    training_id: TrainingParam = None,
    session_id: SessionParam = None,
    k: KParam = None,
) -> CommentsOut:
    """The comments in text order; a group of fewer than k respondents or k comments shows
    none (``suppressed``)."""
    asked = parse_request(runtime, period, training_id, k)
    group = await runtime.read(partial(evidence.comments, request=asked, session_id=session_id))
    return CommentsOut(
        period=asked.period,
        training_id=asked.training_id,
        session_id=session_id,
        k=asked.k,
        respondents=group.respondents,
        comments=list(group.comments),
        suppressed=group.suppressed,
    )


ROUTES = [get_items, get_knowledge_gain, get_comments]
