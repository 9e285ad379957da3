"""Every answer reported under disclosure control: item distributions, knowledge gain, comments.

The same server-side k as the counts governs all three:

* an item is published only when at least k counted responses answered it; within its
  distribution a count of 1..k-1 is hidden (``primary``), and when exactly one count is hidden
  the smallest other non-zero count is hidden too (``complementary``), because the item's total
  is published and one hidden cell would otherwise be its difference;
* knowledge gain is published only over at least k matched pre/post pairs (one person's pair
  is never a figure of its own);
* comments of a group are shown only when the group has at least k comments and k
  respondents, never with who wrote them, and in an order that follows the text, not the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

Suppression = Literal["primary", "complementary"]


@dataclass(frozen=True, slots=True)
class Cell:
    value: str
    count: int | None
    suppressed: Suppression | None = None


@dataclass(frozen=True, slots=True)
class ItemFigure:
    item: str
    kind: str
    respondents: int | None
    mean: float | None
    cells: tuple[Cell, ...]
    suppressed: Suppression | None = None


def protect_cells(counts: Mapping[str, int], k: int) -> tuple[Cell, ...]:
    """The cells of one distribution with small counts hidden and, where one alone would be
    derivable from the published total, a complement hidden with it."""
    primary = {value for value, n in counts.items() if 0 < n < k}
    complementary: set[str] = set()
    if len(primary) == 1:
        others = sorted((n, value) for value, n in counts.items() if n > 0 and value not in primary)
        if others:
            complementary.add(others[0][1])
    cells = []
    for value, n in counts.items():
        if value in primary:
            cells.append(Cell(value, None, "primary"))
        elif value in complementary:
            cells.append(Cell(value, None, "complementary"))
        else:
            cells.append(Cell(value, n))
    return tuple(cells)


def likert_figure(item: str, counts: Mapping[int, int], scale: Sequence[int], k: int) -> ItemFigure:
    """Mean and distribution of a Likert item over its counted responses."""
    respondents = sum(counts.values())
    if respondents < k:
        return ItemFigure(item, "likert", None, None, (), "primary" if respondents else None)
    mean = round(sum(v * n for v, n in counts.items()) / respondents, 2)
    cells = protect_cells({str(v): counts.get(v, 0) for v in scale}, k)
    return ItemFigure(item, "likert", respondents, mean, cells)


def choice_figure(
    item: str,
    kind: str,
    respondents: int,
    counts: Mapping[str, int],
    options: Sequence[str],
    k: int,
) -> ItemFigure:
    """How many respondents chose each option (a multiple choice may sum past the respondents,
    so cells are protected one by one and the total is the respondents)."""
    if respondents < k:
        return ItemFigure(item, kind, None, None, (), "primary" if respondents else None)
    ordered = {option: counts.get(option, 0) for option in options}
    for option, n in counts.items():
        ordered.setdefault(option, n)
    if kind == "single":
        cells = protect_cells(ordered, k)
    else:
        cells = tuple(
            Cell(o, None, "primary") if 0 < n < k else Cell(o, n) for o, n in ordered.items()
        )
    return ItemFigure(item, kind, respondents, None, cells)


@dataclass(frozen=True, slots=True)
class Pair:
    """One person's pre- and post-test result as fractions of the maximum (0..1)."""

    pre: float
    post: float


@dataclass(frozen=True, slots=True)
class KnowledgeGain:
    pairs: int | None
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    """Mean of post − pre, in percentage points of the maximum score."""
    share_improved: float | None
    """Share of pairs whose post-test result is higher than their pre-test result."""
    suppressed: Suppression | None = None


GAIN_FIGURES: Final[tuple[str, ...]] = (
    "pairs",
    "mean_pre",
    "mean_post",
    "mean_gain",
    "share_improved",
)
"""The published figures of a :class:`KnowledgeGain`, in the order reports list them."""


def knowledge_gain(pairs: Sequence[Pair], k: int) -> KnowledgeGain:
    if len(pairs) < k:
        return KnowledgeGain(None, None, None, None, None, "primary" if pairs else None)
    n = len(pairs)
    mean_pre = sum(p.pre for p in pairs) / n
    mean_post = sum(p.post for p in pairs) / n
    improved = sum(1 for p in pairs if p.post > p.pre)
    return KnowledgeGain(
        pairs=n,
        mean_pre=round(100 * mean_pre, 2),
        mean_post=round(100 * mean_post, 2),
        mean_gain=round(100 * (mean_post - mean_pre), 2),
        share_improved=round(improved / n, 4),
    )


def fraction(score: int, max_score: int) -> float:
    """A score as a fraction of its version's maximum (versions may differ in length)."""
    return score / max_score if max_score > 0 else 0.0


@dataclass(frozen=True, slots=True)
class CommentGroup:
    respondents: int | None
    comments: tuple[str, ...]
    suppressed: Suppression | None = None


def comment_group(respondents: int, texts: Sequence[str], k: int) -> CommentGroup:
    """The comments of a group, or nothing when the group is too small to hide its authors."""
    if respondents < k or len(texts) < k:
        return CommentGroup(None, (), "primary" if texts else None)
    return CommentGroup(respondents, tuple(sorted(texts, key=lambda t: (t.casefold(), t))))


@dataclass(frozen=True, slots=True)
class ItemComments:
    """The comments of one free-text item over a report's window, protected as a group."""

    item: str
    respondents: int | None
    comments: tuple[str, ...]
    suppressed: Suppression | None = None


def item_comments(
    respondents: int, texts_by_item: Mapping[str, Sequence[str]], k: int
) -> list[ItemComments]:
    """Each item's comments as a group of the window's respondents (``comment_group``), in
    item order; an item with fewer than k comments shows none, only that it was hidden."""
    out = []
    for item in sorted(texts_by_item):
        group = comment_group(respondents, texts_by_item[item], k)
        out.append(ItemComments(item, group.respondents, group.comments, group.suppressed))
    return out
