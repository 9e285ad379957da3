"""The import pages: upload a participant list for one session, see every problem of the
file at once, or what was registered.

The same use case as ``POST /registrations/import`` (:mod:`trainops_registration.handlers.imports`)
does the work; this module turns its refusal into a table in the coordinator's language, with
the column headers as the file writes them, so the table can be read next to the open file.
A coordinator chooses among their own region's open sessions only (the region comes from the
token); a session id of another region posted anyway is refused like an unknown one.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema
from litestar.response import Template
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from trainops_registration.api.console_import_texts import TEXTS
from trainops_registration.api.views import import_body
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.import_file import (
    MAX_FILE_BYTES,
    XLSX_MEDIA_TYPE,
    FileProblem,
    declared_kind,
)
from trainops_registration.domain.import_rows import (
    CATEGORY_COLUMNS,
    COLUMNS,
    HEADERS,
    REQUIRED,
    Column,
    RowProblem,
    allowed_words,
)
from trainops_registration.domain.records import SessionCopy
from trainops_registration.handlers.imports import (
    ImportParticipants,
    ImportRefused,
    import_participants,
)
from trainops_registration.handlers.sessions import read_region_sessions
from trainops_shared.auth import CSRF_FIELD, Principal, requires
from trainops_shared.console.labels import label
from trainops_shared.console.pages import local_time, page_language, render_console
from trainops_shared.errors import AppError
from trainops_shared.events.vocabulary import Language
from trainops_shared.openapi_docs import error_responses, operation_class
from trainops_shared.service import ANY_QUERY_OPT, ServiceRuntime

FORM_BODY: Final = (
    "multipart/form-data",
    "The import form: session_id (one of the caller's region's open sessions), file (CSV or "
    "XLSX, at most 1 MB and 1000 rows) and the session's csrf_token.",
    Schema(
        type=OpenAPIType.OBJECT,
        required=["session_id", "file"],
        properties={
            "session_id": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID),
            "file": Schema(type=OpenAPIType.STRING, description="the file's bytes"),
            CSRF_FIELD: Schema(type=OpenAPIType.STRING),
        },
    ),
)

_LANG_QUERY: Final = {ANY_QUERY_OPT: True}
"""The language links of every page keep the query and add ``lang``; nothing else is read."""


async def _open_sessions(runtime: ServiceRuntime, principal: Principal) -> list[SessionCopy]:
    """The sessions the caller may import into: scheduled ones of their region (an admin:
    of every region), upcoming first."""
    found = await runtime.read(
        partial(read_region_sessions, principal=principal, region=None, now=datetime.now(UTC))
    )
    return [s for s in (*found.upcoming, *found.past) if s.status == "scheduled"]


def _session_options(found: list[SessionCopy], lang: Language) -> list[tuple[str, str]]:
    return [
        (
            str(s.session_id),
            f"{local_time(s.starts_at, s.timezone, lang)} · "
            + ", ".join(label("city", c, lang) for c in s.cities)
            + f" · {str(s.training_id)[:8]}",
        )
        for s in found
    ]


def _allowed(lang: Language) -> list[tuple[str, str]]:
    return [
        (HEADERS[column][lang], ", ".join(allowed_words(column, lang)))
        for column in COLUMNS
        if column in CATEGORY_COLUMNS
    ]


def _form_context(
    lang: Language,
    found: list[SessionCopy],
    *,
    session_id: str = "",
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    texts = TEXTS[lang]
    required = ", ".join(HEADERS[c][lang] for c in COLUMNS if c in REQUIRED)
    return {
        "r": texts,
        "sessions": _session_options(found, lang),
        "session_id": session_id,
        "errors": errors or {},
        "accepted_header": texts["accepted_header"].format(required=required),
        "allowed": _allowed(lang),
        "max_kb": MAX_FILE_BYTES // 1024,
    }


def _file_problem_words(problem: FileProblem, lang: Language) -> str:
    return TEXTS[lang][problem.code].format(detail=problem.detail)


def _problem_words(problem: RowProblem, lang: Language, region: str | None) -> str:
    texts = TEXTS[lang]
    column = problem.column
    if problem.code == "invalid" and column is not None:
        return texts[f"invalid_{column}"]
    return texts[problem.code].format(
        columns=", ".join(HEADERS[c][lang] for c in COLUMNS),
        allowed=", ".join(allowed_words(column, lang)) if column else "",
        region=label("city", region or "", lang),
        other_row=problem.other_row,
        value=problem.value,
        reason=problem.reason,
    )


def _problem_rows(refused: ImportRefused, lang: Language, region: str | None) -> list[Any]:
    rows = []
    for problem in refused.problems:
        if problem.code == "unknown_column":
            header = problem.header
        elif problem.column is not None:
            header = refused.headers.get(problem.column) or HEADERS[problem.column][lang]
        else:
            header = ""
        rows.append(
            {
                "row": problem.row,
                "header": header,
                "value": problem.value,
                "words": _problem_words(problem, lang, region),
            }
        )
    return rows


def _example(lang: Language, principal: Principal) -> dict[Column, str]:
    texts = TEXTS[lang]
    city = region_code(principal.region_scope) or "almaty"
    return {
        "full_name": texts["example_name"],
        "email": texts["example_email"],
        "phone": texts["example_phone"],
        "organisation": texts["example_organisation"],
        "sector": label("sector", "media", lang),
        "sex": label("sex", "female", lang),
        "age_band": label("age_band", "25-34", lang),
        "city": label("city", city, lang),
        "language": label("language", lang, lang),
    }


def _download(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


class ImportPages(Controller):
    path = "/import"
    tags = ["pages"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [requires("admin", "coordinator")]  # noqa: RUF012

    @get("", media_type=MediaType.HTML, opt=_LANG_QUERY, responses=error_responses(401, 403))
    async def form(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        """The upload form: the caller's region's open sessions and which files are read."""
        lang = page_language(request)
        found = await _open_sessions(runtime, principal)
        return render_console(
            request,
            principal,
            "registration/import.html",
            _form_context(lang, found),
            title=TEXTS[lang]["title"],
            active="registration",
        )

    @get(
        "/template.csv", media_type="text/csv", opt=_LANG_QUERY, responses=error_responses(401, 403)
    )
    async def template_csv(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Response[bytes]:
        """The columns in the page's language and one example row, as Excel opens it: UTF-8
        with a byte-order mark (Cyrillic stays readable) and semicolons (what a Kazakh or
        Russian Excel splits on)."""
        lang = page_language(request)
        example = _example(lang, principal)
        out = io.StringIO(newline="")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([HEADERS[c][lang] for c in COLUMNS])
        writer.writerow([example[c] for c in COLUMNS])
        content = ("\ufeff" + out.getvalue()).encode("utf-8")
        return _download(content, "text/csv; charset=utf-8", f"participants-{lang}.csv")

    @get(
        "/template.xlsx",
        media_type=XLSX_MEDIA_TYPE,
        opt=_LANG_QUERY,
        responses=error_responses(401, 403),
    )
    async def template_xlsx(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Response[bytes]:
        """The same template as a workbook (headers bold, the phone column as text so Excel
        keeps the ``+``)."""
        lang = page_language(request)
        example = _example(lang, principal)
        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook always has its first sheet
        sheet.title = TEXTS[lang]["title"][:31]
        sheet.append([HEADERS[c][lang] for c in COLUMNS])
        sheet.append([example[c] for c in COLUMNS])
        for index, column in enumerate(COLUMNS, start=1):
            letter = get_column_letter(index)
            sheet.cell(row=1, column=index).font = Font(bold=True)
            sheet.column_dimensions[letter].width = max(14, len(example[column]) + 4)
            if column == "phone":
                sheet.cell(row=2, column=index).number_format = "@"
        out = io.BytesIO()
        book.save(out)
        return _download(out.getvalue(), XLSX_MEDIA_TYPE, f"participants-{lang}.xlsx")

    @post(
        "",
        media_type=MediaType.HTML,
        status_code=200,
        opt=_LANG_QUERY,
        operation_class=operation_class(body=FORM_BODY),
        responses={
            **error_responses(400, 401, 403, 404, 409),
            **error_responses(422, media_type=MediaType.HTML, limited=False),
        },
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        runtime: NamedDependency[ServiceRuntime],
    ) -> Template:
        """Check the file; import it when every row is right, else list every problem (422)."""
        lang = page_language(request)
        texts = TEXTS[lang]
        found = await _open_sessions(runtime, principal)
        form = await request.form()
        session_raw = form.get("session_id")
        session_text = session_raw.strip() if isinstance(session_raw, str) else ""
        upload = form.get("file")
        errors: dict[str, str] = {}
        session_id: uuid.UUID | None = None
        if not session_text:
            errors["session_id"] = texts["session_required"]
        elif session_text not in {str(s.session_id) for s in found}:
            errors["session_id"] = texts["session_unknown"]
        else:
            session_id = uuid.UUID(session_text)
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = texts["file_required"]

        def form_page(status: int) -> Template:
            return render_console(
                request,
                principal,
                "registration/import.html",
                _form_context(lang, found, session_id=session_text, errors=errors),
                title=texts["title"],
                active="registration",
                status=status,
            )

        if errors or session_id is None or not isinstance(upload, UploadFile):
            return form_page(422)
        # One byte past the limit is enough to refuse the file as too large.
        content = await upload.read(MAX_FILE_BYTES + 1)
        command = ImportParticipants(
            session_id=session_id,
            file_bytes=content,
            declared=declared_kind(upload.content_type or "", upload.filename),
        )
        try:
            imported = await runtime.write(
                partial(import_participants, command=command, principal=principal)
            )
        except ImportRefused as refused:
            if refused.file_problem is not None:
                errors["file"] = _file_problem_words(refused.file_problem, lang)
                return form_page(422)
            region = region_code(principal.region_scope)
            rows = _problem_rows(refused, lang, region)
            context = _form_context(lang, found, session_id=session_text)
            context.update(
                problems=rows,
                summary=texts["summary"].format(
                    count=len(rows), rows=len({p.row for p in refused.problems})
                ),
            )
            return render_console(
                request,
                principal,
                "registration/import.html",
                context,
                title=texts["refused_title"],
                active="registration",
                status=422,
            )
        except AppError as exc:
            # The session closed or is gone since the form was shown (404, 409).
            errors["session_id"] = texts["session_unknown"]
            return form_page(exc.status)
        body = import_body(imported)
        return render_console(
            request,
            principal,
            "registration/import_done.html",
            {
                "r": texts,
                "done": texts["done"].format(
                    imported=body.imported, confirmed=body.confirmed, waitlisted=body.waitlisted
                ),
            },
            title=texts["done_title"],
            active="registration",
        )
