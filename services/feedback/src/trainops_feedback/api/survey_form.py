"""The survey form as typed: its rows read back into a definition, and each problem placed
next to the field it belongs to.

Options are one a line (``key | kk | ru | en``, a leading ``*`` marks a correct one), which
keeps a 412 px form short. The domain names a problem by its place in the definition
(``items[2].text.kk``); the page needs the form control (``item-2-kk``), and the row index is
the same because a re-shown form keeps only the non-blank rows it checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from trainops_feedback.domain.definitions import KINDS, LANGUAGES, Definition, Item, Option

MAX_ROWS: Final = 80
"""Rows read from one post: the domain's 60 items and room for the blank ones."""
ITEM_FIELD: Final = re.compile(r"^items\[(\d+)\]\.(\w+)(?:\.(\w+))?")


@dataclass(slots=True)
class ItemRow:
    """One item row of the form as typed (kept verbatim to re-show it)."""

    key: str = ""
    kind: str = "likert"
    text: dict[str, str] = field(default_factory=dict)
    required: bool = True
    scored: bool = False
    options: str = ""

    @property
    def blank(self) -> bool:
        return not self.key.strip() and not any(v.strip() for v in self.text.values())


def option_lines(item: Item) -> str:
    return "\n".join(
        ("*" if option.correct else "")
        + " | ".join([option.key, *(option.text.get(lang, "") for lang in LANGUAGES)])
        for option in item.options
    )


def rows_of(definition: Definition) -> list[ItemRow]:
    return [
        ItemRow(
            key=item.key,
            kind=item.kind,
            text=dict(item.text),
            required=item.required,
            scored=item.scored,
            options=option_lines(item),
        )
        for item in definition.items
    ]


def rows_from_form(form: Mapping[str, Sequence[str]]) -> list[ItemRow]:
    """The rows posted, in order; ``rows`` says how many the form had."""
    count_text = form_value(form, "rows")
    count = int(count_text) if count_text.isdigit() else 0
    rows = []
    for n in range(min(count, MAX_ROWS)):
        prefix = f"item-{n}-"
        rows.append(
            ItemRow(
                key=form_value(form, prefix + "key"),
                kind=form_value(form, prefix + "kind"),
                text={lang: form_value(form, prefix + lang) for lang in LANGUAGES},
                required=bool(form.get(prefix + "required")),
                scored=bool(form.get(prefix + "scored")),
                options=form_value(form, prefix + "options").replace("\r\n", "\n"),
            )
        )
    return rows


def parse_options(text: str, where: str, problems: dict[str, str], wrong: str) -> list[Option]:
    options = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        correct = line.lstrip().startswith("*")
        parts = [part.strip() for part in line.lstrip().removeprefix("*").split("|")]
        if len(parts) != 1 + len(LANGUAGES):
            problems[f"{where}.options"] = wrong
            continue
        options.append(
            Option(key=parts[0], text=dict(zip(LANGUAGES, parts[1:], strict=True)), correct=correct)
        )
    return options


def definition_from(
    title: dict[str, str], rows: list[ItemRow], wrong_options: str
) -> tuple[Definition | None, dict[str, str]]:
    """The definition the form describes, or the problems only the form can have (an option
    line without its four parts, an unknown kind); the domain checks the rest."""
    problems: dict[str, str] = {}
    items = []
    for index, row in enumerate(row for row in rows if not row.blank):
        where = f"items[{index}]"
        if row.kind not in KINDS:
            problems[f"{where}.kind"] = f"one of {', '.join(KINDS)}"
            continue
        items.append(
            Item(
                key=row.key,
                kind=row.kind,
                text=row.text,
                required=row.required,
                scored=row.scored,
                options=tuple(parse_options(row.options, where, problems, wrong_options)),
            )
        )
    if problems:
        return None, problems
    return Definition(title=title, items=tuple(items)), {}


def form_value(form: Mapping[str, Sequence[str]], name: str) -> str:
    """The last value posted under ``name`` (a browser sends one; a replay may send more)."""
    values = form.get(name) or [""]
    return values[-1].strip()


def title_from(form: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {lang: form_value(form, f"title_{lang}") for lang in LANGUAGES}


def field_errors(problems: Mapping[str, str]) -> dict[str, str]:
    """Each problem under the form control it belongs to: ``title.kk`` → ``title_kk``,
    ``items[1].text.ru`` → ``item-1-ru``, ``items[1].options[0].key`` → ``item-1-options``; a
    text missing in some language (``items[1].text``) stays under ``item-1-text`` for the page
    to show beside each empty one. The first problem of a control wins."""
    out: dict[str, str] = {}
    for where, message in problems.items():
        found = ITEM_FIELD.match(where)
        if found is None:
            name = where.replace(".", "_")
        else:
            index, part, lang = found.groups()
            if part == "text" and lang in LANGUAGES:
                part = lang
            name = f"item-{index}-{part}"
        out.setdefault(name, message)
    return out


def anchor_of(where: str) -> str:
    """The element a problem's entry in the page's summary links to: the question's fieldset
    for an item's problem, the control itself otherwise."""
    found = ITEM_FIELD.match(where)
    if found is not None:
        return f"item-{found.group(1)}"
    if where == "title" or where.startswith("title."):
        return "title-fields"
    if where == "items":
        return "items-start"
    return f"f-{where}"
