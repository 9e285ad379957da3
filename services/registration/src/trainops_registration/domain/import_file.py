"""A participant file as rows of text cells: CSV in any of the encodings and separators Excel
writes here, or an XLSX workbook.

Coordinators keep their lists in Excel. A Russian- or Kazakh-locale Excel saves "CSV" as cp1251
with semicolons, "CSV UTF-8" with a byte-order mark and commas or semicolons, and "Unicode text"
as UTF-16 with tabs; many keep the workbook itself. All of them are read here, from bytes in
memory, so that a coordinator never has to learn what an encoding is. Whatever cannot be read
is a :class:`FileProblem` naming what to do instead.

The row numbers are the ones the spreadsheet shows (the header is row 1 when it is the first
line; a quoted cell with a line break is still one row), so an error table can be read next
to the open file.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final, Literal

MAX_FILE_BYTES: Final = 1024 * 1024
"""An upload larger than this is refused before it is read (1000 rows take about 200 KB)."""
MAX_ROWS: Final = 1000
"""Data rows per file: one error table must stay readable, and one import one transaction."""
MAX_COLUMNS: Final = 30
MAX_UNPACKED_BYTES: Final = 32 * 1024 * 1024
"""An XLSX is a zip archive: its declared unpacked size is bounded before anything is inflated."""
MAX_CELL_CHARS: Final = 2000

FileProblemCode = Literal[
    "file_empty",
    "file_too_large",
    "too_many_rows",
    "too_many_columns",
    "not_text",
    "not_csv",
    "not_xlsx",
    "xls",
    "no_header",
    "no_rows",
]


class FileProblem(Exception):
    """The file as a whole cannot be used; ``code`` says why (texts are the page's).

    ``detail`` is a number to show with the message (the limit, the line), never a cell's
    content: the message may reach a log, a cell may hold a name.
    """

    def __init__(self, code: FileProblemCode, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code: FileProblemCode = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Table:
    """The file's rows as text cells, each with the row number the spreadsheet shows."""

    kind: Literal["csv", "xlsx"]
    rows: list[tuple[int, list[str]]]
    encoding: str = ""
    delimiter: str = ""


_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0"
_DELIMITERS: Final = (";", ",", "\t")
_BLANK_TAIL: Final = 10_000


XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def declared_kind(content_type: str, filename: str = "") -> Literal["csv", "xlsx"] | None:
    """What the sender says the file is, by its media type or its name's ending."""
    media = content_type.split(";", 1)[0].strip().lower()
    name = filename.strip().lower()
    if media == XLSX_MEDIA_TYPE or name.endswith(".xlsx"):
        return "xlsx"
    if media in ("text/csv", "application/csv", "text/plain") or name.endswith((".csv", ".txt")):
        return "csv"
    return None


def read_table(raw: bytes, declared: Literal["csv", "xlsx"] | None = None) -> Table:
    """The cells of a CSV or XLSX file, told apart by content: a workbook saved under a
    ``.csv`` name is still read. Only a file declared XLSX whose bytes are not a workbook is
    refused as such, rather than shown as garbled text."""
    if not raw.strip():
        raise FileProblem("file_empty")
    if len(raw) > MAX_FILE_BYTES:
        raise FileProblem("file_too_large", str(MAX_FILE_BYTES // 1024))
    if raw.startswith(_ZIP_MAGIC):
        return _read_xlsx(raw)
    if raw.startswith(_OLE_MAGIC):
        raise FileProblem("xls")
    if declared == "xlsx":
        raise FileProblem("not_xlsx")
    text, encoding = decode_text(raw)
    delimiter = guess_delimiter(text)
    return Table("csv", _read_csv(text, delimiter), encoding, delimiter)


def decode_text(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with: a byte-order mark decides, then strict
    UTF-8, then cp1251 (what Excel's plain "CSV" is on a Russian or Kazakh Windows).

    cp1251 maps almost every byte to a letter, so it is only tried once UTF-8 has failed: a
    UTF-8 file is never misread as cp1251.
    """
    attempts: tuple[str, ...]
    if raw.startswith(b"\xef\xbb\xbf"):
        attempts = ("utf-8-sig",)
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        attempts = ("utf-16",)
    else:
        attempts = ("utf-8", "cp1251")
    for encoding in attempts:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text.split("\n", 1)[0]:
            # A NUL in the header line is UTF-16 without its mark or a binary file. One in a
            # data cell is that cell's problem, reported with its row by the cell checks.
            break
        return text, encoding
    raise FileProblem("not_text")


def guess_delimiter(text: str) -> str:
    """The separator of the header line: the one of ``;``, ``,``, tab occurring most often
    outside quotes (a comma wins a tie: it is what a plain CSV uses)."""
    header = ""
    for line in text.splitlines():
        if line.strip():
            header = line
            break
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _read_csv(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    # Strict: a quote left open swallows every later row into one cell, which must be a
    # problem to fix, not a silently shorter list.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for record in reader:
            number += 1
            _keep(rows, number, record)
    except csv.Error:
        # The module's message may quote the cell; the row number is what a person needs.
        raise FileProblem("not_csv", str(number + 1)) from None
    return rows


def _keep(rows: list[tuple[int, list[str]]], number: int, values: Sequence[object]) -> None:
    """Append row ``number`` unless it is blank (blank rows are skipped, their numbers kept)."""
    cells = [_cell_text(v) for v in values]
    while cells and not cells[-1].strip():
        cells.pop()
    if not cells:
        return
    if len(cells) > MAX_COLUMNS:
        raise FileProblem("too_many_columns", str(MAX_COLUMNS))
    if len(rows) > MAX_ROWS:  # the header and MAX_ROWS data rows are already there
        raise FileProblem("too_many_rows", str(MAX_ROWS))
    rows.append((number, cells))


def _cell_text(value: object) -> str:
    """A cell as the person typed it: numbers without a spurious ``.0`` (a phone stored as a
    number), dates as ``YYYY-MM-DD``, nothing for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    # Every column's own limit is far below this: a longer cell still fails its check, and the
    # error table never has to show a whole novel.
    return str(value)[:MAX_CELL_CHARS]


def _read_xlsx(raw: bytes) -> Table:
    """The first worksheet's cell values (cached results for formulas), read-only."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise FileProblem("not_xlsx") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileProblem("file_too_large", str(MAX_FILE_BYTES // 1024))
    from openpyxl import load_workbook  # only files that are workbooks pay for the import

    rows: list[tuple[int, list[str]]] = []
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it does not keep; only values matter.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                last = 0
                for number, values in enumerate(
                    sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1
                ):
                    _keep(rows, number, values)
                    last = rows[-1][0] if rows else 0
                    if number - last > _BLANK_TAIL:
                        break  # formatting far below the list, not more participants
            finally:
                workbook.close()
    except FileProblem:
        raise
    except Exception:  # any failure inside the workbook means the same to a person
        raise FileProblem("not_xlsx") from None
    return Table("xlsx", rows)


_DETAILS: Final[dict[FileProblemCode, str]] = {
    "file_empty": "the file is empty; expected a header line and rows",
    "file_too_large": "the file is larger than {} KB; split it into smaller files",
    "too_many_rows": "at most {} rows per import; split the file",
    "too_many_columns": "a row has more than {} cells; keep only the participant columns",
    "not_text": "the file is not text in UTF-8, UTF-16 or cp1251; save it as CSV or XLSX",
    "not_csv": "row {} is not valid CSV (an unclosed quote or an overlong cell)",
    "not_xlsx": "the file looks like a workbook but cannot be read as XLSX",
    "xls": "old Excel files (.xls) are not read; save the file as XLSX or CSV",
    "no_header": "the file has no header line naming the columns",
    "no_rows": "the file has a header but no rows",
}


def file_problem_detail(problem: FileProblem) -> str:
    """The JSON API's English sentence for ``problem`` (pages have their own words)."""
    return _DETAILS[problem.code].format(problem.detail)
