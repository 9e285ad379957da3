"""One suppression pattern for everything reporting staff can request, proven by linear programs.

Why one pattern: a table protected on its own (``domain.suppression``) is not protected once
other tables of the same data are published beside it. An attacker who combines several ``by``
breakdowns, their margins, the summary and several periods can set up a linear program over the
finest cells and recover hidden small counts exactly. So every table a request may publish is cut
from one joint *universe* and one joint pattern:

* **Unit.** Every count is additive over registrations (a person's sitting in one session), so a
  year is the sum of its quarters and every breakdown of a period adds up to the same total.
* **Universe.** The finest cells are (month of the session start, city, sector, sex, age band,
  language, mode, training). The published cells are every marginal of at most
  ``MAX_BY`` dimensions (training counting as one of them) of every reporting period (``all``,
  each year, quarter and month that has data). A ``training_id`` filter with at most one more
  dimension reads cells of the ``training × dimension`` marginals, hence of the same universe.
* **Primary.** A count of 1..k-1 is hidden (``primary``). Zeros are published.
* **Complementary.** Each published cell is one member of *lines* ``children - parent = 0``: the
  cells of a marginal along one dimension sum to the marginal without it, and the periods of a
  period sum to it. A line with one hidden member gives it away, so another member is hidden
  (``complementary``), the smallest non-zero one first. Zero members are never chosen: the audit
  below assumes the attacker knows which finest cells are empty, so hiding a zero adds nothing.
* **Proof and repair.** Then, per measure, a linear program over the finest cells (non-negative;
  every visible published cell fixed to its value; every primary cell between 1 and k-1, since
  the attacker knows what ``primary`` means) is minimised and maximised for every primary cell
  with scipy's HiGHS. Where a cell's proven interval is narrower than [1, k-1], one more
  complementary cell next to it is hidden and the proof runs again, until every primary cell's
  interval is exactly [1, k-1].

The LP relaxes what an attacker knows about complementary cells (``0`` or ``>= k``) to ``>= 0``
and treats the three measures separately; ``docs/disclosure-control.md`` lists these limits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, hstack, identity, vstack

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
TOLERANCE: Final[float] = 1e-3
"""Counts are integers; HiGHS answers within about 1e-7 of the exact bound."""
MAX_REPAIR_ROUNDS: Final[int] = 500
PRUNE_LIMIT: Final[int] = 60
"""Complementary cells tried for giving back per measure (each try costs a few LPs)."""

Reason = Literal["primary", "complementary"]
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


@dataclass(frozen=True)
class Pattern:
    """The joint suppression pattern: per measure, hidden cells and why."""

    k: int
    hidden: Mapping[str, Mapping[CellId, Reason]]
    lp_solves: int = 0
    repair_rounds: int = 0

    def reason(self, cell: CellId, measure: str) -> Reason | None:
        return self.hidden[measure].get(cell)


def _greedy(
    universe: Universe,
    measure: str,
    hidden: dict[CellId, Reason],
    member_of: Mapping[CellId, list[int]],
) -> None:
    """Close every line with exactly one hidden member by hiding its cheapest visible one."""
    lines = universe.lines
    position = MEASURES.index(measure)

    def value(cid: CellId) -> int:
        return universe.sums[cid][position]

    nonzero = [[c for c in line if value(c) > 0] for line in lines]
    count = [sum(c in hidden for c in members) for members in nonzero]
    todo = [i for i, n in enumerate(count) if n == 1]
    while todo:
        line = todo.pop()
        if count[line] != 1:
            continue
        candidates = [c for c in nonzero[line] if c not in hidden]

        def cost(cid: CellId, exposed: int = line) -> tuple[int, int]:
            # A hidden cell exposes every other line it is alone on: a margin (on many lines)
            # costs its value once per line it would open, so interior cells are preferred.
            opened = sum(count[ln] == 0 for ln in member_of[cid] if ln != exposed)
            return (value(cid) * (1 + opened), len(cid[1]))

        chosen = min(candidates, key=cost)
        hidden[chosen] = "complementary"
        for ln in member_of[chosen]:
            count[ln] += 1
            if count[ln] == 1:
                todo.append(ln)


@dataclass(frozen=True)
class _System:
    a_eq: csr_matrix | None
    b_eq: np.ndarray | None
    a_ub: csr_matrix | None
    b_ub: np.ndarray | None
    primary: list[int]


class _Prover:
    """The attacker's LP for one measure.

    Variables: every combination of a finest period and one value of each dimension that no
    published zero rules out (a combination is possible when each of its published marginals
    is non-zero), all >= 0. The attacker knows the value sets, not which combinations occur.
    Constraints: each visible published cell equals its value, each primary cell is between 1
    and k-1, each complementary cell is at least k (zeros are never hidden, so a hidden cell
    that is not primary holds k or more).
    """

    def __init__(
        self, universe: Universe, measure: str, k: int, over: str = "combinations"
    ) -> None:
        """``over="combinations"``: variables are the possible finest combinations (the audit).
        ``over="cells"``: variables are the published cells tied by their lines, which proves
        the same for the decomposable set of ``shapes()`` at a fraction of the size."""
        self.universe = universe
        self.measure = measure
        self.k = k
        position = MEASURES.index(measure)
        self.cells = [c for c, s in universe.sums.items() if s[position] > 0]
        self.row_of = {c: r for r, c in enumerate(self.cells)}
        self.values = np.array([universe.sums[c][position] for c in self.cells], dtype=float)
        self.solves = 0
        self.complementary_at_least_k = False
        self.structure: csr_matrix | None = None
        if over == "cells":
            self.width = len(self.cells)
            self.matrix = identity(self.width, format="csr")
            rows: list[int] = []
            columns: list[int] = []
            data: list[float] = []
            line_count = 0
            for line in universe.lines:
                members = [c for c in line if c in self.row_of]
                if not members:
                    continue
                for cid in members:
                    rows.append(line_count)
                    columns.append(self.row_of[cid])
                    data.append(-1.0 if cid == line[-1] else 1.0)
                line_count += 1
            self.structure = csr_matrix(
                (np.array(data), (np.array(rows, dtype=np.int64), np.array(columns))),
                shape=(line_count, self.width),
            )
            return
        chains: dict[str, list[str]] = {}
        for cell in universe.finest:
            chain = periods_of(cell.month, universe.levels)
            chains[chain[-1]] = chain
        combos = _possible_combinations(universe, measure, sorted(chains))
        index = {d: i for i, d in enumerate(DIMENSIONS)}
        all_shapes = [(shape, [index[d] for d in shape]) for shape in shapes(universe.max_by)]
        rows = []
        columns = []
        row_of = self.row_of
        for col, (finest_period, key) in enumerate(combos):
            for period in chains[finest_period]:
                for shape, positions in all_shapes:
                    rows.append(row_of[(period, shape, tuple(key[p] for p in positions))])
                    columns.append(col)
        self.width = len(combos)
        self.matrix = csr_matrix(
            (np.ones(len(rows)), (np.array(rows, dtype=np.int64), np.array(columns))),
            shape=(len(self.cells), self.width),
        )

    def _system(self, hidden: Mapping[CellId, Reason], labels_only: bool = False) -> _System:
        """Constraints: visible cells equal their values (unless ``labels_only``), primary cells
        between 1 and k-1."""
        primary = sorted(
            self.row_of[c] for c, why in hidden.items() if why == "primary" and c in self.row_of
        )
        a_eq: csr_matrix | None = None
        b_eq: np.ndarray | None = None
        if not labels_only:
            visible = [r for r, c in enumerate(self.cells) if c not in hidden]
            a_eq, b_eq = self.matrix[visible], self.values[visible]
        if self.structure is not None:
            zeros = np.zeros(self.structure.shape[0])
            if a_eq is None:
                a_eq, b_eq = self.structure, zeros
            else:
                assert b_eq is not None
                a_eq = vstack([a_eq, self.structure]).tocsr()
                b_eq = np.concatenate([b_eq, zeros])
        complementary = (
            []
            if labels_only or not self.complementary_at_least_k
            else sorted(
                self.row_of[c]
                for c, why in hidden.items()
                if why == "complementary" and c in self.row_of
            )
        )
        if not primary and not complementary:
            return _System(a_eq, b_eq, None, None, primary)
        rows = self.matrix[primary]
        a_ub = vstack([rows, -rows, -self.matrix[complementary]]).tocsr()
        b_ub = np.concatenate(
            [
                np.full(len(primary), self.k - 1.0),
                np.full(len(primary), -1.0),
                np.full(len(complementary), -float(self.k)),
            ]
        )
        return _System(a_eq, b_eq, a_ub, b_ub, primary)

    def _linprog(
        self,
        objective: np.ndarray,
        system: _System,
        extra: csr_matrix | None = None,
        extra_bounds: Sequence[tuple[float, float]] = (),
    ) -> np.ndarray:
        """Solve with ``extra`` auxiliary variables ``t_i <= row_i·x`` (for capped maxima)."""
        a_eq, a_ub, b_ub = system.a_eq, system.a_ub, system.b_ub
        bounds: list[tuple[float, float | None]] = [(0, None)] * self.width
        if extra is not None:
            count = extra.shape[0]
            pad = csr_matrix((0 if a_ub is None else a_ub.shape[0], count))
            cap = hstack([-extra, identity(count, format="csr")]).tocsr()
            a_ub = cap if a_ub is None else vstack([hstack([a_ub, pad]), cap]).tocsr()
            b_ub = np.zeros(count) if b_ub is None else np.concatenate([b_ub, np.zeros(count)])
            if a_eq is not None:
                a_eq = hstack([a_eq, csr_matrix((a_eq.shape[0], count))]).tocsr()
            bounds += list(extra_bounds)
        self.solves += 1
        result = linprog(
            objective,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=system.b_eq,
            bounds=bounds,
            method="highs",
        )
        if result.status != 0:  # the true data is feasible, so this is a numerical failure
            raise RuntimeError(f"disclosure LP failed: {result.message}")
        return np.asarray(result.x)[: self.width]

    def _extremes(
        self, system: _System, rows: csr_matrix, low_goal: np.ndarray, high_goal: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's proven minimum and maximum, as far as needed to compare with the goals.

        Cheap first: one LP minimising the sum of the rows and one maximising the sum of
        ``min(row, goal)`` certify most rows at once (a feasible point where a row reaches its
        goal proves it); the rest get their own LP. Rows certified carry their goal value.
        """
        count = rows.shape[0]
        low = np.full(count, np.inf)
        high = np.full(count, -np.inf)
        todo = list(range(count))
        for _ in range(3):
            if not todo:
                break
            x = self._linprog(np.asarray(rows[todo].sum(axis=0)).ravel(), system)
            reached = rows @ x
            left = [i for i in todo if reached[i] > low_goal[i] + TOLERANCE]
            for i in todo:
                low[i] = min(low[i], reached[i])
            if len(left) == len(todo):
                break
            todo = left
        for i in todo:
            row = rows[i].toarray().ravel()
            low[i] = row @ self._linprog(row, system)
        todo = list(range(count))
        for _ in range(3):
            if not todo:
                break
            objective = np.concatenate([np.zeros(self.width), -np.ones(len(todo))])
            x = self._linprog(
                objective, system, rows[todo], [(0.0, float(high_goal[i])) for i in todo]
            )
            reached = rows @ x
            left = [i for i in todo if reached[i] < high_goal[i] - TOLERANCE]
            for i in todo:
                high[i] = max(high[i], reached[i])
            if len(left) == len(todo):
                break
            todo = left
        for i in todo:
            row = rows[i].toarray().ravel()
            high[i] = row @ self._linprog(-row, system)
        return low, high

    def label_bounds(self, hidden: Mapping[CellId, Reason]) -> dict[CellId, tuple[float, float]]:
        """What the labels alone prove of each primary cell, before any value is published.

        Usually [1, k-1]; narrower when primary cells nest (a primary total of 3 over three
        primary cells of 1 each proves each of them at most 2, whatever else is shown).
        """
        system = self._system(hidden, labels_only=True)
        if not system.primary:
            return {}
        rows = self.matrix[system.primary]
        count = rows.shape[0]
        low, high = self._extremes(system, rows, np.ones(count), np.full(count, self.k - 1.0))
        return {
            self.cells[r]: (float(low[i]), float(high[i])) for i, r in enumerate(system.primary)
        }

    def intervals(
        self, hidden: Mapping[CellId, Reason], labels_only: bool = False
    ) -> dict[CellId, tuple[float, float]]:
        """The exact proven interval of each primary cell (two LPs per cell, no shortcut)."""
        system = self._system(hidden, labels_only)
        out: dict[CellId, tuple[float, float]] = {}
        for r in system.primary:
            row = self.matrix[r].toarray().ravel()
            low = float(row @ self._linprog(row, system))
            high = float(row @ self._linprog(-row, system))
            out[self.cells[r]] = (low, high)
        return out

    def unprotected(
        self, hidden: Mapping[CellId, Reason], goals: Mapping[CellId, tuple[float, float]]
    ) -> list[CellId]:
        """Primary cells whose proven interval is narrower than their ``goals``."""
        system = self._system(hidden)
        if not system.primary:
            return []
        cells = [self.cells[r] for r in system.primary]
        rows = self.matrix[system.primary]
        low_goal = np.array([goals[c][0] for c in cells])
        high_goal = np.array([goals[c][1] for c in cells])
        low, high = self._extremes(system, rows, low_goal, high_goal)
        return [
            c
            for i, c in enumerate(cells)
            if low[i] > low_goal[i] + TOLERANCE or high[i] < high_goal[i] - TOLERANCE
        ]


def _possible_combinations(
    universe: Universe, measure: str, finest_periods: Sequence[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """Every (finest period, dimension values) whose published marginals are all non-zero.

    Backtracking over the dimensions, checking each new value against the pairs already
    chosen (and the period): the marginals of at most two dimensions rule combinations out.
    """
    position = MEASURES.index(measure)
    present: set[tuple[str, Shape, tuple[str, ...]]] = {
        c for c, s in universe.sums.items() if s[position] > 0
    }
    values: list[list[str]] = [
        sorted({c[2][0] for c in present if c[1] == (d,)}) for d in DIMENSIONS
    ]
    out: list[tuple[str, tuple[str, ...]]] = []
    pair_limit = universe.max_by >= 2
    pairs = {shape for shape in shapes(universe.max_by) if len(shape) == 2}

    def extend(period: str, prefix: tuple[str, ...]) -> None:
        depth = len(prefix)
        if depth == len(DIMENSIONS):
            out.append((period, prefix))
            return
        dim = DIMENSIONS[depth]
        for value in values[depth]:
            if (period, (dim,), (value,)) not in present:
                continue
            if pair_limit and any(
                (period, (DIMENSIONS[e], dim), (prefix[e], value)) not in present
                for e in range(depth)
                if (DIMENSIONS[e], dim) in pairs
            ):
                continue
            extend(period, (*prefix, value))

    for period in finest_periods:
        extend(period, ())
    return out


def _containing(universe: Universe, finest: int) -> list[CellId]:
    """Every published cell a finest cell adds to."""
    cell = universe.finest[finest]
    index = {d: i for i, d in enumerate(DIMENSIONS)}
    return [
        (period, shape, tuple(cell.key[index[d]] for d in shape))
        for period in periods_of(cell.month, universe.levels)
        for shape in shapes(universe.max_by)
    ]


def _repair_candidate(
    universe: Universe,
    measure: str,
    cell: CellId,
    hidden: Mapping[CellId, Reason],
    member_of: Mapping[CellId, list[int]],
) -> CellId | None:
    """A visible cell to hide so that ``cell`` gains freedom.

    First the smallest visible non-zero cell on a line through ``cell`` (the usual partner);
    when every line through it is already hidden, the smallest visible cell that shares one of
    its finest cells (those are the constraints that still pin it down).
    """
    position = MEASURES.index(measure)

    def hidden_on(ln: int) -> int:
        return sum(c in hidden and universe.sums[c][position] > 0 for c in universe.lines[ln])

    def size(c: CellId) -> tuple[int, int]:
        # As in ``_greedy``: a cell that would be alone on other lines costs more.
        opened = sum(hidden_on(ln) == 0 for ln in member_of[c])
        return (universe.sums[c][position] * (1 + opened), len(c[1]))

    on_lines = {
        other
        for ln in member_of[cell]
        for other in universe.lines[ln]
        if other not in hidden and universe.sums[other][position] > 0
    }
    if on_lines:
        return min(on_lines, key=size)
    # Breadth-first over finest cells: the cells containing them, then through hidden ones.
    seen_finest = {f for f in universe.members[cell] if universe.finest[f].count(measure) > 0}
    seen_cells = {cell}
    layer = list(seen_finest)
    while layer:
        sharing: set[CellId] = set()
        following: list[int] = []
        for finest in layer:
            for other in _containing(universe, finest):
                if other in seen_cells or universe.sums[other][position] == 0:
                    continue
                seen_cells.add(other)
                if other not in hidden:
                    sharing.add(other)
                    continue
                for more in universe.members[other]:
                    if more not in seen_finest and universe.finest[more].count(measure) > 0:
                        seen_finest.add(more)
                        following.append(more)
        if sharing:
            return min(sharing, key=size)
        layer = following
    return None


def _lines_closed(
    universe: Universe, measure: str, hidden: Mapping[CellId, Reason], lines: Iterable[int]
) -> bool:
    position = MEASURES.index(measure)
    for ln in lines:
        count = sum(c in hidden and universe.sums[c][position] > 0 for c in universe.lines[ln])
        if count == 1:
            return False
    return True


def _prune(
    universe: Universe,
    measure: str,
    hidden: dict[CellId, Reason],
    prover: _Prover,
    goals: Mapping[CellId, tuple[float, float]],
    member_of: Mapping[CellId, list[int]],
    limit: int = PRUNE_LIMIT,
) -> None:
    """Give back complementary cells the proof does not need, biggest first.

    Greedy choices and repairs over-protect; each of the ``limit`` biggest complementary
    cells is shown again when every line stays closed and the LP still proves every primary
    cell's full interval without it.
    """
    position = MEASURES.index(measure)
    chosen = sorted(
        (c for c, why in hidden.items() if why == "complementary"),
        key=lambda c: (-universe.sums[c][position] * (2 if len(c[1]) == 2 else 1), c),
    )[:limit]
    for cell in chosen:
        if hidden.get(cell) != "complementary":
            continue
        released = _release(universe, measure, hidden, cell, member_of)
        if released and not prover.unprotected(hidden, goals):
            continue
        for back in released or [cell]:
            hidden[back] = "complementary"


def _release(
    universe: Universe,
    measure: str,
    hidden: dict[CellId, Reason],
    cell: CellId,
    member_of: Mapping[CellId, list[int]],
) -> list[CellId] | None:
    """Show ``cell`` again, with every complementary cell left alone on a line by that (a
    chain); ``None`` (and nothing changed) when a primary cell would be left alone."""
    position = MEASURES.index(measure)
    released = [cell]
    del hidden[cell]
    todo = [cell]
    while todo:
        current = todo.pop()
        for ln in member_of[current]:
            alone = [
                c for c in universe.lines[ln] if c in hidden and universe.sums[c][position] > 0
            ]
            if len(alone) != 1:
                continue
            if hidden[alone[0]] == "primary" or len(released) > 8:
                for back in released:
                    hidden[back] = "complementary"
                return None
            del hidden[alone[0]]
            released.append(alone[0])
            todo.append(alone[0])
    return released


def protect(universe: Universe, k: int) -> Pattern:
    """Primary, greedy complementary, then LP proof and repair, per measure."""
    if k < 1:
        raise ValueError("k must be at least 1")
    member_of: dict[CellId, list[int]] = defaultdict(list)
    for ln, line in enumerate(universe.lines):
        for cid in line:
            member_of[cid].append(ln)
    patterns: dict[str, dict[CellId, Reason]] = {}
    solves = rounds = 0
    for measure in MEASURES:
        position = MEASURES.index(measure)
        hidden: dict[CellId, Reason] = {
            c: "primary" for c, s in universe.sums.items() if 0 < s[position] < k
        }
        _greedy(universe, measure, hidden, member_of)
        if hidden and k > 2:
            prover = _Prover(universe, measure, k, over="cells")
            goals = prover.label_bounds(hidden)
            withheld = False
            for _ in range(MAX_REPAIR_ROUNDS):
                failing = prover.unprotected(hidden, goals)
                if not failing:
                    break
                rounds += 1
                extras = [
                    _repair_candidate(universe, measure, cell, hidden, member_of)
                    for cell in failing
                ]
                if any(extra is None for extra in extras):
                    withheld = True  # nothing left to hide around it: publish no count at all
                    break
                for extra in extras:
                    if extra is not None:
                        hidden[extra] = "complementary"
                _greedy(universe, measure, hidden, member_of)
            else:
                withheld = True
            if withheld:
                for c, sums in universe.sums.items():
                    if sums[position] > 0:
                        hidden[c] = "primary" if sums[position] < k else "complementary"
            else:
                _prune(universe, measure, hidden, prover, goals, member_of)
            solves += prover.solves
        patterns[measure] = hidden
    return Pattern(k=k, hidden=patterns, lp_solves=solves, repair_rounds=rounds)


def audit(
    universe: Universe,
    hidden: Mapping[str, Mapping[CellId, Reason]],
    k: int,
    over: str = "cells",
) -> dict[str, dict[CellId, tuple[float, float]]]:
    """Every leak, per measure (empty = safe), with the interval an attacker proves.

    A leak is a count of 1..k-1 published, or a primary cell whose interval, proven by LP
    (``over="cells"``: the published cells and their lines, exact for the decomposable
    ``shapes()``; ``over="combinations"``: every finest combination, far bigger) from every
    visible published value and every label, is narrower
    than what the labels alone prove (which is [1, k-1] unless primary cells nest). Feasible
    points certify most cells at once; every other cell gets its own LPs.
    """
    out: dict[str, dict[CellId, tuple[float, float]]] = {}
    for measure in MEASURES:
        pattern = hidden.get(measure, {})
        position = MEASURES.index(measure)
        for cid, s in universe.sums.items():
            if 0 < s[position] < k and pattern.get(cid) != "primary":
                out.setdefault(measure, {})[cid] = (float(s[position]), float(s[position]))
        if not any(w == "primary" for w in pattern.values()) or k <= 2:
            continue
        prover = _Prover(universe, measure, k, over=over)
        goals = prover.label_bounds(pattern)
        failing = prover.unprotected(pattern, goals)
        if failing:
            proven = prover.intervals(pattern)
            for cid in failing:
                out.setdefault(measure, {})[cid] = proven[cid]
    return out


def nested_primaries(
    universe: Universe, hidden: Mapping[str, Mapping[CellId, Reason]], k: int
) -> dict[str, dict[CellId, tuple[float, float]]]:
    """Primary cells whose labels alone already prove an interval narrower than [1, k-1]."""
    out: dict[str, dict[CellId, tuple[float, float]]] = {}
    for measure in MEASURES:
        pattern = hidden.get(measure, {})
        if not any(w == "primary" for w in pattern.values()) or k <= 2:
            continue
        prover = _Prover(universe, measure, k)
        for cid, (low, high) in prover.intervals(pattern, labels_only=True).items():
            if low > 1 + TOLERANCE or high < k - 1 - TOLERANCE:
                out.setdefault(measure, {})[cid] = (low, high)
    return out
