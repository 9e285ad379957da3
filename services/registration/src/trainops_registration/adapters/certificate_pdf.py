"""A participant's certificate as a one-page A4 PDF (landscape), built in memory.

The vendored DejaVu Sans is embedded (subset), so the Kazakh letters (ә, ғ, қ, ң, ө, ұ, ү,
һ, і) and Russian ones render the same on every reader whatever fonts its host has. The page
carries the verification URL in full: whoever holds the paper can type it.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from typing import Final

from fpdf import FPDF
from fpdf.enums import Align

from trainops_registration.domain.followup_messages import (
    FollowupFacts,
    place,
    training_name,
    words,
)
from trainops_registration.domain.messages import local_span

FONT: Final = "DejaVu"
_FONTS: Final = files("trainops_shared") / "static" / "fonts" / "dejavu-2.37"
_INK: Final = (28, 43, 70)
_MUTED: Final = (90, 90, 90)


def certificate_pdf(facts: FollowupFacts, issued_on: str) -> bytes:
    """The certificate of ``facts`` (kind ``certificate``); ``issued_on`` as the page shows it."""
    w = words(facts.language)
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        with as_file(_FONTS / name) as path:
            pdf.add_font(FONT, style, path)
    training = training_name(facts.training_title, facts.language)
    pdf.set_title(f"{w['cert.title']} — {training}")
    pdf.set_lang(facts.language)
    pdf.set_creator("trainops registration")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    width = pdf.w - 60
    pdf.set_xy(30, 34)
    pdf.set_text_color(*_INK)
    pdf.set_font(FONT, "B", 30)
    pdf.multi_cell(width, 14, w["cert.title"], align=Align.C, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_x(30)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=14)
    pdf.multi_cell(width, 8, w["cert.certifies"], align=Align.C, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_x(30)
    pdf.set_font(FONT, "B", 24)
    pdf.multi_cell(width, 12, facts.full_name, align=Align.C, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_x(30)
    pdf.set_font(FONT, size=14)
    pdf.multi_cell(width, 8, w["cert.completed"], align=Align.C, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_x(30)
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 10, f"«{training}»", align=Align.C, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _, span = local_span(facts.starts_at, facts.ends_at, facts.timezone)
    pdf.set_x(30)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(
        width, 7, f"{span} · {place(facts)}", align=Align.C, new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_xy(30, pdf.h - 52)
    pdf.set_text_color(*_MUTED)
    pdf.set_font(FONT, size=10)
    lines = [
        f"{w['cert.number']}: {facts.certificate_id}",
        f"{w['cert.issued']}: {issued_on}",
        f"{w['cert.verify']}: {facts.verify_url or ''}",
    ]
    for line in lines:
        pdf.set_x(30)
        pdf.multi_cell(width, 6, line, align=Align.C, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
