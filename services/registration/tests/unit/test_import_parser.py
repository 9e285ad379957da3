"""The participant-file parser: every encoding and separator Excel writes, XLSX, the limits,
and every bad field of every row reported at once (no database, no server)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from trainops_registration.domain.import_file import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    MAX_UNPACKED_BYTES,
    FileProblem,
    declared_kind,
    decode_text,
    file_problem_detail,
    guess_delimiter,
    read_table,
)
from trainops_registration.domain.import_rows import (
    COLUMNS,
    HEADER_INDEX,
    HEADERS,
    ParsedFile,
    RowProblem,
    allowed_words,
    header_key,
    problem_detail,
    read_rows,
)

pytestmark = pytest.mark.unit

EN_HEADER = ["Full name", "E-mail", "Phone", "Sector", "Sex", "Age band", "City", "Language"]
RU_HEADER = [
    *("ФИО", "Электронная почта", "Телефон", "Сектор"),
    *("Пол", "Возрастная группа", "Город", "Язык"),
]
KK_HEADER = [
    *("Аты-жөні", "Электрондық пошта", "Телефон", "Сала"),
    *("Жынысы", "Жас тобы", "Қала", "Тіл"),
]
ROW_1 = [
    *("Айгерим Сейткали", "a.seitkali@mail.kz", "+7 701 123 45 67", "СМИ"),
    *("Женский", "25–34", "Алматы", "Русский"),
]
ROW_2 = ["Berik Omarov", "", "", "media", "male", "35-44", "almaty", "kk"]


def csv_bytes(rows: list[list[str]], sep: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [sep.join(f'"{c}"' if sep in c else c for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def parse(raw: bytes, region: str | None = "almaty", cities: list[str] | None = None) -> ParsedFile:
    return read_rows(read_table(raw), region=region, session_cities=cities)


def where(problems: list[RowProblem]) -> list[tuple[int, str | None, str]]:
    return [(p.row, p.column, p.code) for p in problems]


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Reading the file


@pytest.mark.parametrize(
    ("encoding", "sep", "bom"),
    [
        ("utf-8", ",", b""),
        ("utf-8", ";", b""),
        ("utf-8", "\t", b""),
        ("utf-8", ";", b"\xef\xbb\xbf"),
        ("utf-8", ",", b"\xef\xbb\xbf"),
        ("cp1251", ";", b""),
        ("cp1251", ",", b""),
        ("utf-16", "\t", b""),
    ],
)
def test_every_encoding_and_separator_excel_writes_is_read(
    encoding: str, sep: str, bom: bytes
) -> None:
    raw = bom + csv_bytes([RU_HEADER, ROW_1, ROW_2], sep, encoding)
    table = read_table(raw)
    assert table.kind == "csv"
    assert table.delimiter == sep
    assert [n for n, _ in table.rows] == [1, 2, 3]
    assert table.rows[1][1][0] == "Айгерим Сейткали"
    parsed = read_rows(table, region="almaty")
    assert parsed.problems == []
    first = parsed.rows[0].participant
    assert (first.sector, first.sex, first.age_band, first.city, first.language) == (
        "media",
        "female",
        "25-34",
        "almaty",
        "ru",
    )


def test_a_byte_order_mark_never_reaches_the_first_header() -> None:
    text, encoding = decode_text(b"\xef\xbb\xbf" + "ФИО;Город".encode())
    assert (text, encoding) == ("ФИО;Город", "utf-8-sig")


def test_utf8_is_never_misread_as_cp1251_and_cp1251_is_read_as_such() -> None:
    assert decode_text("Қала".encode()) == ("Қала", "utf-8")
    assert decode_text("Город".encode("cp1251")) == ("Город", "cp1251")


def test_the_separator_counts_outside_quotes_and_a_tie_is_a_comma() -> None:
    assert guess_delimiter('"Surname, name";City;Sector\n') == ";"
    assert guess_delimiter("a;b,c\n") == ","
    assert guess_delimiter("only\n") == ","


def test_a_quoted_line_break_is_one_row_and_blank_rows_keep_their_numbers() -> None:
    raw = b'full_name,sector,city,language\n"Aida\nErmekova",media,almaty,ru\n\n\nBerik Omarov,ngo,almaty,kk\n'  # noqa: E501
    table = read_table(raw)
    assert [n for n, _ in table.rows] == [1, 2, 5]


def test_an_xlsx_built_in_excel_is_read_with_its_row_numbers() -> None:
    raw = xlsx_bytes([KK_HEADER, ROW_1, [None] * 8, [*ROW_2[:2], 87017654321, *ROW_2[3:]]])
    table = read_table(raw)
    assert table.kind == "xlsx"
    assert [n for n, _ in table.rows] == [1, 2, 4]
    assert table.rows[2][1][2] == "87017654321"  # a phone stored as a number, no ".0"
    parsed = read_rows(table, region="almaty")
    assert parsed.problems == []
    assert [r.row for r in parsed.rows] == [2, 4]
    assert parsed.rows[1].participant.phone == "87017654321"


def test_a_workbook_is_recognised_by_content_and_a_declared_one_must_be_one() -> None:
    raw = xlsx_bytes([EN_HEADER, ROW_2])
    assert read_table(raw, "csv").kind == "xlsx"
    with pytest.raises(FileProblem) as info:
        read_table(csv_bytes([EN_HEADER, ROW_2]), "xlsx")
    assert info.value.code == "not_xlsx"
    assert (
        declared_kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") == "xlsx"
    )
    assert declared_kind("application/octet-stream", "List.XLSX") == "xlsx"
    assert declared_kind("text/csv; charset=utf-8") == "csv"
    assert declared_kind("application/octet-stream", "list.csv") == "csv"
    assert declared_kind("application/octet-stream") is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "file_empty"),
        (b"  \r\n \n", "file_empty"),
        (b"x" * (MAX_FILE_BYTES + 1), "file_too_large"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
        (b"PK\x03\x04 not really a zip", "not_xlsx"),
        (b"full_name\x00,city\nA,b\n", "not_text"),
        (b'full_name,city\n"Aida,almaty\n', "not_csv"),
        (b'full_name,city\n"' + b"x" * 140_000 + b'",almaty\n', "not_csv"),
    ],
)
def test_files_that_cannot_be_read_are_one_problem(raw: bytes, code: str) -> None:
    with pytest.raises(FileProblem) as info:
        read_table(raw)
    assert info.value.code == code
    assert file_problem_detail(info.value)


def test_the_row_limit_counts_data_rows_only() -> None:
    header = "full_name,sector,city,language\n"
    row = "Aida Ermekova,media,almaty,ru\n"
    assert len(read_table((header + row * MAX_ROWS).encode()).rows) == MAX_ROWS + 1
    with pytest.raises(FileProblem) as info:
        read_table((header + row * (MAX_ROWS + 1)).encode())
    assert (info.value.code, info.value.detail) == ("too_many_rows", str(MAX_ROWS))


def test_the_row_limit_holds_for_workbooks_too() -> None:
    rows: list[list[Any]] = [EN_HEADER, *([ROW_2] * (MAX_ROWS + 1))]
    with pytest.raises(FileProblem) as info:
        read_table(xlsx_bytes(rows))
    assert info.value.code == "too_many_rows"


def test_the_column_limit_is_a_problem_not_a_silent_cut() -> None:
    wide = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1))
    with pytest.raises(FileProblem) as info:
        read_table(f"{wide}\n".encode())
    assert (info.value.code, info.value.detail) == ("too_many_columns", str(MAX_COLUMNS))
    with pytest.raises(FileProblem):
        read_table(xlsx_bytes([[f"c{i}" for i in range(MAX_COLUMNS + 1)]]))
    # Trailing empty cells (a sheet formatted far to the right) are not columns.
    assert read_table(("full_name,city" + "," * 40 + "\n").encode()).rows[0][1] == [
        "full_name",
        "city",
    ]


def test_a_workbook_inflating_past_its_bound_is_refused_before_it_is_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (MAX_UNPACKED_BYTES + 1))
    assert len(out.getvalue()) < MAX_FILE_BYTES
    with pytest.raises(FileProblem) as info:
        read_table(out.getvalue())
    assert info.value.code == "file_too_large"


def test_an_overlong_cell_is_cut_for_display_and_still_refused() -> None:
    table = read_table(xlsx_bytes([EN_HEADER, ["A" * 5000, *ROW_2[1:]]]))
    assert len(table.rows[1][1][0]) == MAX_CELL_CHARS
    parsed = read_rows(table, region="almaty")
    assert where(parsed.problems) == [(2, "full_name", "invalid")]


def test_a_nul_inside_a_data_cell_is_that_fields_problem() -> None:
    parsed = parse(b"full_name,sector,city,language\nAigerim\x00Seitova,media,almaty,kk\n")
    assert where(parsed.problems) == [(2, "full_name", "invalid")]
    assert "U+0000" in problem_detail(parsed.problems[0])


# --------------------------------------------------------------------------------------------
# Header


@pytest.mark.parametrize("header", [EN_HEADER, RU_HEADER, KK_HEADER, [*COLUMNS[:3], *COLUMNS[4:]]])
def test_the_header_may_be_in_any_language_or_the_apis_names(header: list[str]) -> None:
    parsed = parse(csv_bytes([header, ROW_2]))
    assert parsed.problems == []
    assert parsed.rows[0].participant.full_name == "Berik Omarov"


def test_the_template_titles_of_every_language_name_their_column() -> None:
    for column, titles in HEADERS.items():
        for title in titles.values():
            assert HEADER_INDEX[header_key(title)] == column, title
    assert header_key("FULL NAME *") == header_key("full_name") == header_key("Full name")
    assert header_key("Сектор (СМИ | НКО)") == header_key("сектор")


def test_every_header_problem_is_listed_and_no_row_is_judged() -> None:
    parsed = parse(csv_bytes([["Name", "Name", "Town", "Sector"], ["x", "x", "x", "press"]]))
    assert where(parsed.problems) == [
        (1, "full_name", "duplicate_column"),
        (1, None, "unknown_column"),
        (1, "city", "missing_column"),
        (1, "language", "missing_column"),
    ]
    assert parsed.problems[1].header == "Town"
    assert parsed.rows == []


def test_a_file_with_only_headers_has_no_rows_and_no_problems() -> None:
    parsed = parse(csv_bytes([EN_HEADER]))
    assert (parsed.rows, parsed.problems) == ([], [])
    assert parsed.headers["full_name"] == "Full name"
    assert not parsed.clean


# --------------------------------------------------------------------------------------------
# Rows


def test_every_bad_field_of_a_row_is_reported_with_what_it_holds() -> None:
    bad = ["X", "not-an-email", "12", "press", "robot", "100+", "Paris", "de"]
    parsed = parse(csv_bytes([EN_HEADER, ROW_2, bad]))
    assert where(parsed.problems) == [
        (3, "full_name", "invalid"),
        (3, "email", "invalid"),
        (3, "phone", "invalid"),
        (3, "sector", "unknown_choice"),
        (3, "sex", "unknown_choice"),
        (3, "age_band", "unknown_choice"),
        (3, "city", "unknown_city"),
        (3, "language", "unknown_choice"),
    ]
    assert [p.value for p in parsed.problems] == bad
    assert all(problem_detail(p) for p in parsed.problems)
    for p in parsed.problems:
        # The API's sentence never repeats a cell (a name or a phone may be in it).
        assert p.value not in problem_detail(p)
    assert [r.row for r in parsed.rows] == [2]
    assert not parsed.clean


def test_required_cells_and_required_columns_left_empty() -> None:
    blank = [""] * 8
    parsed = parse(
        csv_bytes([EN_HEADER, blank, ["Dina Sadykova", "", "", " ", "", "", "almaty", ""]])
    )
    assert where(parsed.problems) == [
        (3, "sector", "required"),
        (3, "language", "required"),
    ]


def test_optional_columns_may_be_absent_and_default_to_not_stated() -> None:
    parsed = parse(b"Full name;Sector;City;Language\nDina Sadykova;NGO;Almaty;English\n")
    person = parsed.rows[0].participant
    assert (person.sector, person.sex, person.age_band, person.language) == (
        "ngo",
        "undisclosed",
        "undisclosed",
        "en",
    )
    assert person.email is None and person.phone is None


def test_category_words_of_every_language_and_autocorrected_dashes() -> None:
    header = ["Full name", "Sector", "Sex", "Age band", "City", "Language"]
    rows = [
        ["Aida Ermekova", "БАҚ", "Әйел", "25 – 34", "Алматы", "Қазақша"],
        ["Dana Abenova", "НКО", "женский", "55+", "ALMATY", "RU"],
        ["Erlan Nurov", "Akimat", "Not stated", "18—24", "almaty", "English"],
    ]
    parsed = parse(csv_bytes([header, *rows]))
    assert parsed.problems == []
    assert [(r.participant.sector, r.participant.age_band) for r in parsed.rows] == [
        ("media", "25-34"),
        ("ngo", "55+"),
        ("akimat", "18-24"),
    ]
    assert "СМИ" in allowed_words("sector", "ru")


def test_a_row_with_more_values_than_columns_is_one_problem() -> None:
    parsed = parse(b"full_name,sector,city,language\nOmarov, Berik,media,almaty,ru\n")
    assert where(parsed.problems) == [(2, None, "extra_values")]


def test_a_coordinator_imports_their_own_region_only() -> None:
    parsed = parse(csv_bytes([EN_HEADER, ROW_2, [*ROW_2[:6], "Астана", "kk"]]), region="almaty")
    assert where(parsed.problems) == [(3, "city", "other_region")]
    assert parsed.problems[0].value == "Астана"  # as the file writes it
    assert "almaty" in problem_detail(parsed.problems[0], region="almaty")
    # An admin (no region) may import any city the session takes people from.
    parsed = parse(
        csv_bytes([EN_HEADER, ROW_2, [*ROW_2[:6], "Шымкент", "kk"]]),
        region=None,
        cities=["almaty", "astana"],
    )
    assert where(parsed.problems) == [(3, "city", "not_session_city")]


def test_a_new_city_code_is_accepted_a_made_up_word_is_not() -> None:
    header = ["Full name", "Sector", "City", "Language"]
    parsed = parse(
        csv_bytes(
            [
                header,
                ["Aida Ermekova", "media", "taraz", "kk"],
                ["Dana Abenova", "media", "Тараз", "kk"],
            ]
        ),
        region=None,
    )
    assert parsed.rows[0].participant.city == "taraz"
    assert where(parsed.problems) == [(3, "city", "unknown_city")]


def test_the_same_person_twice_in_a_file_is_flagged_with_the_row_it_repeats() -> None:
    header = ["Full name", "E-mail", "Phone", "Sector", "City", "Language"]
    rows = [
        ["Aida Ermekova", "aida@x.kz", "", "media", "almaty", "ru"],
        ["Berik Omarov", "", "87011234567", "media", "almaty", "ru"],
        ["AIDA ERMEKOVA", "Aida@X.kz", "", "ngo", "almaty", "kk"],
        ["Berik  Omarov", "", "+7 701 123 45 67", "media", "almaty", "ru"],
        ["Aida Ermekova", "other@x.kz", "", "media", "almaty", "ru"],
    ]
    parsed = parse(csv_bytes([header, *rows]))
    assert [(p.row, p.code, p.other_row) for p in parsed.problems] == [
        (4, "duplicate_row", 2),
        (5, "duplicate_row", 3),
    ]
    assert problem_detail(parsed.problems[0]) == "the same person as row 2"
    # Two people of one name with two different e-mails are two people.
    assert [r.row for r in parsed.rows] == [2, 3, 6]
