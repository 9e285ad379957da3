"""A report table as an A4 PDF, built in memory with the vendored DejaVu Sans.

The fonts are embedded (subset) so Kazakh and Russian letters render the same on every reader,
whatever fonts its host has. The disclosure note is in every page's footer: a page printed
alone still says what ``<k`` and ``x`` mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import as_file, files
from typing import Final

from fpdf import FPDF, FontFace
from fpdf.enums import Align

from trainops_reporting.api.exports import Cell, ExportTable, shown

PDF_MEDIA_TYPE: Final[str] = "application/pdf"
FONT_FAMILY: Final[str] = "DejaVu"
_FONTS: Final = files("trainops_shared") / "static" / "fonts" / "dejavu-2.37"
_MARGIN: Final[float] = 15
_FOOTER: Final[float] = 26
"""Room kept at the bottom of each page for the note and the page number (mm)."""
_HEADER_FILL: Final[tuple[int, int, int]] = (221, 228, 238)


class _Document(FPDF):
    def __init__(self, table: ExportTable) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._table = table
        for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
            with as_file(_FONTS / name) as path:
                self.add_font(FONT_FAMILY, style, path)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_FOOTER)
        self.set_title(table.title)
        self.set_lang(table.lang)
        self.set_creator("trainops reporting")
        if table.generated_at is not None:
            self.set_creation_date(table.generated_at)

    def footer(self) -> None:
        self.set_y(-_FOOTER + 4)
        self.set_font(FONT_FAMILY, size=7)
        self.set_text_color(70, 70, 70)
        self.multi_cell(0, 3.4, self._table.note, new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5, f"{self._table.page_word} {self.page_no()} / {{nb}}", align=Align.R)
        self.set_text_color(0, 0, 0)


def _column_widths(
    pdf: FPDF, columns: Sequence[str], lines: Sequence[Sequence[Cell]]
) -> list[float]:
    """Widths in proportion to what each column must hold: its longest value, and the longest
    word of its heading (headings wrap between words, never inside one). A narrow table (the
    summary's two columns) keeps about its natural width rather than spanning the page."""
    pdf.set_font(FONT_FAMILY, "B", 9)
    needed = [max(pdf.get_string_width(word) for word in [*name.split(), ""]) for name in columns]
    pdf.set_font(FONT_FAMILY, size=9)
    for line in lines:
        for index, value in enumerate(line):
            needed[index] = max(needed[index], pdf.get_string_width(shown(value)))
    return [width + 4 for width in needed]


def _align(index: int, labels: int, text_columns: Sequence[int]) -> Align:
    return Align.L if index < labels or index in text_columns else Align.R


_SECTION_START: Final[float] = 30
"""Room (mm) a section's heading needs below it, or it starts on the next page with its table."""


def _grid(
    pdf: FPDF,
    columns: Sequence[str],
    labels: int,
    widths: Sequence[float],
    rows: Sequence[Sequence[Cell]],
    total: Sequence[Cell] | None,
    text_columns: Sequence[int] = (),
) -> None:
    """One table, its header row repeated on every page it runs to, a total line in bold."""
    bold = FontFace(emphasis="BOLD")
    pdf.set_font(FONT_FAMILY, size=9)
    with pdf.table(
        col_widths=tuple(widths),
        width=min(pdf.epw, 1.5 * sum(widths)),
        align="LEFT",
        line_height=5,
        headings_style=FontFace(emphasis="BOLD", fill_color=_HEADER_FILL),
        repeat_headings=1,
        text_align="LEFT",
        padding=1.2,
    ) as grid:
        heading = grid.row()
        for index, name in enumerate(columns):
            heading.cell(name, align=_align(index, labels, text_columns))
        lines: list[tuple[Sequence[Cell], FontFace | None]] = [(line, None) for line in rows]
        if total is not None:
            lines.append((total, bold))
        for line, style in lines:
            row = grid.row()
            for index, value in enumerate(line):
                align = _align(index, labels, text_columns)
                row.cell(shown(value), align=align, style=style)


def pdf_bytes(table: ExportTable) -> bytes:
    """Title, parameters, then the table; its header row repeats on every page it runs to.
    The pages are landscape when the table is too wide for portrait."""
    pdf = _Document(table)
    lines = [*table.rows, *([table.total] if table.total is not None else [])]
    widths = _column_widths(pdf, table.columns, lines)
    # A table wider than a portrait page (a two-way breakdown with every indicator) turns the
    # page rather than breaking its headings inside words.
    pdf.add_page(orientation="landscape" if sum(widths) > pdf.epw else "portrait")
    pdf.set_font(FONT_FAMILY, "B", 15)
    pdf.multi_cell(0, 8, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(FONT_FAMILY, "B", 9)
    names_width = max(pdf.get_string_width(name) for name, _ in table.parameters) + 5
    for name, setting in table.parameters:
        pdf.set_font(FONT_FAMILY, "B", 9)
        pdf.cell(names_width, 5, name)
        pdf.set_font(FONT_FAMILY, size=9)
        pdf.multi_cell(0, 5, shown(setting), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    _grid(pdf, table.columns, table.label_columns, widths, table.rows, table.total)
    for section in table.sections:
        pdf.ln(6)
        if pdf.will_page_break(_SECTION_START):
            pdf.add_page(orientation=pdf.cur_orientation.value)  # as the page before
        pdf.set_font(FONT_FAMILY, "B", 11)
        pdf.multi_cell(0, 6, section.title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        # a section's widest text (a distribution) wraps within the page rather than widening it
        section_widths = _column_widths(pdf, section.columns, section.rows)
        if sum(section_widths) > pdf.epw:
            spare = pdf.epw - sum(section_widths[:-1])
            section_widths[-1] = max(spare, pdf.epw / (2 * len(section_widths)))
        _grid(
            pdf,
            section.columns,
            section.label_columns,
            section_widths,
            section.rows,
            None,
            section.text_columns,
        )
    return bytes(pdf.output())
