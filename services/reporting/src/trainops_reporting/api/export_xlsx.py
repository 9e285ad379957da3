"""A report table as an XLSX workbook, built in memory.

Counts are written as numbers so a donor can sum and chart them; a hidden count is the text
marker (``<k`` or ``x``), never a number, so no formula can mistake it for a zero.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from trainops_reporting.api.exports import Cell, ExportSection, ExportTable

XLSX_MEDIA_TYPE: Final[str] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_HEADER_FILL: Final[PatternFill] = PatternFill("solid", fgColor="DDE4EE")
_RULE: Final[Border] = Border(bottom=Side(style="thin", color="555555"))
_TOP_RULE: Final[Border] = Border(top=Side(style="thin", color="555555"))
_MIN_WIDTH: Final[int] = 10
_MAX_WIDTH: Final[int] = 42


def _width(cell: Cell) -> int:
    return len(f"{cell:.2f}" if isinstance(cell, float) else str(cell))


def xlsx_bytes(table: ExportTable) -> bytes:
    """One sheet: title block (parameters and the disclosure note), header row, rows, total.

    The header row is frozen (and repeated when printed) so long tables keep their headings.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = table.title[:31]
    width = len(table.columns)
    sheet.append([table.title])
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    for name, setting in table.parameters:
        sheet.append([name, setting])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.append([table.note])
    note_row = sheet.max_row
    sheet.merge_cells(start_row=note_row, start_column=1, end_row=note_row, end_column=width)
    note = sheet.cell(row=note_row, column=1)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    note.font = Font(italic=True, size=9)
    sheet.row_dimensions[note_row].height = 15 * max(2, len(table.note) // (12 * width) + 1)
    sheet.append([])

    lines = [*table.rows, *([table.total] if table.total is not None else [])]
    header_row = _grid(sheet, table.columns, table.label_columns, lines, table.total is not None)
    _fit_columns(sheet, table.columns, lines, [name for name, _ in table.parameters])
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    if any(not section.sheet for section in table.sections):
        _sections_sheet(book, table)
    for section in table.sections:
        if section.sheet:
            _section_sheet(book, table, section)
    if table.generated_at is not None:
        at = table.generated_at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
        book.properties.created = book.properties.modified = at
    out = io.BytesIO()
    book.save(out)
    if table.generated_at is None:
        return out.getvalue()
    return _stamped(out.getvalue(), table.generated_at)


def _grid(
    sheet: Worksheet,
    columns: Sequence[str],
    label_columns: int,
    lines: Sequence[Sequence[Cell]],
    total: bool,
    text_columns: Sequence[int] = (),
) -> int:
    """A header row and its lines (the last one a total line when ``total``) from the sheet's
    next row on; returns the header's row number."""
    width = len(columns)
    sheet.append(list(columns))
    header_row = sheet.max_row
    for column in range(1, width + 1):
        heading = sheet.cell(row=header_row, column=column)
        heading.font = Font(bold=True)
        heading.fill = _HEADER_FILL
        heading.border = _RULE
        heading.alignment = Alignment(
            wrap_text=True,
            vertical="center",
            horizontal="left" if column <= label_columns or column - 1 in text_columns else "right",
        )
    for line in lines:
        sheet.append(list(line))
        for column, value in enumerate(line, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            if column > label_columns and column - 1 not in text_columns:
                cell.alignment = Alignment(horizontal="right")
                if isinstance(value, float):
                    cell.number_format = "0.00"
    if total:
        for column in range(1, width + 1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.font = Font(bold=True)
            cell.border = _TOP_RULE
    return header_row


def _fit_columns(
    sheet: Worksheet,
    columns: Sequence[str],
    lines: Sequence[Sequence[Cell]],
    first_column: Sequence[Cell] = (),
) -> None:
    for column in range(1, len(columns) + 1):
        values = [columns[column - 1], *(line[column - 1] for line in lines if len(line) >= column)]
        if column == 1:  # the parameter names sit in column A, beside their values
            values.extend(first_column)
        widest = max(_width(value) for value in values)
        sheet.column_dimensions[get_column_letter(column)].width = min(
            _MAX_WIDTH, max(_MIN_WIDTH, widest + 2)
        )


def _sections_sheet(book: Workbook, table: ExportTable) -> None:
    """The document's further tables on one more sheet, one under the other, each under its
    heading, with the same disclosure note as the first sheet."""
    sheet = book.create_sheet(table.sections_title[:31])
    sheet.append([table.sections_title])
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.append([table.note])
    sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True, size=9)
    shared = [section for section in table.sections if not section.sheet]
    widest = max(shared, key=lambda section: len(section.columns))
    all_lines: list[Sequence[Cell]] = []
    for section in shared:
        sheet.append([])
        sheet.append([section.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        _grid(
            sheet, section.columns, section.label_columns, section.rows, False, section.text_columns
        )
        all_lines += [section.columns, *section.rows]
    _fit_columns(sheet, widest.columns, all_lines)


_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(book: Workbook, title: str) -> str:
    """A sheet name Excel accepts (at most 31 characters, no bracket, colon, star, question
    mark or slash), unique in the book."""
    base = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip()[:31] or "-"
    name, number = base, 2
    while name in book.sheetnames:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    return name


def _section_sheet(book: Workbook, table: ExportTable, section: ExportSection) -> None:
    """One section on a sheet of its own: its title, the disclosure note, its table (long
    texts wrapped in their column)."""
    sheet = book.create_sheet(_sheet_name(book, section.sheet))
    sheet.append([section.title])
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.append([table.note])
    sheet.cell(row=sheet.max_row, column=1).font = Font(italic=True, size=9)
    sheet.append([])
    _grid(sheet, section.columns, section.label_columns, section.rows, False, section.text_columns)
    for row in sheet.iter_rows(min_row=sheet.max_row - len(section.rows) + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _fit_columns(sheet, section.columns, section.rows)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _stamped(archive: bytes, at: datetime) -> bytes:
    """The workbook's zip with every entry (and the document's modification time) dated
    ``at``: openpyxl dates both when saved, so the same workbook saved twice would otherwise
    differ in bytes."""
    moment = at.astimezone(UTC)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    stamp = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute,
             moment.second - moment.second % 2)  # fmt: skip
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = entry.compress_type
            info.external_attr = entry.external_attr
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + iso + rb"\g<2>", data)
            target.writestr(info, data)
    return out.getvalue()
