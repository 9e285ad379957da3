"""The attacker's linear program: what everything published proves of each primary cell.

Per measure, HiGHS (``scipy.optimize.linprog``) minimises and maximises each primary cell
subject to what a reader of every requestable table knows: each visible published cell at its
value, the adding-up lines, every count >= 0, and each label's meaning (``labels``): a primary
cell holds 1..k-1, a complementary one k or more. The planner runs it to repair its pattern and
the audit runs it again, without the planner's shortcuts, to prove the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, hstack, identity, vstack

from trainops_reporting.domain.categories import DIMENSIONS
from trainops_reporting.domain.disclosure.labels import Reason
from trainops_reporting.domain.disclosure.universe import (
    MEASURES,
    CellId,
    Shape,
    Universe,
    periods_of,
    shapes,
)

TOLERANCE: Final[float] = 1e-3
"""Counts are integers; HiGHS answers within about 1e-7 of the exact bound."""

Bounds = dict[CellId, tuple[float, float]]


@dataclass(frozen=True)
class _System:
    a_eq: csr_matrix | None
    b_eq: np.ndarray | None
    a_ub: csr_matrix | None
    b_ub: np.ndarray | None
    primary: list[int]


class Prover:
    """The attacker's LP for one measure.

    Variables: every combination of a finest period and one value of each dimension that no
    published zero rules out (a combination is possible when each of its published marginals
    is non-zero), all >= 0. The attacker knows the value sets, not which combinations occur.
    Constraints: each visible published cell equals its value, each primary cell is between 1
    and k-1, each complementary cell is at least k (zeros are never hidden, so a hidden cell
    that is not primary holds k or more, and the label says so).
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

    def _system(self, hidden: Mapping[CellId, Reason], values: bool = True) -> _System:
        """Constraints: visible cells equal their values (unless not ``values``: what the labels
        alone prove), primary cells between 1 and k-1, complementary cells at least k."""
        primary = sorted(
            self.row_of[c] for c, why in hidden.items() if why == "primary" and c in self.row_of
        )
        a_eq: csr_matrix | None = None
        b_eq: np.ndarray | None = None
        if values:
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
        at_least_k = sorted(
            self.row_of[c]
            for c, why in hidden.items()
            if why == "complementary" and c in self.row_of
        )
        if not primary and not at_least_k:
            return _System(a_eq, b_eq, None, None, primary)
        rows = self.matrix[primary]
        a_ub = vstack([rows, -rows, -self.matrix[at_least_k]]).tocsr()
        b_ub = np.concatenate(
            [
                np.full(len(primary), self.k - 1.0),
                np.full(len(primary), -1.0),
                np.full(len(at_least_k), -float(self.k)),
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
        self,
        system: _System,
        rows: csr_matrix,
        low_goal: np.ndarray,
        high_goal: np.ndarray,
        stop_at_first: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's proven minimum and maximum, as far as needed to compare with the goals.

        Cheap first: LPs minimising the sum of the rows and maximising the sum of
        ``min(row, goal)`` certify most rows at once (a feasible point where a row reaches its
        goal proves it, and every point found counts for both ends); the rest get their own
        LP. Rows certified carry the value reached. ``stop_at_first``: return as soon as one
        row is proven short of its goal (the others are then left partly unproven).
        """
        count = rows.shape[0]
        low = np.full(count, np.inf)
        high = np.full(count, -np.inf)

        def record(x: np.ndarray) -> np.ndarray:
            reached: np.ndarray = rows @ x
            np.minimum(low, reached, out=low)
            np.maximum(high, reached, out=high)
            return reached

        def short_low(i: int) -> bool:
            return bool(low[i] > low_goal[i] + TOLERANCE)

        def short_high(i: int) -> bool:
            return bool(high[i] < high_goal[i] - TOLERANCE)

        todo = list(range(count))
        for _ in range(3):
            if not todo:
                break
            record(self._linprog(np.asarray(rows[todo].sum(axis=0)).ravel(), system))
            left = [i for i in todo if short_low(i)]
            if len(left) == len(todo):
                break
            todo = left
        for i in todo:
            if short_low(i):
                row = rows[i].toarray().ravel()
                record(self._linprog(row, system))
                if stop_at_first and short_low(i):
                    return low, high
        todo = [i for i in range(count) if short_high(i)]
        for _ in range(3):
            if not todo:
                break
            objective = np.concatenate([np.zeros(self.width), -np.ones(len(todo))])
            record(
                self._linprog(
                    objective, system, rows[todo], [(0.0, float(high_goal[i])) for i in todo]
                )
            )
            left = [i for i in todo if short_high(i)]
            if len(left) == len(todo):
                break
            todo = left
        for i in todo:
            if short_high(i):
                row = rows[i].toarray().ravel()
                record(self._linprog(-row, system))
                if stop_at_first and short_high(i):
                    return low, high
        return low, high

    def rule_labels(self) -> dict[CellId, Reason]:
        """The label every non-zero cell would carry if all were hidden: what the rule itself
        tells (counts of 1..k-1 are primary, every other hidden count is k or more)."""
        return {
            c: "primary" if v < self.k else "complementary"
            for c, v in zip(self.cells, self.values, strict=True)
        }

    def rule_bounds(self) -> Bounds:
        """What no pattern can avoid telling of each primary cell: its interval when every
        non-zero cell is hidden with its label and only the zeros are published.

        Any pattern tells at least this much (a visible count of k or more says more than
        "k or more"), so it is the widest interval reachable, and the hiding-everything
        pattern reaches it. Usually [1, k-1]; narrower when primary cells nest (a primary
        total of 3 over three primary cells of 1 each proves each at most 2) or a small margin
        is split two ways (a city of 7 = 6 + 1 by age band and 4 + 3 by sex: the 6 is k or
        more, so the city holds at least 6 and each sex at least 2).
        """
        system = self._system(self.rule_labels(), values=False)
        if not system.primary:
            return {}
        rows = self.matrix[system.primary]
        count = rows.shape[0]
        low, high = self._extremes(system, rows, np.ones(count), np.full(count, self.k - 1.0))
        return {
            self.cells[r]: (float(low[i]), float(high[i])) for i, r in enumerate(system.primary)
        }

    def intervals(self, hidden: Mapping[CellId, Reason], values: bool = True) -> Bounds:
        """The exact proven interval of each primary cell (two LPs per cell, no shortcut)."""
        system = self._system(hidden, values)
        out: Bounds = {}
        for r in system.primary:
            row = self.matrix[r].toarray().ravel()
            low = float(row @ self._linprog(row, system))
            high = float(row @ self._linprog(-row, system))
            out[self.cells[r]] = (low, high)
        return out

    def unprotected(
        self,
        hidden: Mapping[CellId, Reason],
        goals: Mapping[CellId, tuple[float, float]],
        stop_at_first: bool = False,
    ) -> list[CellId]:
        """Primary cells whose interval, proven from every visible value and every label, is
        narrower than their ``goals`` (with ``stop_at_first``, at most the first one found)."""
        system = self._system(hidden)
        if not system.primary:
            return []
        cells = [self.cells[r] for r in system.primary]
        rows = self.matrix[system.primary]
        low_goal = np.array([goals[c][0] for c in cells])
        high_goal = np.array([goals[c][1] for c in cells])
        low, high = self._extremes(system, rows, low_goal, high_goal, stop_at_first)
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
