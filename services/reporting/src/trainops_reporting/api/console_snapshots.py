"""The frozen-reports page: the snapshots with their provenance and files, and the target of
the donor page's freeze form (CSRF-checked like every unsafe console request)."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi import ResponseSpec
from litestar.response import Redirect, Template

from trainops_reporting.api.console_snapshot_texts import SNAPSHOT_TEXTS
from trainops_reporting.api.console_texts import TEXTS
from trainops_reporting.api.snapshots import SNAPSHOT_ROLES, SnapshotIn, freeze_for
from trainops_reporting.handlers.snapshots import RETRY_AFTER_S, NotCaughtUp, listing
from trainops_shared.auth import Principal, requires
from trainops_shared.console.pages import page_language, render_console
from trainops_shared.errors import Invalid
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime

FILES: Final = ("csv", "xlsx", "pdf", "json")


def _parameters(parameters: dict[str, Any], lang: Language) -> str:
    words = TEXTS[lang]
    by = ", ".join(words[f"dim_{d}"] for d in parameters.get("by", [])) or "—"
    period = parameters.get("period", "all")
    training = parameters.get("training_id") or words["all_trainings"]
    return (
        f"{words['period']}: {words['period_all'] if period == 'all' else period}; "
        f"{words['training']}: {training}; {words['breakdowns']}: {by}"
    )


def _rows(snapshots: list[dict[str, Any]], lang: Language) -> list[dict[str, Any]]:
    out = []
    for index, snap in enumerate(snapshots):
        base = f"/reports/snapshots/{snap['id']}"
        previous = snapshots[index + 1] if index + 1 < len(snapshots) else None
        out.append(
            {
                **snap,
                "described": _parameters(snap["parameters"], lang),
                "positions_text": ", ".join(f"{s} {n}" for s, n in snap["positions"].items()),
                "files": [
                    (fmt.upper(), f"{base}?{urlencode({'format': fmt, 'lang': lang})}")
                    for fmt in FILES
                ],
                "diff": f"/reports/snapshots/{previous['id']}/diff/{snap['id']}"
                if previous is not None
                else None,
            }
        )
    return out


async def _page(
    request: Request[Any, Any, Any],
    principal: Principal,
    runtime: ServiceRuntime,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    made: str | None = None,
) -> Template:
    lang = page_language(request)
    texts = {**TEXTS[lang], **SNAPSHOT_TEXTS[lang]}
    snapshots = await runtime.read(listing)
    response = render_console(
        request,
        principal,
        "reporting/snapshots.html",
        {"r": texts, "snapshots": _rows(snapshots, lang), "errors": errors or {}, "made": made},
        title=texts["snapshots_title"],
        active="reporting",
        status=status,
    )
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


@get(
    "/snapshots",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["pages"],
    opt={"any_query": True},
    media_type=MediaType.HTML,
    responses=error_responses(401, 403),
)
async def snapshots_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
) -> Template:
    """Every frozen report, newest first, with its provenance, files and the comparison with
    the one before it."""
    made = request.query_params.get("made")
    return await _page(request, principal, runtime, made=made)


@post(
    "/snapshots",
    guards=[requires(*SNAPSHOT_ROLES)],
    tags=["pages"],
    opt={"any_query": True},
    status_code=200,
    media_type=MediaType.HTML,
    responses={
        303: ResponseSpec(None, description="Frozen: see the frozen-reports page"),
        **error_responses(401, 403, 413),
        **error_responses(422, 503, media_type=MediaType.HTML, limited=False),
    },
)
async def freeze_submit(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
) -> Template | Redirect:
    """Freeze the donor report the form names (the donor page's period, training and
    breakdowns), then show the frozen-reports page."""
    lang = page_language(request)
    texts = SNAPSHOT_TEXTS[lang]
    form = await request.form()
    by = [str(v).strip() for v in form.getall("by", []) if str(v).strip()]
    data = SnapshotIn(
        by=by[:8],
        period=str(form.get("period") or "").strip()[:64] or None,
        training_id=str(form.get("training_id") or "").strip()[:64] or None,
    )
    try:
        made = await freeze_for(runtime, principal, data)
    except Invalid as exc:
        errors = {"form": f"{exc.field}: {exc.detail}" if exc.field else exc.detail}
        return await _page(request, principal, runtime, status=422, errors=errors)
    except NotCaughtUp:
        return await _page(request, principal, runtime, status=503, errors={"form": texts["busy"]})
    return Redirect(f"/snapshots?{urlencode({'made': made['id'], 'lang': lang})}", status_code=303)


CONSOLE_SNAPSHOT_ROUTES: Final = (snapshots_page, freeze_submit)
