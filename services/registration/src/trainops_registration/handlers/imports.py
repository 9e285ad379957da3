"""CSV import of a session's participants: every bad row reported, nothing saved unless all
rows are good.

Coordinators keep lists in spreadsheets; a half-imported list is worse than none (who is in,
who is not?), so the import is one transaction, and its error answer lists every problem with
the CSV line number and the column, so the whole file can be fixed in one pass.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from trainops_registration.domain import Invalid as DomainInvalid
from trainops_registration.domain import ParticipantInput, validate_participant
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.participant import canonical_participant
from trainops_registration.domain.records import Registration
from trainops_registration.handlers.registering import (
    add_registration,
    audit_registered,
    load_open_session,
)
from trainops_shared.auth import Principal
from trainops_shared.errors import AppError, DomainError, Invalid
from trainops_shared.events import uuid7
from trainops_shared.timeutil import utc_now

REQUIRED_COLUMNS = ("full_name", "sector", "city", "language")
OPTIONAL_COLUMNS = ("email", "phone", "organisation", "sex", "age_band")
MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class ImportParticipants:
    session_id: uuid.UUID
    csv_bytes: bytes
    correlation_id: uuid.UUID = field(default_factory=uuid7)


@dataclass(frozen=True, slots=True)
class Imported:
    """The registrations one import made, in file order."""

    session_id: uuid.UUID
    registrations: list[Registration]


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    data: dict[str, str]


def _problem(line: int | None, field_name: str | None, detail: str) -> dict[str, Any]:
    out: dict[str, Any] = {"line": line, "detail": detail}
    if field_name:
        out["field"] = field_name
    return out


def parse_csv(raw: bytes) -> list[_Row]:
    """Rows keyed by column; raises :class:`Invalid` for a file that is not a usable CSV."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"the file is not UTF-8 text (byte {exc.start}); save the CSV as UTF-8",
            field="file",
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise Invalid("the file is empty; expected a header line and rows", field="file")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        raise Invalid(
            "; ".join(parts) + f" (columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})",
            field="header",
            errors=[_problem(1, "header", "; ".join(parts))],
        )
    reader.fieldnames = header
    rows: list[_Row] = []
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                raise Invalid(f"at most {MAX_ROWS} rows per import; split the file", field="file")
            extra = record.get(None)  # type: ignore[call-overload,unused-ignore]  # restkey is None
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            if extra:
                values["__extra__"] = "1"
            if not any(v for k, v in values.items() if k != "__extra__"):
                continue  # blank line
            rows.append(_Row(reader.line_num, values))
    except csv.Error as exc:
        # The csv module's own message names the problem (a field past its size limit, ...)
        # and never quotes the cell.
        raise Invalid(f"line {reader.line_num} is not valid CSV ({exc})", field="file") from None
    if not rows:
        raise Invalid("the file has a header but no rows", field="file")
    return rows


def import_participants(
    conn: Connection, command: ImportParticipants, principal: Principal
) -> Imported:
    """POST /registrations/import: validate every row, then register them in file order."""
    rows = parse_csv(command.csv_bytes)
    problems: list[dict[str, Any]] = []
    people = []
    scope = region_code(principal.region_scope)
    for row in rows:
        if "__extra__" in row.data:
            problems.append(_problem(row.line, None, "more values than columns"))
            continue
        try:
            person = canonical_participant(
                validate_participant(
                    ParticipantInput(
                        full_name=row.data.get("full_name", ""),
                        sector=row.data.get("sector", ""),
                        city=row.data.get("city", ""),
                        language=row.data.get("language", ""),
                        sex=row.data.get("sex") or "undisclosed",
                        age_band=row.data.get("age_band") or "undisclosed",
                        email=row.data.get("email") or None,
                        phone=row.data.get("phone") or None,
                        organisation=row.data.get("organisation") or None,
                    ),
                    field_prefix="",
                )
            )
        except DomainInvalid as exc:
            problems.append(_problem(row.line, exc.field, exc.message))
            continue
        if scope is not None and person.city != scope:
            problems.append(
                _problem(row.line, "city", f"a coordinator of {scope} imports {scope} only")
            )
            continue
        people.append((row, person))
    if problems:
        raise _rejected(problems, len(rows))
    session = load_open_session(conn, command.session_id)
    now = utc_now()
    created: list[Registration] = []
    for row, person in people:
        try:
            record = add_registration(
                conn, session, person, principal, now, command.correlation_id, field_prefix=""
            )
        except AppError as exc:
            sentence = exc.message if isinstance(exc, DomainError) else exc.detail
            problems.append(_problem(row.line, exc.field, sentence))
            continue
        created.append(record)
        # The seat counters moved in the database; the next row decides on the moved ones.
        session = session.with_registration(record)
    if problems:
        raise _rejected(problems, len(rows))
    for record in created:
        audit_registered(conn, principal, record)
    return Imported(command.session_id, created)


def _rejected(problems: list[dict[str, Any]], total: int) -> Invalid:
    first = problems[0]
    return Invalid(
        f"{len(problems)} of {total} rows have problems; nothing was imported. First: line "
        f"{first['line']}: {first['detail']}",
        field=f"line {first['line']}" + (f" {first['field']}" if first.get("field") else ""),
        errors=problems,
    )
