"""The XLSX and PDF builders: what a donor opens is the API's answer, in their language, with
every hidden count a marker and never a number."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from trainops_reporting.api.export_pdf import pdf_bytes
from trainops_reporting.api.export_xlsx import xlsx_bytes
from trainops_reporting.api.exports import donor_csv, donor_table, summary_table
from trainops_reporting.domain.indicators import ratios

pytestmark = pytest.mark.unit

AT = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
DEFINITIONS = {"unit": "registrations"}


def cell(labels: dict[str, str], values: dict[str, int | None], **flags: str) -> dict[str, Any]:
    """A published cell as the handlers give it; a flagged measure keeps a value on purpose:
    the builders must print the marker whatever the value says."""
    mean = None if "feedback_responses" in flags else 4.25
    out = {**labels, **values, "satisfaction_mean": mean, "suppressed": flags}
    out["indicators"], out["indicators_hidden"] = ratios(out, None)
    return out


def city_sex_report() -> dict[str, Any]:
    rows = [
        cell(
            {"city": "oskemen", "sex": "female"},
            {"registered": 41, "attended": 3, "feedback_responses": 2},
            attended="primary",
            feedback_responses="primary",
        ),
        cell(
            {"city": "oskemen", "sex": "male"},
            {"registered": 52, "attended": 37, "feedback_responses": 29},
            attended="complementary",
            feedback_responses="complementary",
        ),
        cell(
            {"city": "almaty", "sex": "female"},
            {"registered": 63, "attended": 48, "feedback_responses": 31},
        ),
    ]
    return {
        "by": ["city", "sex"],
        "k": 5,
        "unit": "registrations",
        "definitions": DEFINITIONS,
        "rows": rows,
        "totals": cell({}, {"registered": 156, "attended": 88, "feedback_responses": 62}),
        "row_totals": [],
        "column_totals": [],
        "suppressed_cells": 4,
        "filters": {"period": "2026-Q1", "training_id": None},
    }


HIDDEN = {"3", "2", "37", "29"}
"""The values the flagged cells carry in the input: none may be written anywhere."""


def sheet_of(content: bytes) -> Worksheet:
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    return sheet


def header_row(sheet: Worksheet, heading: str, column: int = 1) -> int:
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, column).value == heading)


def test_the_workbook_holds_the_title_block_header_rows_and_total_with_markers() -> None:
    sheet = sheet_of(xlsx_bytes(donor_table(city_sex_report(), "ru", AT)))
    assert sheet.cell(1, 1).value == "Отчёт для донора"
    block = {sheet.cell(r, 1).value: sheet.cell(r, 2).value for r in range(2, 8)}
    assert block == {
        "Период": "2026-Q1",
        "Тренинг": "Все тренинги",
        "Разбивка": "Город, Пол",
        "Минимальный размер ячейки (k)": 5,
        "Единица счёта": "регистрации (один человек на одной сессии)",
        "Сформирован": "2026-03-05 09:30 UTC",
    }
    note = str(sheet.cell(8, 1).value)
    assert "от 1 до 4" in note and "«<5»" in note and "«x»" in note

    top = header_row(sheet, "Город")
    assert [c.value for c in sheet[top]] == [
        "Город",
        "Пол",
        "Зарегистрировано",
        "Присутствовали",
        "Отзывы",
        "Средняя удовлетворённость (1–5)",
        "Явка",
        "Доля отзывов",
        "Доля женщин",
    ]
    table = [[c.value for c in row] for row in sheet.iter_rows(min_row=top + 1)]
    assert table == [
        ["Усть-Каменогорск", "Женский", 41, "<5", "<5", "x", "x", "x", None],
        ["Усть-Каменогорск", "Мужской", 52, "x", "x", "x", "x", "x", None],
        ["Алматы", "Женский", 63, 48, 31, 4.25, 0.762, 0.646, None],
        ["Итого", None, 156, 88, 62, 4.25, 0.564, 0.705, None],
    ]
    assert sheet.freeze_panes == f"A{top + 1}"
    assert sheet.cell(top + 3, 6).number_format == "0.00"
    assert sheet.cell(top + 4, 1).font.bold
    assert sheet.column_dimensions["A"].width >= len("Минимальный размер ячейки (k)")
    hidden_numbers = [
        c.value
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, int | float) and str(c.value) in HIDDEN
    ]
    assert hidden_numbers == []


def test_the_workbook_marks_cells_as_the_csv_does() -> None:
    report = city_sex_report()
    sheet = sheet_of(xlsx_bytes(donor_table(report, "en", AT)))
    top = header_row(sheet, "City")
    from_xlsx = [
        ["" if c.value is None else str(c.value) for c in row][2:]
        for row in sheet.iter_rows(min_row=top + 1)
    ]
    from_csv = [line.split(",")[2:] for line in donor_csv(report).splitlines()[1:]]
    assert from_xlsx == from_csv


def test_a_report_without_breakdown_is_its_total_line() -> None:
    report = city_sex_report()
    report["by"] = []
    report["rows"] = [report["totals"]]
    sheet = sheet_of(xlsx_bytes(donor_table(report, "kk", AT)))
    assert sheet.cell(1, 1).value == "Донорлық есеп"
    assert sheet.cell(4, 2).value == "Жоқ (тек жиынтық)"
    top = header_row(sheet, "Тіркелген", column=2)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=top)]
    assert rows[0] == [
        None,
        "Тіркелген",
        "Қатысқан",
        "Пікірлер",
        "Орташа қанағаттану (1–5)",
        "Қатысу үлесі",
        "Пікір толтыру үлесі",
        "Әйелдер үлесі",
    ]
    assert rows[1:] == [["Барлығы", 156, 88, 62, 4.25, 0.564, 0.705, None]]


def summary_report() -> dict[str, Any]:
    return {
        "sessions_scheduled": 3,
        "sessions_delivered": 2,
        "registered": 4,
        "attended": None,
        "feedback_responses": None,
        "satisfaction_mean": None,
        "cities_reached": 1,
        "suppressed": {
            "registered": "primary",
            "attended": "primary",
            "feedback_responses": "primary",
        },
        "k": 6,
        "unit": "registrations",
        "definitions": DEFINITIONS,
        "filters": {"period": "all", "training_id": "9c1f3a56-2f5e-4c55-9d0f-0a2b3c4d5e6f"},
        "indicators": {"attendance_rate": None, "feedback_completion": None},
        "indicators_hidden": {
            "attendance_rate": "suppressed",
            "feedback_completion": "suppressed",
            "share_of_women": "not_available",
        },
    }


def test_the_summary_workbook_lists_the_headline_figures() -> None:
    sheet = sheet_of(xlsx_bytes(summary_table(summary_report(), "en", AT)))
    assert sheet.cell(1, 1).value == "Programme summary"
    assert sheet.cell(2, 2).value == "All periods"
    assert sheet.cell(3, 2).value == "9c1f3a56-2f5e-4c55-9d0f-0a2b3c4d5e6f"
    top = header_row(sheet, "Figure")
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=top + 1)]
    assert rows == [
        ["Sessions scheduled", 3],
        ["Sessions delivered", 2],
        ["Registered", "<6"],  # the 4 the input carries is never written
        ["Attended", "<6"],
        ["Feedback responses", "<6"],
        ["Mean satisfaction (1–5)", "x"],
        ["Cities reached", 1],
        ["Attendance rate", "x"],  # made of hidden counts: hidden too
        ["Feedback completion", "x"],
        ["Share of women", None],  # not given (no such cell): left blank
    ]


def pdf_pages(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def long_report(rows: int) -> dict[str, Any]:
    report = city_sex_report()
    cities = ["oskemen", "almaty", "astana", "aktobe", "kostanay", "almaty_region"]
    report["rows"] = [
        cell(
            {"city": cities[i % len(cities)], "sex": ("female", "male")[i % 2]},
            {"registered": 100 + i, "attended": 1, "feedback_responses": 70},
            attended="primary",
        )
        for i in range(rows)
    ]
    return report


def test_the_pdf_renders_kazakh_and_russian_and_repeats_its_header_on_every_page(
    tmp_path: Path,
) -> None:
    content = pdf_bytes(donor_table(long_report(90), "kk", AT))
    assert content.startswith(b"%PDF-")
    document = pdfium.PdfDocument(content)
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (842, 595)  # A4 landscape: nine columns
    image = document[0].render(scale=2).to_pil()
    image.save(tmp_path / "donor-kk-page1.png")
    assert abs(image.size[0] - 2 * width) <= 1 and abs(image.size[1] - 2 * height) <= 1
    darkest, lightest = image.convert("L").getextrema()
    assert darkest < 64 and lightest == 255  # black text on white, not a blank page

    pages = pdf_pages(content)
    assert len(pages) >= 3
    first = pages[0]
    for text in ("Донорлық есеп", "Кезең", "Топтау", "Қала, Жынысы", "Өскемен", "Әйел"):
        assert text in first, text
    for number, page in enumerate(pages, start=1):
        assert "Тіркелген" in page and "Қатысқан" in page, number  # the repeated header
        assert f"Бет {number} / {len(pages)}" in page
        assert "Шағын ұяшықтарды жасыру (k = 5)" in page
    assert "Барлығы" in pages[-1]
    assert sum(page.count("<5") for page in pages) == 90 + len(pages)  # cells + the note's "<5"


def test_the_pdf_never_writes_a_hidden_count() -> None:
    pages = pdf_pages(pdf_bytes(donor_table(city_sex_report(), "ru", AT)))
    assert len(pages) == 1
    text = pages[0]
    for heading in ("Отчёт для донора", "Зарегистрировано", "Присутствовали", "Итого"):
        assert heading in text
    assert "Усть-Каменогорск" in text and "Мужской" in text
    table = text[text.index("Зарегистрировано") : text.index("Подавление малых ячеек")]
    numbers = set(re.findall(r"(?<![<\d.])\d+(?![\d.])", table)) - {"1", "5"}  # heading 1–5
    assert numbers == {"41", "52", "63", "48", "31", "156", "88", "62"}
    assert "0.76" in table and "0.56" in table  # the ratios of the shown rows
    assert not numbers & HIDDEN
    assert table.count("<5") == 2 and "4.25" in table


def test_the_summary_pdf_marks_its_hidden_figures() -> None:
    text = pdf_pages(pdf_bytes(summary_table(summary_report(), "ru", AT)))[0]
    assert "Сводка программы" in text and "Все периоды" in text
    assert "Зарегистрировано" in text and text.count("<6") >= 3
    assert not re.search(
        r"(?<![<\d])4(?![\d.–])", text.split("Значение", 1)[1].split("Подавление")[0]
    )


def evidence_report() -> dict[str, Any]:
    """A donor answer with its evidence section as the handlers give it: one Likert item with
    a primary and a complementary cell, one hidden whole, and a single choice."""
    report = city_sex_report()
    report["evidence"] = {
        "knowledge_gain": {
            "pairs": 12,
            "mean_pre": 41.5,
            "mean_post": 68.25,
            "mean_gain": 26.75,
            "share_improved": 0.8333,
            "suppressed": None,
        },
        "items": [
            {
                "item": "overall",
                "kind": "likert",
                "respondents": 14,
                "mean": 4.07,
                "cells": [
                    {"value": "1", "count": 0, "suppressed": None},
                    {"value": "2", "count": None, "suppressed": "primary"},
                    {"value": "3", "count": None, "suppressed": "complementary"},
                    {"value": "4", "count": 5, "suppressed": None},
                    {"value": "5", "count": 6, "suppressed": None},
                ],
                "suppressed": None,
            },
            {
                "item": "trainer",
                "kind": "likert",
                "respondents": None,
                "mean": None,
                "cells": [],
                "suppressed": "primary",
            },
            {
                "item": "format",
                "kind": "single",
                "respondents": 9,
                "mean": None,
                "cells": [
                    {"value": "online", "count": 9, "suppressed": None},
                    {"value": "in_person", "count": 0, "suppressed": None},
                ],
                "suppressed": None,
            },
        ],
    }
    return report


def test_the_csv_ends_with_the_evidence_rows_markers_and_all() -> None:
    text = donor_csv(evidence_report())
    main, evidence = text.split("\r\n\r\n")
    assert len(main.splitlines()) == 5  # header, three rows, TOTAL: unchanged
    assert evidence.splitlines() == [
        "section,item,figure,value",
        "evidence,knowledge_gain,pairs,12",
        "evidence,knowledge_gain,mean_pre,41.5",
        "evidence,knowledge_gain,mean_post,68.25",
        "evidence,knowledge_gain,mean_gain,26.75",
        "evidence,knowledge_gain,share_improved,0.8333",
        "evidence,overall,respondents,14",
        "evidence,overall,mean,4.07",
        "evidence,overall,answer:1,0",
        "evidence,overall,answer:2,<5",
        "evidence,overall,answer:3,x",
        "evidence,overall,answer:4,5",
        "evidence,overall,answer:5,6",
        "evidence,trainer,respondents,<5",
        "evidence,trainer,mean,x",
        "evidence,format,respondents,9",
        "evidence,format,answer:online,9",
        "evidence,format,answer:in_person,0",
    ]


def test_a_gain_below_k_pairs_is_marked_never_a_number() -> None:
    report = evidence_report()
    report["evidence"]["knowledge_gain"] = {
        "pairs": None,
        "mean_pre": None,
        "mean_post": None,
        "mean_gain": None,
        "share_improved": None,
        "suppressed": "primary",
    }
    lines = donor_csv(report).splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines if ",knowledge_gain," in line] == [
        "<5",
        "x",
        "x",
        "x",
        "x",
    ]


def test_the_workbook_has_an_evidence_sheet_in_the_language_asked() -> None:
    content = xlsx_bytes(donor_table(evidence_report(), "en", AT))
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Donor report", "Learning evidence"]
    sheet = book["Learning evidence"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    gain_at = values.index(
        ["Knowledge gain (tests before and after the training)", None, None, None]
    )
    assert values[gain_at + 1 : gain_at + 7] == [
        ["Figure", "Value", None, None],
        ["Took both tests", 12, None, None],
        ["Before, mean (% of the maximum)", 41.5, None, None],
        ["After, mean (%)", 68.25, None, None],
        ["Mean gain (percentage points)", 26.75, None, None],
        ["Share who improved", 0.8333, None, None],
    ]
    items_at = values.index(["Every survey item", None, None, None])
    assert values[items_at + 1 :] == [
        ["Item", "Respondents", "Mean (1–5)", "Distribution of answers"],
        ["overall", 14, 4.07, "1: 0; 2: <5; 3: x; 4: 5; 5: 6"],
        ["trainer", "<5", "x", None],
        ["format", 9, None, "online: 9; in_person: 0"],
    ]
    assert xlsx_bytes(donor_table(evidence_report(), "en", AT)) == content  # same bytes


def test_the_pdf_has_the_evidence_tables_after_the_donor_table() -> None:
    content = pdf_bytes(summary_table(summary_with_evidence(), "kk", AT))
    assert pdf_bytes(summary_table(summary_with_evidence(), "kk", AT)) == content
    text = "\n".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(content))
    gain_at = text.index("Білімнің өсуі")
    assert text.index("Қамтылған қалалар") < gain_at < text.index("Сауалнаманың әр сұрағы")
    for figure in ("Екі тестті де тапсырғандар", "26.75", "0.83", "1: 0; 2: <5; 3: x; 4: 5; 5: 6"):
        assert figure in text, figure


def summary_with_evidence() -> dict[str, Any]:
    totals = cell({}, {"registered": 156, "attended": 88, "feedback_responses": 62})
    return {
        **totals,
        "sessions_scheduled": 4,
        "sessions_delivered": 3,
        "cities_reached": 2,
        "k": 5,
        "unit": "registrations",
        "definitions": DEFINITIONS,
        "filters": {"period": "all", "training_id": None},
        "evidence": evidence_report()["evidence"],
    }
