"""Import of a session's participants from a CSV or XLSX file: every bad row and every bad
field reported, nothing saved unless all rows are good.

Coordinators keep lists in spreadsheets; a half-imported list is worse than none (who is in,
who is not?), so the import is one transaction, and its refusal lists every problem with the
row number the spreadsheet shows and the column, so the whole file can be fixed in one pass.
The JSON API and the import page share this use case; the page words the same problems in
the coordinator's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.engine import Connection

from trainops_registration.adapters import sessions
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.import_file import FileProblem, file_problem_detail, read_table
from trainops_registration.domain.import_rows import (
    Column,
    ParsedFile,
    ProblemCode,
    RowProblem,
    problem_detail,
    read_rows,
)
from trainops_registration.domain.participant import canonical_participant, validate_participant
from trainops_registration.domain.records import Registration
from trainops_registration.handlers.registering import (
    add_registration,
    audit_registered,
    load_open_session,
)
from trainops_shared.auth import Principal
from trainops_shared.errors import AppError, Conflict, DomainError, Invalid
from trainops_shared.events import uuid7
from trainops_shared.timeutil import utc_now


@dataclass(frozen=True, slots=True)
class ImportParticipants:
    session_id: uuid.UUID
    file_bytes: bytes
    """The upload as sent: CSV in UTF-8, UTF-16 or cp1251 with any Excel separator, or XLSX."""
    declared: Literal["csv", "xlsx"] | None = None
    """What the upload's media type or file name says it is (see :func:`declared_kind`)."""
    correlation_id: uuid.UUID = field(default_factory=uuid7)


@dataclass(frozen=True, slots=True)
class Imported:
    """The registrations one import made, in file order."""

    session_id: uuid.UUID
    registrations: list[Registration]


class ImportRefused(Invalid):
    """422: nothing was imported. ``problems`` (or ``file_problem`` for a file that could not
    be read at all) are kept as values so that a page can word them in its own language; the
    JSON body carries the English ``errors`` list of line, field and detail."""

    def __init__(
        self,
        *,
        problems: list[RowProblem] | None = None,
        file_problem: FileProblem | None = None,
        rows: int = 0,
        region: str | None = None,
        headers: Mapping[Column, str] | None = None,
    ) -> None:
        self.problems = problems or []
        self.file_problem = file_problem
        self.headers: Mapping[Column, str] = headers or {}
        """Each known column's header cell as the file writes it."""
        if file_problem is not None:
            detail = file_problem_detail(file_problem)
            super().__init__(detail, field="file", errors=[_entry(None, "file", detail)])
            return
        errors = [_problem_entry(p, region) for p in self.problems]
        first = errors[0]
        if all(p.code in _HEADER_CODES for p in self.problems):
            summary = "the header line names the wrong columns; nothing was imported"
        else:
            summary = f"{len({p.row for p in self.problems})} of {rows} rows have problems"
        super().__init__(
            f"{summary}; nothing was imported. First: line {first['line']}: {first['detail']}",
            field=(
                "header"
                if first.get("field") == "header"
                else f"line {first['line']}" + (f" {first['field']}" if first.get("field") else "")
            ),
            errors=errors,
        )


_HEADER_CODES = frozenset({"missing_column", "unknown_column", "duplicate_column"})


def _entry(line: int | None, field_name: str | None, detail: str) -> dict[str, Any]:
    out: dict[str, Any] = {"line": line, "detail": detail}
    if field_name:
        out["field"] = field_name
    return out


def _problem_entry(problem: RowProblem, region: str | None) -> dict[str, Any]:
    where = "header" if problem.code in _HEADER_CODES else problem.column
    return _entry(problem.row, where, problem_detail(problem, region=region))


def check_file(
    raw: bytes,
    *,
    region: str | None,
    session_cities: list[str] | None,
    declared: Literal["csv", "xlsx"] | None = None,
) -> ParsedFile:
    """The file's rows, or :class:`ImportRefused` naming every problem found in it."""
    try:
        table = read_table(raw, declared)
        if not table.rows:
            raise FileProblem("no_header")
        parsed = read_rows(table, region=region, session_cities=session_cities)
        if not parsed.problems and not parsed.rows:
            raise FileProblem("no_rows")
    except FileProblem as problem:
        raise ImportRefused(file_problem=problem) from None
    if parsed.problems:
        raise ImportRefused(
            problems=parsed.problems,
            rows=len(table.rows) - 1,
            region=region,
            headers=parsed.headers,
        )
    return parsed


def import_participants(
    conn: Connection, command: ImportParticipants, principal: Principal
) -> Imported:
    """POST /registrations/import and the import page: check every row, then register them
    in file order, all in one transaction.

    The file is judged before the session is required, so a bad file gets its whole error
    list even while the session's event is still on its way; the session's cities join the
    checks when the session is known.
    """
    scope = region_code(principal.region_scope)
    known = sessions.get_session(conn, command.session_id, for_update=False)
    parsed = check_file(
        command.file_bytes,
        region=scope,
        session_cities=list(known.cities) if known is not None else None,
        declared=command.declared,
    )
    session = load_open_session(conn, command.session_id)
    now = utc_now()
    created: list[Registration] = []
    problems: list[RowProblem] = []
    for row in parsed.rows:
        person = canonical_participant(validate_participant(row.participant, field_prefix=""))
        try:
            record = add_registration(
                conn, session, person, principal, now, command.correlation_id, field_prefix=""
            )
        except AppError as exc:
            sentence = exc.message if isinstance(exc, DomainError) else exc.detail
            code: ProblemCode = "already_registered" if isinstance(exc, Conflict) else "refused"
            problems.append(RowProblem(row.row, None, "", code, reason=sentence))
            continue
        created.append(record)
        # The seat counters moved in the database; the next row decides on the moved ones.
        session = session.with_registration(record)
    if problems:
        # Raising rolls back the registrations already added: all or nothing.
        raise ImportRefused(
            problems=problems, rows=len(parsed.rows), region=scope, headers=parsed.headers
        )
    for record in created:
        audit_registered(conn, principal, record)
    return Imported(command.session_id, created)
