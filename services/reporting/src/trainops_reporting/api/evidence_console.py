"""The reporting console's evidence page: knowledge gain, every survey item, comments.

It shows exactly what ``/reports/knowledge-gain``, ``/reports/items`` and
``/reports/comments`` publish at the server's k: a hidden figure is printed as its mark.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromQuery
from litestar.response import Template

from trainops_reporting.api.controllers import REPORT_ROLES, reader_of
from trainops_reporting.api.evidence_texts import EVIDENCE_TEXTS
from trainops_reporting.api.params import parse_period, parse_training
from trainops_reporting.domain.evidence import ItemFigure, KnowledgeGain
from trainops_reporting.handlers import evidence
from trainops_reporting.handlers.dashboard import builder_choices
from trainops_shared.auth import Principal, requires
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.errors import Invalid
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime


def _shown(value: float | int | None, hidden: bool, k: int) -> dict[str, Any]:
    if hidden:
        return {"text": f"<{k}", "hidden": True}
    if value is None:
        return {"text": "–", "hidden": False}
    return {"text": f"{value:.2f}" if isinstance(value, float) else str(value), "hidden": False}


def _gain(result: KnowledgeGain, texts: dict[str, str], k: int) -> list[dict[str, Any]]:
    hidden = result.suppressed is not None
    share = None if result.share_improved is None else 100 * result.share_improved
    figures = [
        ("pairs", result.pairs),
        ("mean_pre", result.mean_pre),
        ("mean_post", result.mean_post),
        ("mean_gain", result.mean_gain),
        ("share_improved", share),
    ]
    return [{"name": texts[name], **_shown(value, hidden, k)} for name, value in figures]


def _item(figure: ItemFigure, texts: dict[str, str], k: int) -> dict[str, Any]:
    hidden = figure.suppressed is not None
    return {
        "item": figure.item,
        "hidden": hidden,
        "respondents": _shown(figure.respondents, hidden, k)["text"],
        "mean": _shown(figure.mean, hidden, k)["text"] if figure.kind == "likert" else "",
        "cells": [
            {
                "value": cell.value,
                "hidden": cell.suppressed is not None,
                "text": (
                    f"<{k}"
                    if cell.suppressed == "primary"
                    else texts["hidden"]
                    if cell.suppressed
                    else str(cell.count)
                ),
            }
            for cell in figure.cells
        ],
    }


@get(
    "/evidence",
    guards=[requires(*REPORT_ROLES)],
    tags=["pages"],
    opt={"any_query": True},
    media_type=MediaType.HTML,
    responses={
        **error_responses(401, 403),
        **error_responses(400, media_type=MediaType.HTML, limited=False),
    },
)
async def evidence_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
    period: FromQuery[str | None] = None,
    training_id: FromQuery[str | None] = None,
) -> Template:
    """The figures of a period (and training) at the server's k; a GET form, so a view is
    a link that can be kept."""
    lang = page_language(request)
    texts = EVIDENCE_TEXTS[lang]
    policy, reader = reader_of(runtime)
    k = policy.min_cell
    choices = await runtime.read(partial(builder_choices, reader=reader, k=k))
    context: dict[str, Any] = {
        "e": texts,
        "periods": [(p, p) for p in choices["periods"]],
        "trainings": choices["trainings"],
        "period": period or "all",
        "training_id": training_id or "",
        "errors": {},
        "note": texts["hidden_note"].format(k=k),
        "comments_note": texts["comments_note"].format(k=k),
    }
    status = 200
    try:
        asked = evidence.EvidenceRequest(
            period=parse_period(period, policy.levels),
            training_id=parse_training(training_id or None),
            k=k,
        )
    except Invalid as exc:
        status = 400
        field = exc.field if exc.field in ("period", "training_id") else "form"
        context["errors"] = {field: texts.get(f"err_{field}", texts["err_other"])}
    else:
        gain = await runtime.read(partial(evidence.gain, request=asked))
        items = await runtime.read(partial(evidence.item_figures, request=asked))
        group = await runtime.read(partial(evidence.comments, request=asked, session_id=None))
        context.update(
            gain=_gain(gain, texts, k),
            items=[_item(figure, texts, k) for figure in items],
            comments=list(group.comments),
            comments_suppressed=group.suppressed is not None,
        )
    return render_console(
        request,
        principal,
        "reporting/evidence.html",
        context,
        title=texts["title"],
        active="reporting",
        status=status,
    )
