"""The reporting staff's console: the programme dashboard and the donor report builder.

Both pages show the published reports only, read through the same reader as ``/reports/*``
with the server's minimum cell size (k is policy, not a choice of the page): a hidden count is
printed as its mark, never as a number, in the tables and the charts alike. Reports hold no
personal data and no region's own records, so they read the same for every region.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.params import FromQuery
from litestar.response import Template
from litestar.template import TemplateConfig

from trainops_reporting.api.console_charts import Bar, Group, Marks, bar_chart
from trainops_reporting.api.console_snapshot_texts import freeze_form
from trainops_reporting.api.console_texts import TEXTS
from trainops_reporting.api.controllers import REPORT_ROLES, reader_of
from trainops_reporting.api.params import parse_dimensions, parse_period, parse_training
from trainops_reporting.domain.categories import DIMENSIONS
from trainops_reporting.domain.disclosure import MEASURES
from trainops_reporting.handlers.dashboard import (
    CHART_DIMENSIONS,
    builder_choices,
    dashboard,
)
from trainops_reporting.handlers.reports import ReportRequest
from trainops_shared.auth import Principal, requires
from trainops_shared.console.labels import label
from trainops_shared.console.pages import console_engine, page_language, render_console
from trainops_shared.errors import Invalid
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses
from trainops_shared.service import ServiceRuntime

TEMPLATE_CONFIG: Final = TemplateConfig(
    instance=console_engine(Path(__file__).with_name("templates"))
)
FORM_FIELDS: Final = ("period", "training_id", "by")
CHART_SERIES: Final = ("registered", "attended")


def _word(dimension: str, code: str, lang: Language) -> str:
    """Category codes in the page's language; training codes are names already."""
    return code if dimension == "training" else label(dimension, code, lang)


def _cell(entry: dict[str, Any], measure: str, k: int, texts: dict[str, str]) -> dict[str, Any]:
    """A published figure as printed: its number, or the mark of why it is hidden."""
    flags: dict[str, str] = entry.get("suppressed", {})
    reason = flags.get(measure)
    if measure == "satisfaction_mean" and "feedback_responses" in flags:
        reason = "with_responses"  # hidden with its responses: a mean, not a small count
    if reason == "primary":
        return {"text": f"<{k}", "hidden": True}
    if reason is not None:
        return {"text": texts["hidden"], "hidden": True}
    value = entry.get(measure)
    if value is None:
        return {"text": "–", "hidden": False}
    return {"text": f"{value:.2f}" if isinstance(value, float) else str(value), "hidden": False}


def _marks(k: int, texts: dict[str, str]) -> Marks:
    return Marks(
        primary=f"<{k}", complementary=texts["hidden"], legend_hidden=texts["legend_hidden"]
    )


def _bar(entry: dict[str, Any], measure: str) -> Bar:
    return Bar(entry.get(measure), entry.get("suppressed", {}).get(measure))


def _charts(data: dict[str, Any], lang: Language, k: int) -> list[dict[str, Any]]:
    """Each charted breakdown as its SVG and the table it pictures."""
    texts = TEXTS[lang]
    series = [texts[m] for m in CHART_SERIES]
    out = []
    for dim in CHART_DIMENSIONS:
        rows = data["tables"][dim]["rows"]
        groups = [
            Group(_word(dim, row[dim], lang), tuple(_bar(row, m) for m in CHART_SERIES))
            for row in rows
        ]
        out.append(
            {
                "id": f"chart-{dim}",
                "title": texts[f"chart_{dim}"],
                "svg": bar_chart(
                    f"chart-{dim}", texts[f"chart_{dim}"], series, groups, _marks(k, texts)
                )
                if rows
                else None,
                "head": [texts[f"dim_{dim}"], *series],
                "rows": [
                    {
                        "label": group.label,
                        "cells": [_cell(row, m, k, texts) for m in CHART_SERIES],
                    }
                    for group, row in zip(groups, rows, strict=True)
                ],
            }
        )
    return out


def _months_chart(months: list[dict[str, Any]], lang: Language, k: int) -> dict[str, Any]:
    texts = TEXTS[lang]
    name = texts["satisfaction_mean"]
    groups = [
        Group(
            entry["month"],
            (
                Bar(
                    entry["satisfaction_mean"],
                    "with_responses" if "feedback_responses" in entry["suppressed"] else None,
                ),
            ),
        )
        for entry in months
    ]
    return {
        "id": "chart-months",
        "title": texts["chart_months"],
        "svg": bar_chart(
            "chart-months",
            texts["chart_months"],
            [name],
            groups,
            _marks(k, texts),
            scale_max=5,
            decimals=2,
        )
        if months
        else None,
        "head": [texts["month"], name, texts["feedback_responses"]],
        "rows": [
            {
                "label": entry["month"],
                "cells": [
                    _cell(entry, "satisfaction_mean", k, texts),
                    _cell(entry, "feedback_responses", k, texts),
                ],
            }
            for entry in months
        ],
    }


def _period_options(periods: list[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(p, texts["period_all"] if p == "all" else p) for p in periods]


def _field_error(exc: Invalid, texts: dict[str, str]) -> tuple[str, str]:
    field = exc.field if exc.field in FORM_FIELDS else ""
    return field or "form", texts.get(f"err_{field}", texts["err_other"])


@get(
    "/",
    tags=["pages"],
    opt={"any_query": True},
    media_type=MediaType.HTML,
    responses={
        **error_responses(401, 403),
        **error_responses(400, media_type=MediaType.HTML, limited=False),
    },
)
async def home(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
    period: FromQuery[str | None] = None,
) -> Template:
    """The summary of a period and its breakdowns as charts, for the roles that read reports;
    other roles get the page without figures."""
    lang = page_language(request)
    texts = TEXTS[lang]
    reporter = principal.role in REPORT_ROLES
    context: dict[str, Any] = {"r": texts, "reporter": reporter, "errors": {}}
    status = 200
    if reporter:
        policy, reader = reader_of(runtime)
        k = policy.min_cell
        choices = await runtime.read(partial(builder_choices, reader=reader, k=k))
        context.update(
            k=k,
            periods=_period_options(choices["periods"], texts),
            period=period or "all",
            note=texts["hidden_note"].format(k=k),
        )
        try:
            chosen = parse_period(period, policy.levels)
        except Invalid as exc:
            status = 400
            context["errors"] = dict([_field_error(exc, texts)])
            chosen = None
        if chosen is not None:
            data = await runtime.read(
                partial(dashboard, reader=reader, period=chosen, k=k, levels=policy.levels)
            )
            summary = data["summary"]
            context.update(
                summary=[
                    {"name": texts[m], **_cell(summary, m, k, texts)}
                    for m in (
                        "sessions_scheduled",
                        "sessions_delivered",
                        *MEASURES,
                        "satisfaction_mean",
                        "cities_reached",
                    )
                ],
                charts=_charts(data, lang, k),
                months=None if data["months"] is None else _months_chart(data["months"], lang, k),
            )
    return render_console(
        request,
        principal,
        "reporting/home.html",
        context,
        title=texts["home_title"],
        active="reporting",
        status=status,
    )


def _table(report: dict[str, Any], lang: Language, texts: dict[str, str]) -> dict[str, Any]:
    """The donor table as printed: body rows, the margins of a two-way table, the total."""
    by: list[str] = report["by"]
    k = int(report["k"])
    columns = [*MEASURES, "satisfaction_mean"]

    def line(entry: dict[str, Any], dims: list[str], key: str) -> dict[str, Any]:
        return {
            "labels": [_word(d, entry[d], lang) for d in dims],
            "id": key,
            "cells": [_cell(entry, m, k, texts) | {"measure": m} for m in columns],
        }

    def key_of(entry: dict[str, Any], dims: list[str]) -> str:
        return "-".join(str(entry[d]) for d in dims) or "all"

    return {
        "head": [texts[f"dim_{d}"] for d in by] or [texts["category"]],
        "columns": [texts[m] for m in columns],
        "rows": [line(row, by, key_of(row, by)) for row in report["rows"]],
        "margins": [
            (texts[name], [line(entry, [dim], key_of(entry, [dim])) for entry in report[name]])
            for name, dim in (("row_totals", by[0]), ("column_totals", by[-1]))
            if len(by) == 2
        ],
        "total": line(report["totals"], [], "total"),
        "span": max(len(by), 1),
        "suppressed": texts["suppressed_count"].format(n=report["suppressed_cells"]),
    }


@get(
    "/donor",
    guards=[requires(*REPORT_ROLES)],
    tags=["pages"],
    opt={"any_query": True},
    media_type=MediaType.HTML,
    responses={
        **error_responses(401, 403),
        **error_responses(400, media_type=MediaType.HTML, limited=False),
    },
)
async def donor_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    runtime: NamedDependency[ServiceRuntime],
    period: FromQuery[str | None] = None,
    training_id: FromQuery[str | None] = None,
    by: FromQuery[list[str] | None] = None,
) -> Template:
    """The donor report form; once asked (any field given), the table it names with its
    download links. The form is a GET, so a table is a link that can be kept and shared."""
    lang = page_language(request)
    texts = TEXTS[lang]
    policy, reader = reader_of(runtime)
    k = policy.min_cell
    choices = await runtime.read(partial(builder_choices, reader=reader, k=k))
    # Checkboxes send ``by`` once per breakdown; a link may also carry the API's ``city,sex``.
    chosen_by = [part.strip() for d in (by or []) for part in d.split(",") if part.strip()]
    context: dict[str, Any] = {
        "r": texts,
        "k": k,
        "note": texts["hidden_note"].format(k=k),
        "periods": _period_options(choices["periods"], texts),
        "trainings": choices["trainings"],
        "dimensions": [(d, texts[f"dim_{d}"]) for d in DIMENSIONS],
        "period": period or "all",
        "training_id": training_id or "",
        "by": chosen_by,
        "errors": {},
        "table": None,
    }
    status = 200
    asked = any(name in request.query_params for name in FORM_FIELDS)
    if asked:
        try:
            training = parse_training(training_id)
            report_request = ReportRequest(
                period=parse_period(period, policy.levels),
                training_id=training,
                by=parse_dimensions(",".join(chosen_by), training),
                k=k,
            )
        except Invalid as exc:
            status = 400
            context["errors"] = dict([_field_error(exc, texts)])
        else:
            report = await runtime.read(partial(reader.donor, request=report_request))
            query = {"period": report_request.period}
            if training is not None:
                query["training_id"] = str(training)
            if report_request.by:
                query["by"] = ",".join(report_request.by)
            context.update(
                table=_table(report, lang, texts),
                downloads=[
                    (
                        texts[f"download_{fmt}"],
                        "/reports/donor?"
                        + urlencode(
                            {**query, "format": fmt, **({} if fmt == "csv" else {"lang": lang})}
                        ),
                    )
                    for fmt in ("csv", "xlsx", "pdf")
                ],
                lang=lang,
                freeze=freeze_form(principal, report_request, lang),
            )
    return render_console(
        request,
        principal,
        "reporting/donor.html",
        context,
        title=texts["donor_title"],
        active="reporting",
        status=status,
    )
