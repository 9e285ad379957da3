"""Horizontal bar charts as inline SVG, drawn on the server from published report cells.

The pages carry no script and a CSP without inline styles, so a chart is plain SVG markup with
presentation attributes. It must read without colour: every series has its own fill pattern
shown in the legend, every bar carries its number as text, and a hidden cell is never drawn as
a value: it gets a hatched box of one fixed width (a width proportional to anything would hint
at the hidden count) followed by its mark (``<k`` or the word for hidden). The chart is a
picture of the data table the page prints beside it, so ``role="img"`` with a title suffices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

WIDTH: Final = 400
BAR_HEIGHT: Final = 14
BAR_GAP: Final = 4
LABEL_HEIGHT: Final = 16
GROUP_GAP: Final = 8
LEGEND_HEIGHT: Final = 24
VALUE_ROOM: Final = 84
"""Width kept right of the longest bar for its number."""
HIDDEN_WIDTH: Final = 36
FONT_SIZE: Final = 12
INK: Final = "#1a1a1a"
FILLS: Final = ("solid", "dots")
"""Fill of each series in order: a dark solid bar, then a light dotted one with an outline."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One published cell: its value, or why it is hidden (``primary``/``complementary``);
    ``value`` ``None`` and not hidden is a measure with nothing to measure."""

    value: float | None
    hidden: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """One category (a city, a month) with a bar per series."""

    label: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class Marks:
    """The words a chart prints, in the page's language."""

    primary: str
    """Mark of a hidden count from 1 to k-1, e.g. ``<5``."""
    complementary: str
    """Mark of a count hidden so that no small one can be derived."""
    legend_hidden: str
    no_value: str = "–"
    """Shown where there is nothing to measure (a mean without responses)."""


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else str(round(value))


def _defs(chart_id: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{chart_id}-dots" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#ffffff"/>'
        f'<circle cx="2" cy="2" r="1" fill="{INK}"/></pattern>'
        f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="2"/></pattern>'
        "</defs>"
    )


def _fill(chart_id: str, series: int) -> str:
    return "#1f4e79" if FILLS[series % len(FILLS)] == "solid" else f"url(#{chart_id}-dots)"


def _swatch(chart_id: str, x: float, fill: str, text: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="3 2"' if dashed else ""
    return (
        f'<rect x="{x}" y="4" width="14" height="12" fill="{fill}" stroke="{INK}"{dash}/>'
        f'<text x="{x + 18}" y="14" font-size="{FONT_SIZE}" fill="{INK}">{escape(text)}</text>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    series: Sequence[str],
    groups: Sequence[Group],
    marks: Marks,
    *,
    scale_max: float | None = None,
    decimals: int = 0,
) -> str:
    """The SVG of ``groups``, one bar per series each, scaled to the largest shown value (or
    ``scale_max``). ``chart_id`` prefixes the element ids, so several charts share a page."""
    if any(len(group.bars) != len(series) for group in groups):
        raise ValueError("every group needs one bar per series")
    shown = [bar.value for group in groups for bar in group.bars if bar.hidden is None]
    top = (
        scale_max if scale_max is not None else max((v for v in shown if v is not None), default=0)
    )
    span = WIDTH - VALUE_ROOM
    group_height = LABEL_HEIGHT + len(series) * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP
    height = LEGEND_HEIGHT + max(len(groups), 1) * group_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-title" '
        'font-family="sans-serif">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        _defs(chart_id),
    ]
    x = 0.0
    for index, name in enumerate(series):
        parts.append(_swatch(chart_id, x, _fill(chart_id, index), name))
        x += 18 + 7 * len(name) + 14
    parts.append(_swatch(chart_id, x, f"url(#{chart_id}-hatch)", marks.legend_hidden, True))
    y = float(LEGEND_HEIGHT)
    for group in groups:
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="{FONT_SIZE}" font-weight="bold" '
            f'fill="{INK}">{escape(group.label)}</text>'
        )
        y += LABEL_HEIGHT
        for index, bar in enumerate(group.bars):
            text_y = y + BAR_HEIGHT - 3
            if bar.hidden is not None:
                mark = marks.primary if bar.hidden == "primary" else marks.complementary
                parts.append(
                    f'<rect class="bar hidden" x="0" y="{y}" width="{HIDDEN_WIDTH}" '
                    f'height="{BAR_HEIGHT}" fill="url(#{chart_id}-hatch)" stroke="{INK}" '
                    'stroke-dasharray="3 2"/>'
                    f'<text x="{HIDDEN_WIDTH + 4}" y="{text_y}" font-size="{FONT_SIZE}" '
                    f'fill="{INK}">{escape(series[index])}: {escape(mark)}</text>'
                )
            elif bar.value is None:
                parts.append(
                    f'<text x="0" y="{text_y}" font-size="{FONT_SIZE}" fill="{INK}">'
                    f"{escape(series[index])}: {escape(marks.no_value)}</text>"
                )
            else:
                width = round(span * bar.value / top, 1) if top > 0 else 0
                parts.append(
                    f'<rect class="bar" x="0" y="{y}" width="{width}" height="{BAR_HEIGHT}" '
                    f'fill="{_fill(chart_id, index)}" stroke="{INK}"/>'
                    f'<text x="{width + 4}" y="{text_y}" font-size="{FONT_SIZE}" '
                    f'fill="{INK}">{_number(bar.value, decimals)}</text>'
                )
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP
    parts.append("</svg>")
    return "".join(parts)
