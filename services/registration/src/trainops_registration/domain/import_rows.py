"""A participant file's rows as participants, with every bad field of every row reported.

The columns may be named as the API names them (``full_name``) or in Kazakh, Russian or
English, as the downloadable template writes them; category cells may hold a code (``media``)
or its word in any of the three languages (``СМИ``, ``БАҚ``, ``Media``). Every cell is checked
by the same validators as a registration form, one field at a time, so that a file can be
corrected in one pass: a row with a bad e-mail *and* an unknown sector reports both.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from trainops_registration.domain.errors import Invalid
from trainops_registration.domain.identity import Candidate, choose_match
from trainops_registration.domain.import_file import Table
from trainops_registration.domain.participant import (
    Participant,
    ParticipantInput,
    canonical_participant,
    normalise_phone,
    validate_city,
    validate_email,
    validate_full_name,
    validate_organisation,
    validate_participant,
)
from trainops_shared.console.labels import LABELS, code_for
from trainops_shared.events.vocabulary import CITY_CODE_PATTERN, Language

Column = Literal[
    "full_name",
    "email",
    "phone",
    "organisation",
    "sector",
    "sex",
    "age_band",
    "city",
    "language",
]
COLUMNS: Final[tuple[Column, ...]] = (
    "full_name",
    "email",
    "phone",
    "organisation",
    "sector",
    "sex",
    "age_band",
    "city",
    "language",
)
REQUIRED: Final = frozenset({"full_name", "sector", "city", "language"})
CATEGORY_COLUMNS: Final[frozenset[Column]] = frozenset({"sector", "sex", "age_band", "language"})
"""Columns whose cells are words of :data:`~trainops_shared.console.labels.LABELS`."""

HEADERS: Final[Mapping[Column, Mapping[Language, str]]] = {
    "full_name": {"kk": "Аты-жөні", "ru": "ФИО", "en": "Full name"},
    "email": {"kk": "Электрондық пошта", "ru": "Электронная почта", "en": "E-mail"},
    "phone": {"kk": "Телефон", "ru": "Телефон", "en": "Phone"},
    "organisation": {"kk": "Ұйым", "ru": "Организация", "en": "Organisation"},
    "sector": {"kk": "Сала", "ru": "Сектор", "en": "Sector"},
    "sex": {"kk": "Жынысы", "ru": "Пол", "en": "Sex"},
    "age_band": {"kk": "Жас тобы", "ru": "Возрастная группа", "en": "Age band"},
    "city": {"kk": "Қала", "ru": "Город", "en": "City"},
    "language": {"kk": "Тіл", "ru": "Язык", "en": "Language"},
}
"""The column titles of the template, one per language."""

_MORE_HEADERS: Final[Mapping[Column, tuple[str, ...]]] = {
    "full_name": ("name", "Ф.И.О.", "Фамилия Имя Отчество", "Аты-жөні", "Толық аты-жөні"),
    "email": ("email", "e-mail", "mail", "Эл. почта", "Email", "Пошта", "Электрондық почта"),
    "phone": ("Телефон нөмірі", "Номер телефона", "Phone number", "Mobile"),
    "organisation": ("organization", "Organisation", "Мекеме"),
    "sex": ("gender", "Жыныс"),
    "age_band": ("age", "Возраст", "Жасы", "Жас"),
    "language": ("Тілі", "Язык обучения", "Оқу тілі"),
}
"""Further spellings people give the same columns."""

ProblemCode = Literal[
    "missing_column",
    "unknown_column",
    "duplicate_column",
    "required",
    "invalid",
    "unknown_choice",
    "unknown_city",
    "other_region",
    "not_session_city",
    "extra_values",
    "duplicate_row",
    "already_registered",
    "refused",
]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad field (or header cell) of the file: where, what it holds, and why."""

    row: int
    column: Column | None
    value: str
    code: ProblemCode
    header: str = ""
    """The header cell as written (for problems of the header row)."""
    other_row: int | None = None
    """The earlier row a ``duplicate_row`` repeats."""
    reason: str = ""
    """The field check's own sentence (English, as the JSON API answers), for ``invalid``."""


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A clean row: the participant as the API's input, category codes in place of words."""

    row: int
    participant: ParticipantInput


@dataclass(frozen=True, slots=True)
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    headers: dict[Column, str] = field(default_factory=dict)
    """Each recognised column's header cell as the file writes it (for an error table)."""

    @property
    def clean(self) -> bool:
        return not self.problems and bool(self.rows)


_NOT_WORD: Final = re.compile(r"[\W_]+")
_CITY_CODE: Final = re.compile(CITY_CODE_PATTERN)
_DASHES: Final = str.maketrans({"–": "-", "—": "-", "−": "-", "‒": "-"})


def header_key(text: str) -> str:
    """A header cell reduced to what identifies it: case, spaces, punctuation and a
    parenthesised hint (``Сектор (СМИ | НКО …)``) ignored, so ``Full name``, ``full_name`` and
    ``FULL NAME *`` are one column."""
    return _NOT_WORD.sub("", text.split("(", 1)[0].casefold())


def _header_index() -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in COLUMNS:
        names = (column, *HEADERS[column].values(), *_MORE_HEADERS.get(column, ()))
        for name in names:
            index.setdefault(header_key(name), column)
    return index


HEADER_INDEX: Final = _header_index()


def map_header(number: int, cells: Sequence[str]) -> tuple[dict[int, Column], list[RowProblem]]:
    """Which column each header cell names, and the header's problems (all of them)."""
    positions: dict[int, Column] = {}
    problems: list[RowProblem] = []
    seen: set[Column] = set()
    for index, cell in enumerate(cells):
        if not cell.strip():
            continue
        column = HEADER_INDEX.get(header_key(cell))
        if column is None:
            problems.append(RowProblem(number, None, cell, "unknown_column", header=cell))
        elif column in seen:
            problems.append(RowProblem(number, column, cell, "duplicate_column", header=cell))
        else:
            seen.add(column)
            positions[index] = column
    for column in COLUMNS:
        if column in REQUIRED and column not in seen:
            problems.append(RowProblem(number, column, "", "missing_column"))
    return positions, problems


def category_code(column: Column, text: str) -> str | None:
    """The code a category cell means: its code or its word in kk/ru/en (any case), age bands
    also with the dashes and spaces Excel's autocorrect leaves (``25 – 34``)."""
    found = code_for(column, text)
    if found is None and column == "age_band":
        found = code_for(column, text.translate(_DASHES).replace(" ", ""))
    return found


def city_code(text: str) -> str | None:
    """A known city by its code or word (any case), or a city added since written as a code
    (``taraz``): a capitalised unknown word (``Paris``) is a name nobody gave a code, not one."""
    known = code_for("city", text)
    if known is not None:
        return known
    written = text.strip()
    return written if _CITY_CODE.match(written) else None


def _check_cell(column: Column, text: str) -> tuple[str, ProblemCode | None, str]:
    """The cell's value for the API input, its problem if any, and the check's sentence."""
    value = text.strip()
    if not value:
        if column in REQUIRED:
            return "", "required", ""
        return ("undisclosed" if column in ("sex", "age_band") else ""), None, ""
    if column in CATEGORY_COLUMNS:
        code = category_code(column, value)
        return (code or "", None if code else "unknown_choice", "")
    if column == "city":
        code = city_code(value)
        if code is None:
            return "", "unknown_city", ""
        value = code
    checks: Mapping[str, Callable[[str, str], object]] = {
        "full_name": validate_full_name,
        "email": validate_email,
        "phone": normalise_phone,
        "organisation": validate_organisation,
        "city": validate_city,
    }
    try:
        checks[column](value, column)
    except Invalid as exc:
        return value, "invalid", exc.message
    return value, None, ""


def read_rows(
    table: Table,
    *,
    region: str | None,
    session_cities: Sequence[str] | None = None,
) -> ParsedFile:
    """Every data row checked field by field; ``region`` is a coordinator's own city (rows of
    another are refused), ``session_cities`` the cities the session takes people from."""
    if not table.rows:
        return ParsedFile()
    header_number, header_cells = table.rows[0]
    positions, problems = map_header(header_number, header_cells)
    headers = {column: header_cells[index] for index, column in positions.items()}
    if problems:
        return ParsedFile(problems=problems, headers=headers)
    parsed: list[ParsedRow] = []
    earlier: list[tuple[int, Candidate]] = []
    for number, cells in table.rows[1:]:
        extra = [c for i, c in enumerate(cells) if i not in positions and c.strip()]
        if extra:
            # More values than named columns means the cells are shifted (a separator inside
            # an unquoted name): judging them column by column would report what is not there.
            problems.append(RowProblem(number, None, " | ".join(extra), "extra_values"))
            continue
        values: dict[Column, str] = {}
        row_problems: list[RowProblem] = []
        for index, cell in enumerate(cells):
            column = positions.get(index)
            if column is None:
                continue
            value, problem, reason = _check_cell(column, cell)
            if problem is not None:
                row_problems.append(
                    RowProblem(number, column, cell.strip(), problem, reason=reason)
                )
            values[column] = value
        for column in COLUMNS:
            if column not in values:
                value, problem, _ = _check_cell(column, "")
                if problem is not None:
                    row_problems.append(RowProblem(number, column, "", problem))
                values[column] = value
        city = values["city"]
        if city and not any(p.column == "city" for p in row_problems):
            written = next(cells[i] for i, c in positions.items() if c == "city").strip()
            if region is not None and city != region:
                row_problems.append(RowProblem(number, "city", written, "other_region"))
            elif session_cities is not None and city not in session_cities:
                row_problems.append(RowProblem(number, "city", written, "not_session_city"))
        if row_problems:
            problems.extend(row_problems)
            continue
        person = _participant(values)
        candidate = _candidate(number, person)
        same = choose_match(_as_valid(person), (c for _, c in earlier), city)
        if same is not None:
            other = next(n for n, c in earlier if c is same)
            problems.append(
                RowProblem(number, "full_name", person.full_name, "duplicate_row", other_row=other)
            )
            continue
        earlier.append((number, candidate))
        parsed.append(ParsedRow(number, person))
    return ParsedFile(rows=parsed, problems=problems, headers=headers)


def _participant(values: Mapping[Column, str]) -> ParticipantInput:
    return ParticipantInput(
        full_name=values["full_name"],
        sector=values["sector"],
        city=values["city"],
        language=values["language"],
        sex=values["sex"],
        age_band=values["age_band"],
        email=values["email"] or None,
        phone=values["phone"] or None,
        organisation=values["organisation"] or None,
    )


def _as_valid(person: ParticipantInput) -> Participant:
    return canonical_participant(validate_participant(person, field_prefix=""))


def _candidate(number: int, person: ParticipantInput) -> Candidate:
    """A clean row as the matching rule sees a stored participant: a later row denoting the
    same person would be refused by the import as registered twice, so it is reported here
    with the row it repeats."""
    valid = _as_valid(person)
    return Candidate(
        participant_id=uuid.UUID(int=number),
        city=valid.city,
        name_key=valid.name_key,
        email=valid.email,
        phone=valid.phone,
    )


def allowed_words(column: Column, lang: Language) -> list[str]:
    """The words a category column accepts, in the page's language (codes are accepted too)."""
    return [words[lang] for words in LABELS.get(column, {}).values()]


def problem_detail(problem: RowProblem, *, region: str | None = None) -> str:
    """The JSON API's English sentence for ``problem``; it never repeats the cell's content
    (a cell may hold a name or a phone, and an error answer may be logged)."""
    column = problem.column or ""
    match problem.code:
        case "missing_column":
            return f"the column {column} is missing (columns: {', '.join(COLUMNS)})"
        case "unknown_column":
            return f"a header cell names none of the columns {', '.join(COLUMNS)}"
        case "duplicate_column":
            return f"the column {column} appears twice"
        case "required":
            return f"{column} is required"
        case "invalid":
            reason = problem.reason or f"{column} is not valid"
            if problem.value:
                # A form's check may quote what was typed; here that is a cell of a list.
                reason = reason.replace(repr(problem.value), "the cell")
                reason = reason.replace(problem.value, "the cell")
            return reason
        case "unknown_choice":
            codes = ", ".join(LABELS.get(column, {}))
            return f"{column} must be one of {codes} (or its word in kk, ru or en)"
        case "unknown_city":
            return "unknown city: write its code (almaty) or its name"
        case "other_region":
            scope = region or "their region"
            return f"a coordinator of {scope} imports participants of {scope} only"
        case "not_session_city":
            return "the session does not take participants from this city"
        case "extra_values":
            return "more values than columns"
        case "duplicate_row":
            return f"the same person as row {problem.other_row}"
        case "already_registered" | "refused":
            return problem.reason or "the registration was refused"
