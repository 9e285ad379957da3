"""Repair of text stored before the input checks refused control and bidi characters.

Names, titles and organisations written before :func:`trainops_shared.validation.check_text`
existed may hold a NUL, an escape sequence or a right-to-left override, which then reach pages,
CSV cells and exports. A migration cannot ask anyone what was meant, so it keeps every readable
character and drops exactly what ``check_text`` refuses today (in a single-line field a tab or
line break becomes a space, as the input side collapses whitespace). A value left with nothing
readable becomes U+FFFD (the Unicode replacement character) where the column requires text, so
the damage shows instead of an empty name, and NULL where the column is optional. The migration
logs how many rows of each column it changed, never a value: the values are personal data.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from trainops_shared.validation import BIDI_CONTROLS, MULTILINE_ALLOWED

REPLACEMENT: Final[str] = "\ufffd"
_log = structlog.get_logger(__name__)


def _refused(char: str) -> bool:
    return char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs")


def clean_text(value: str, *, multiline: bool = False, collapse: bool = False) -> str:
    """``value`` without the characters ``check_text`` refuses (``multiline`` keeps tab, CR and
    LF; otherwise they become spaces). ``collapse``: runs of whitespace become one space and the
    ends are trimmed, as names are stored."""
    out = []
    for char in value:
        if char in MULTILINE_ALLOWED:
            out.append(char if multiline else " ")
        elif not _refused(char):
            out.append(char)
    text = "".join(out)
    return " ".join(text.split()) if collapse else text


@dataclass(frozen=True, slots=True)
class TextColumn:
    """A column to repair: plain text, or a JSON object of texts (``titles`` per language)."""

    name: str
    multiline: bool = False
    collapse: bool = False
    nullable: bool = False
    json_texts: bool = False


def _clean_one(value: str, column: TextColumn) -> str | None:
    cleaned = clean_text(value, multiline=column.multiline, collapse=column.collapse)
    if cleaned == value:
        return value
    if cleaned.strip():
        return cleaned
    return None if column.nullable else REPLACEMENT


def _clean(value: Any, column: TextColumn) -> Any:
    if value is None:
        return None
    if column.json_texts and isinstance(value, Mapping):
        return {
            key: (_clean_one(text, column) or REPLACEMENT) if isinstance(text, str) else text
            for key, text in value.items()
        }
    if isinstance(value, str):
        return _clean_one(value, column)
    return value


def repair_text_columns(
    conn: Connection,
    table: sa.Table,
    key: str,
    columns: Sequence[TextColumn],
    *,
    derive: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> dict[str, int]:
    """Rewrite each row of ``table`` whose ``columns`` hold refused characters; return how
    many rows changed per column. ``derive(changes)`` adds columns computed from the changed
    ones (a name's search key). Logs one line per changed column: table, column, row count."""
    rows = conn.execute(sa.select(table.c[key], *(table.c[c.name] for c in columns))).all()
    counts = {c.name: 0 for c in columns}
    for row in rows:
        changes: dict[str, Any] = {}
        for column in columns:
            old = getattr(row, column.name)
            new = _clean(old, column)
            if new != old:
                changes[column.name] = new
                counts[column.name] += 1
        if changes:
            if derive is not None:
                changes.update(derive(changes))
            conn.execute(table.update().where(table.c[key] == getattr(row, key)).values(changes))
    for name, changed in counts.items():
        if changed:
            _log.warning(
                "stored_text_cleaned",
                table=table.name,
                column=name,
                rows=changed,
                why="control or bidi characters stored before input checks refused them",
            )
    return counts
