"""Each free-text item's comments in the downloads: CSV lines, an XLSX sheet, a PDF section."""

from __future__ import annotations

import io
from typing import Any

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from test_export_documents import AT, evidence_report

from trainops_reporting.api.export_pdf import pdf_bytes
from trainops_reporting.api.export_xlsx import xlsx_bytes
from trainops_reporting.api.exports import donor_csv, donor_table

pytestmark = pytest.mark.unit


def commented_report() -> dict[str, Any]:
    """The evidence report with one item's comments shown and one item's hidden."""
    report = evidence_report()
    report["evidence"]["comments"] = [
        {
            "item": "comment",
            "respondents": 14,
            "comments": ["Жақсы өтті", "more practice, please", "Очень полезно"],
            "suppressed": None,
        },
        {"item": "improve", "respondents": None, "comments": [], "suppressed": "primary"},
    ]
    return report


def test_the_csv_lists_each_items_comments_never_a_hidden_group() -> None:
    lines = donor_csv(commented_report()).splitlines()
    assert lines[-5:] == [
        "comments,comment,respondents,14",
        "comments,comment,comment,Жақсы өтті",
        'comments,comment,comment,"more practice, please"',
        "comments,comment,comment,Очень полезно",
        "comments,improve,comments,x",
    ]
    assert not any(line.startswith("comments,") for line in donor_csv(evidence_report()).split())


def test_the_workbook_has_a_sheet_per_commented_item() -> None:
    content = xlsx_bytes(donor_table(commented_report(), "en", AT))
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "Donor report",
        "Learning evidence",
        "Comments - comment",
        "Comments - improve",
    ]
    shown_sheet = [[c.value for c in row] for row in book.worksheets[2].iter_rows()]
    assert shown_sheet[0] == ["Comments: comment (Respondents: 14)"]
    assert shown_sheet[-4:] == [
        ["Comments"],
        ["Жақсы өтті"],
        ["more practice, please"],
        ["Очень полезно"],
    ]
    hidden_sheet = [[c.value for c in row] for row in book.worksheets[3].iter_rows()]
    assert hidden_sheet[-2:] == [["Comments"], ["Too few comments in this group to show them."]]
    assert xlsx_bytes(donor_table(commented_report(), "en", AT)) == content  # same bytes


def test_the_pdf_has_a_section_per_commented_item() -> None:
    content = pdf_bytes(donor_table(commented_report(), "ru", AT))
    assert pdf_bytes(donor_table(commented_report(), "ru", AT)) == content
    text = "\n".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(content))
    shown_at = text.index("Комментарии: comment (Ответили: 14)")
    hidden_at = text.index("Комментарии: improve")
    assert text.index("Каждый вопрос анкеты") < shown_at < hidden_at
    for comment in ("Жақсы өтті", "more practice, please", "Очень полезно"):
        assert shown_at < text.index(comment) < hidden_at, comment
    assert "В этой группе слишком мало комментариев" in text[hidden_at:]
