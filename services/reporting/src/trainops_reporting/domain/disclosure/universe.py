"""The universe of publishable cells: every table any report request can cut out, and the
adding-up lines between them.

Why one universe: a table protected on its own is not protected once other tables of the same
data are published beside it (an attacker combines breakdowns, margins, the summary and periods
in one linear program). So every table a request may publish is a marginal of the same finest
cells, and one suppression pattern (``planner``) covers them all.

* **Unit.** Every count is additive over registrations (a person's sitting in one session), so a
  year is the sum of its quarters and every breakdown of a period adds up to the same total.
* **Cells.** The finest cells are (month of the session start, city, sector, sex, age band,
  language, mode, training). The published cells are the marginals of ``shapes()`` (the total,
  each dimension, ``city × d``) of every offered reporting period. A ``training_id`` filter with
  at most one more dimension reads cells of the ``city × training`` or ``training`` marginals.
* **Lines.** ``children - parent = 0``: the cells of a marginal along one dimension sum to the
  marginal without it, and the periods of a period sum to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from trainops_reporting.domain.categories import DIMENSIONS

MEASURES: Final[tuple[str, ...]] = ("registered", "attended", "feedback_responses")
FEEDBACK_MEASURE: Final[str] = "feedback_responses"
MAX_BY: Final[int] = 2
"""Dimensions one table may combine (training included); bounds the universe, hence the work."""
PERIOD_LEVELS: Final[tuple[str, ...]] = ("all", "year", "quarter", "month")
"""Every level of reporting period the code supports, coarsest first; each sums the next."""
DEFAULT_PERIOD_LEVELS: Final[tuple[str, ...]] = ("all",)
"""Levels a default install offers (``REPORT_PERIODS``). Years and quarters are supported but
cost much more protection and time on small programmes (docs/disclosure-control.md)."""

Shape = tuple[str, ...]
"""Dimensions of a marginal, in ``DIMENSIONS`` order."""
CellId = tuple[str, Shape, tuple[str, ...]]
"""(period, shape, values of the shape's dimensions)."""


@dataclass(frozen=True, slots=True)
class FinestCell:
    """Registrations of one month and one combination of every dimension (``DIMENSIONS``)."""

    month: str  # YYYY-MM of the session start (UTC)
    key: tuple[str, ...]
    registered: int
    attended: int
    feedback_responses: int
    overall_sum: int = 0
    overall_count: int = 0

    def count(self, measure: str) -> int:
        value: int = getattr(self, measure)
        return value


def quarter_of(month: str) -> str:
    year, number = month.split("-")
    return f"{year}-Q{(int(number) - 1) // 3 + 1}"


def periods_of(month: str, levels: Sequence[str] = PERIOD_LEVELS) -> list[str]:
    """The reporting periods a month belongs to, coarsest first (``all``, year, quarter, month)."""
    names = {"all": "all", "year": month[:4], "quarter": quarter_of(month), "month": month}
    return [names[level] for level in levels]


HUB: Final[str] = "city"
"""The one dimension a two-dimensional table must contain (see ``shapes``)."""


def shapes(max_by: int = MAX_BY) -> list[Shape]:
    """Requestable marginals: the total, every single dimension, and ``city × d``.

    Every two-dimensional table shares ``city``, so the set of tables is *decomposable* (a
    star around city): any published city × d tables that agree on their city margins are
    realised by some table over all dimensions at once (take the dimensions independent within
    each city). The attacker's LP over the finest cells therefore proves exactly what the LP
    over the published cells and their adding-up lines proves, which is small enough to solve
    for every hidden cell. Tables such as sex × age band would close cycles and make the
    finest-cell LP both far stronger and far bigger (see docs/disclosure-control.md).
    """
    out: list[Shape] = [()]
    out += [(d,) for d in DIMENSIONS]
    if max_by >= 2:
        out += [shape_of((HUB, d)) for d in DIMENSIONS if d != HUB]
    return out


def requestable(by: Sequence[str]) -> bool:
    """Whether a breakdown is one of ``shapes()`` (in any order)."""
    return len(by) == len(set(by)) and shape_of(by) in set(shapes()) and len(by) <= MAX_BY


def shape_of(by: Iterable[str]) -> Shape:
    wanted = set(by)
    return tuple(d for d in DIMENSIONS if d in wanted)


@dataclass
class Universe:
    """Every publishable cell with its raw sums, the finest cells it adds up, and the lines."""

    finest: tuple[FinestCell, ...]
    levels: tuple[str, ...]
    max_by: int
    sums: dict[CellId, list[int]] = field(default_factory=dict)
    """Per cell: registered, attended, feedback_responses, overall_sum, overall_count."""
    members: dict[CellId, list[int]] = field(default_factory=dict)
    lines: list[tuple[CellId, ...]] = field(default_factory=list)

    def value(self, cell: CellId, measure: str) -> int:
        sums = self.sums.get(cell)
        return 0 if sums is None else sums[MEASURES.index(measure)]


def build_universe(
    finest: Iterable[FinestCell],
    levels: Sequence[str] = DEFAULT_PERIOD_LEVELS,
    max_by: int = MAX_BY,
) -> Universe:
    cells = tuple(f for f in finest if f.registered or f.attended or f.feedback_responses)
    universe = Universe(cells, tuple(levels), max_by)
    index = {d: i for i, d in enumerate(DIMENSIONS)}
    all_shapes = [(s, tuple(index[d] for d in s)) for s in shapes(max_by)]
    sums = universe.sums
    members = universe.members
    for i, cell in enumerate(cells):
        counts = (
            cell.registered,
            cell.attended,
            cell.feedback_responses,
            cell.overall_sum,
            cell.overall_count,
        )
        for period in periods_of(cell.month, levels):
            for shape, positions in all_shapes:
                cid = (period, shape, tuple(cell.key[p] for p in positions))
                total = sums.get(cid)
                if total is None:
                    sums[cid] = list(counts)
                    members[cid] = [i]
                else:
                    for j in range(5):
                        total[j] += counts[j]
                    members[cid].append(i)
    universe.lines = _lines(universe)
    return universe


def _parent_period(period: str, levels: Sequence[str]) -> str | None:
    if period == "all":
        return None
    if len(period) == 4:
        return "all" if "all" in levels else None
    if "Q" in period:
        return period[:4] if "year" in levels else ("all" if "all" in levels else None)
    if "quarter" in levels:
        return quarter_of(period)
    if "year" in levels:
        return period[:4]
    return "all" if "all" in levels else None


def _lines(universe: Universe) -> list[tuple[CellId, ...]]:
    groups: dict[tuple[str, str, CellId], list[CellId]] = defaultdict(list)
    for cid in universe.sums:
        period, shape, values = cid
        for position, dim in enumerate(shape):
            parent = (
                period,
                shape[:position] + shape[position + 1 :],
                values[:position] + values[position + 1 :],
            )
            groups[("dim", dim, parent)].append(cid)
        parent_period = _parent_period(period, universe.levels)
        if parent_period is not None:
            groups[("period", "", (parent_period, shape, values))].append(cid)
    lines: list[tuple[CellId, ...]] = []
    for (_, _, parent), children in groups.items():
        lines.append((*children, parent))
    return lines


def containing(universe: Universe, finest: int) -> list[CellId]:
    """Every published cell a finest cell adds to."""
    cell = universe.finest[finest]
    index = {d: i for i, d in enumerate(DIMENSIONS)}
    return [
        (period, shape, tuple(cell.key[index[d]] for d in shape))
        for period in periods_of(cell.month, universe.levels)
        for shape in shapes(universe.max_by)
    ]


def lines_of(universe: Universe) -> dict[CellId, list[int]]:
    """For each cell, the indices of the lines it is a member of."""
    member_of: dict[CellId, list[int]] = defaultdict(list)
    for ln, line in enumerate(universe.lines):
        for cid in line:
            member_of[cid].append(ln)
    return member_of
