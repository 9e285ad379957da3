"""The downloadable shapes of the reports: CSV, and the table the XLSX and PDF files render.

Every file is cut from the answer the report handlers give the JSON route, never recomputed,
so a download cannot disagree with the API or escape its suppression. A hidden count is
written as a marker, never as a number: ``<k`` for a primary one (it holds 1..k-1) and ``x``
for a complementary one (it holds k or more, so ``<k`` would be false); a mean over hidden
responses is ``x`` too. The same markers in every format, so a reader learns them once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from trainops_reporting.api.evidence_texts import EVIDENCE_TEXTS
from trainops_reporting.api.export_texts import EXPORT_TEXTS
from trainops_reporting.domain.disclosure import FEEDBACK_MEASURE, MEASURES
from trainops_reporting.domain.evidence import GAIN_FIGURES
from trainops_reporting.domain.indicators import RATIOS
from trainops_shared.console.labels import label
from trainops_shared.events.vocabulary import Language

COMPLEMENTARY_MARK: Final[str] = "x"
MEAN: Final[str] = "satisfaction_mean"
LABELLED_DIMENSIONS: Final[frozenset[str]] = frozenset(
    {"city", "sector", "sex", "age_band", "language", "mode"}
)
"""Dimensions whose values are category codes with words; training values are shown as given."""

Cell = int | float | str
"""A written value: a count or mean as a number, a marker or a label as text."""


def primary_mark(k: int) -> str:
    return f"<{k}"


def marked(value: Any, reason: str | None, k: int) -> Cell:
    """A count as published: the number, or the marker of why it is hidden ('' for none)."""
    if reason == "primary":
        return primary_mark(k)
    if reason is not None:
        return COMPLEMENTARY_MARK
    if value is None:
        return ""
    return value if isinstance(value, int | float) else str(value)


def _measures_of(entry: Mapping[str, Any], k: int) -> list[Cell]:
    flags: Mapping[str, str] = entry.get("suppressed", {})
    cells = [marked(entry[m], flags.get(m), k) for m in MEASURES]
    mean_hidden = FEEDBACK_MEASURE in flags
    cells.append(COMPLEMENTARY_MARK if mean_hidden else marked(entry[MEAN], None, k))
    return [*cells, *_ratios_of(entry)]


RATIO_CODES: Final[tuple[str, ...]] = tuple(i.code for i in RATIOS)


def _ratios_of(entry: Mapping[str, Any]) -> list[Cell]:
    """The entry's ratios: the number, ``x`` when made of a hidden count, '' when it does not
    apply (no denominator, or no such refined table)."""
    values: Mapping[str, Any] = entry.get("indicators", {})
    hidden: Mapping[str, str] = entry.get("indicators_hidden", {})
    return [
        COMPLEMENTARY_MARK
        if hidden.get(code) == "suppressed"
        else marked(values.get(code), None, 0)
        for code in RATIO_CODES
    ]


def donor_csv(report: Mapping[str, Any]) -> str:
    """Header, one line per row, then ``TOTAL``, with codes as column names and values (a
    machine-readable file); hidden counts read ``<k`` or ``x``.

    Without dimensions the first column is ``scope`` so that the ``TOTAL`` line has a label.
    """
    dims: list[str] = list(report["by"]) or ["scope"]
    k = int(report["k"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*dims, *MEASURES, MEAN, *RATIO_CODES])
    for row in report["rows"]:
        labels = [str(row.get(d, "")) for d in dims] if report["by"] else ["all"]
        writer.writerow([*labels, *_measures_of(row, k)])
    writer.writerow(["TOTAL", *[""] * (len(dims) - 1), *_measures_of(report["totals"], k)])
    evidence: Mapping[str, Any] | None = report.get("evidence")
    if evidence is not None:
        writer.writerow([])
        writer.writerow(["section", "item", "figure", "value"])
        writer.writerows(["evidence", *line] for line in evidence_lines(evidence, k))
        writer.writerows(["comments", *line] for line in comment_lines(evidence, k))
    return out.getvalue()


def _evidence_mark(value: Any, hidden: str | None, count: bool, k: int) -> Cell:
    """A figure of a hidden group: a count reads ``<k`` (the group has 1..k-1) and a mean or
    share ``x`` (made of a hidden count); '' when there is nothing to report."""
    if hidden is not None:
        return primary_mark(k) if count and hidden == "primary" else COMPLEMENTARY_MARK
    return marked(value, None, k)


def _gain_cells(gain: Mapping[str, Any], k: int) -> list[tuple[str, Cell]]:
    hidden = gain.get("suppressed")
    return [
        (name, _evidence_mark(gain.get(name), hidden, name == "pairs", k)) for name in GAIN_FIGURES
    ]


def _answer_cells(item: Mapping[str, Any], k: int) -> list[tuple[str, Cell]]:
    return [
        (str(cell["value"]), marked(cell["count"], cell.get("suppressed"), k))
        for cell in item["cells"]
    ]


def evidence_lines(evidence: Mapping[str, Any], k: int) -> list[tuple[str, str, Cell]]:
    """``(item, figure, value)`` of the evidence section: knowledge gain, then per item its
    respondents, mean (Likert) and one line per answer (``answer:<value>``)."""
    lines: list[tuple[str, str, Cell]] = [
        ("knowledge_gain", name, cell) for name, cell in _gain_cells(evidence["knowledge_gain"], k)
    ]
    for item in evidence["items"]:
        hidden = item.get("suppressed")
        code = str(item["item"])
        lines.append((code, "respondents", _evidence_mark(item["respondents"], hidden, True, k)))
        if item["kind"] == "likert":
            lines.append((code, "mean", _evidence_mark(item["mean"], hidden, False, k)))
        lines += [(code, f"answer:{value}", cell) for value, cell in _answer_cells(item, k)]
    return lines


def comment_lines(evidence: Mapping[str, Any], k: int) -> list[tuple[str, str, Cell]]:
    """``(item, figure, value)`` of each free-text item: its respondents and one
    ``comment`` line per comment in text order, or one ``comments`` line reading ``x`` for a
    group too small to show (fewer than k respondents or k comments)."""
    lines: list[tuple[str, str, Cell]] = []
    for group in evidence.get("comments", []):
        code = str(group["item"])
        if group.get("suppressed") is not None:
            lines.append((code, "comments", COMPLEMENTARY_MARK))
            continue
        lines.append((code, "respondents", marked(group["respondents"], None, k)))
        lines += [(code, "comment", str(text)) for text in group["comments"]]
    return lines


@dataclass(frozen=True, slots=True)
class ExportSection:
    """A further table of a document, under its own heading (the XLSX writes every section
    of a document on one more sheet, the PDF after the main table)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    label_columns: int = 1
    text_columns: tuple[int, ...] = ()
    """Further columns (0-based) of text, aligned as labels rather than as figures."""
    sheet: str = ""
    """The name of a sheet of its own the XLSX writes this section on ('' = the shared one)."""


@dataclass(frozen=True, slots=True)
class ExportTable:
    """A report as a person reads it: a title, the parameters it was asked with, one table
    (``label_columns`` text columns, then numbers or markers), its total line, the note."""

    lang: Language
    title: str
    parameters: tuple[tuple[str, Cell], ...]
    columns: tuple[str, ...]
    label_columns: int
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None
    note: str
    page_word: str
    filename: str
    generated_at: datetime | None = None
    """Written as the documents' creation time (and their archive entries' times), so the
    same report at the same instant gives the same bytes (frozen snapshots rely on it)."""
    sections: tuple[ExportSection, ...] = ()
    sections_title: str = ""
    """The name of the sheet (XLSX) the sections are written on."""


def texts(lang: Language) -> Mapping[str, str]:
    return EXPORT_TEXTS[lang]


def _heading(dimension: str, words: Mapping[str, str]) -> str:
    return words.get(dimension, dimension)


def _value_word(dimension: str, value: Any, lang: Language) -> str:
    text = "" if value is None else str(value)
    return label(dimension, text, lang) if dimension in LABELLED_DIMENSIONS else text


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _parameters(
    report: Mapping[str, Any], words: Mapping[str, str], generated_at: datetime
) -> list[tuple[str, Cell]]:
    filters: Mapping[str, Any] = report["filters"]
    period = str(filters["period"])
    training = filters.get("training_id")
    return [
        (words["period"], words["all_periods"] if period == "all" else period),
        (words["training"], str(training) if training else words["all_trainings"]),
        (words["k"], int(report["k"])),
        (words["unit"], words["unit_value"]),
        (words["generated"], _stamp(generated_at)),
    ]


def _note(words: Mapping[str, str], k: int) -> str:
    return words["note"].format(k=k, k1=k - 1)


def donor_table(report: Mapping[str, Any], lang: Language, generated_at: datetime) -> ExportTable:
    """The donor answer as one table: the ``by`` columns (category words in ``lang``), the
    measures, and the total line. Without dimensions the answer's only row is the total
    itself, so the table is the total line alone."""
    words = texts(lang)
    by: Sequence[str] = list(report["by"])
    k = int(report["k"])
    parameters = _parameters(report, words, generated_at)
    breakdown = ", ".join(_heading(d, words) for d in by) if by else words["no_by"]
    parameters.insert(2, (words["by"], breakdown))
    label_columns = max(len(by), 1)
    columns = (
        *(_heading(d, words) for d in by),
        *([""] if not by else []),
        *(words[m] for m in (*MEASURES, MEAN, *RATIO_CODES)),
    )
    rows = tuple(
        (*(_value_word(d, row.get(d), lang) for d in by), *_measures_of(row, k))
        for row in (report["rows"] if by else [])
    )
    total = (words["total"], *[""] * (label_columns - 1), *_measures_of(report["totals"], k))
    return ExportTable(
        lang=lang,
        title=words["donor_title"],
        parameters=tuple(parameters),
        columns=tuple(columns),
        label_columns=label_columns,
        rows=rows,
        total=total,
        note=_note(words, k),
        page_word=words["page"],
        filename="donor-report",
        generated_at=generated_at,
        sections=evidence_sections(report, lang),
        sections_title=words["evidence_title"],
    )


SUMMARY_FIGURES: Final[tuple[str, ...]] = (
    "sessions_scheduled",
    "sessions_delivered",
    *MEASURES,
    MEAN,
    "cities_reached",
)


def summary_table(report: Mapping[str, Any], lang: Language, generated_at: datetime) -> ExportTable:
    """The summary answer as a two-column table of its headline figures, hidden counts
    marked as in the donor tables (sessions and cities are never suppressed)."""
    words = texts(lang)
    k = int(report["k"])
    flags: Mapping[str, str] = report.get("suppressed", {})
    rows: list[tuple[Cell, ...]] = []
    for figure in SUMMARY_FIGURES:
        if figure == MEAN and FEEDBACK_MEASURE in flags:
            value: Cell = COMPLEMENTARY_MARK
        else:
            value = marked(report[figure], flags.get(figure), k)
        rows.append((words[figure], value))
    ratio_cells = _ratios_of(report)
    rows += [(words[code], cell) for code, cell in zip(RATIO_CODES, ratio_cells, strict=True)]
    return ExportTable(
        lang=lang,
        title=words["summary_title"],
        parameters=tuple(_parameters(report, words, generated_at)),
        columns=(words["figure"], words["value"]),
        label_columns=1,
        rows=tuple(rows),
        total=None,
        note=_note(words, k),
        page_word=words["page"],
        filename="summary-report",
        generated_at=generated_at,
        sections=evidence_sections(report, lang),
        sections_title=words["evidence_title"],
    )


def evidence_sections(report: Mapping[str, Any], lang: Language) -> tuple[ExportSection, ...]:
    """Knowledge gain and the survey items of a report as two tables, in the words of the
    evidence page; a share improved is a share (0..1) as the other ratios are."""
    evidence: Mapping[str, Any] | None = report.get("evidence")
    if evidence is None:
        return ()
    words = EVIDENCE_TEXTS[lang]
    k = int(report["k"])
    gain = ExportSection(
        title=words["gain"],
        columns=(texts(lang)["figure"], texts(lang)["value"]),
        rows=tuple(
            (words[name], cell) for name, cell in _gain_cells(evidence["knowledge_gain"], k)
        ),
    )
    rows: list[tuple[Cell, ...]] = []
    for item in evidence["items"]:
        hidden = item.get("suppressed")
        likert = item["kind"] == "likert"
        distribution = "; ".join(
            f"{value}: {shown(cell)}" for value, cell in _answer_cells(item, k)
        )
        rows.append(
            (
                str(item["item"]),
                _evidence_mark(item["respondents"], hidden, True, k),
                _evidence_mark(item["mean"], hidden, False, k) if likert else "",
                distribution,
            )
        )
    items = ExportSection(
        title=words["items"],
        columns=(words["item"], words["respondents"], words["mean"], words["distribution"]),
        rows=tuple(rows) if rows else ((words["none"], "", "", ""),),
        text_columns=(3,),
    )
    return gain, items, *_comment_sections(evidence, lang)


def _comment_sections(evidence: Mapping[str, Any], lang: Language) -> list[ExportSection]:
    """One section (and XLSX sheet) per free-text item: its comments in text order, never
    attributed, or the note that the group is too small to show them."""
    words = EVIDENCE_TEXTS[lang]
    out = []
    for group in evidence.get("comments", []):
        hidden = group.get("suppressed") is not None
        heading = f"{words['comments']}: {group['item']}"
        if not hidden:
            heading += f" ({words['respondents']}: {group['respondents']})"
        rows: tuple[tuple[Cell, ...], ...] = (
            ((words["comments_hidden"],),)
            if hidden
            else tuple((str(text),) for text in group["comments"])
        )
        sheet = f"{words['comments']} - {group['item']}"
        out.append(ExportSection(heading, (words["comments"],), rows, sheet=sheet))
    return out


def shown(cell: Cell) -> str:
    """A cell as text in a document: a mean to two decimals, as the API rounds it."""
    if isinstance(cell, float):
        return f"{cell:.2f}"
    return str(cell)
