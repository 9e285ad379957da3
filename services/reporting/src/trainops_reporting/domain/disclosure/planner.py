"""One suppression pattern for the whole universe, repaired until the attacker's LP proves it.

1. **Primary**: every count 1..k-1 of the universe is hidden. Zeros are published.
2. **Complementary, greedy**: a line with exactly one hidden member gives it away, so another
   member is hidden (``complementary``), the cheapest first. Zero members are never chosen, so
   every complementary count is k or more and its label says so; the partner is chosen knowing
   that: one that would pin a primary cell on its lines inside [1, k-1] under the labels'
   bounds (``labels.line_narrowed``: beside a primary 2 a partner of 5 on a line whose other
   cells are visible proves the 2 is at most 2) is charged as if it held 2k-1 more.
3. **Proof and repair**: per measure, the attacker's LP (``prover``) bounds every primary cell
   from every visible value and every label. A cell proven narrower than its goal gets one more
   hidden cell next to it, and the proof runs again. The goal is what the rule itself tells
   (``Prover.rule_bounds``: every non-zero cell hidden with its label): [1, k-1] except where
   no pattern can reach it (nested primary cells; a city of 7 = 6 + 1 by age band and 4 + 3 by
   sex, where the 6 reads "k or more" or is shown, so each sex holds at least 2). Hiding every
   non-zero count reaches the goal by definition, so that is the fallback.
4. **Pruning**: complementary cells are given back, largest first, whenever every line stays
   closed and the proof still holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from trainops_reporting.domain.disclosure.labels import Reason, line_bounds, line_narrowed
from trainops_reporting.domain.disclosure.prover import TOLERANCE, Bounds, Prover
from trainops_reporting.domain.disclosure.universe import (
    MEASURES,
    CellId,
    Universe,
    containing,
    lines_of,
)

MAX_REPAIR_ROUNDS: Final[int] = 500
PRUNE_LIMIT: Final[int] = 60
"""Complementary cells tried for giving back per measure (each try costs a few LPs)."""
PRUNE_SOLVES: Final[int] = 200
"""LPs pruning may spend per measure: bounds the pattern's time on small programmes, whose
many small cells make every try dear (deterministic, unlike a time limit)."""


@dataclass(frozen=True)
class Pattern:
    """The joint suppression pattern: per measure, hidden cells and why."""

    k: int
    hidden: Mapping[str, Mapping[CellId, Reason]]
    lp_solves: int = 0
    repair_rounds: int = 0

    def reason(self, cell: CellId, measure: str) -> Reason | None:
        return self.hidden[measure].get(cell)


class _Lines:
    """The lines of one measure with their non-zero members, and what hiding one more costs."""

    def __init__(self, universe: Universe, measure: str, k: int) -> None:
        position = MEASURES.index(measure)
        self.universe = universe
        self.measure = measure
        self.k = k
        self.value = {c: s[position] for c, s in universe.sums.items()}
        self.member_of = lines_of(universe)
        self.nonzero = [[c for c in line if self.value[c] > 0] for line in universe.lines]
        self.signed = [
            [(-1 if c == line[-1] else 1, self.value[c]) for c in members]
            for line, members in zip(universe.lines, self.nonzero, strict=True)
        ]

    def hidden_on(self, ln: int, hidden: Mapping[CellId, Reason]) -> int:
        return sum(c in hidden for c in self.nonzero[ln])

    def _narrowed(self, ln: int, hidden: Mapping[CellId, Reason], extra: CellId | None) -> int:
        labels: dict[int, Reason] = {
            i: hidden[c] for i, c in enumerate(self.nonzero[ln]) if c in hidden
        }
        if not any(why == "primary" for why in labels.values()):
            return 0
        if extra is not None:
            labels[self.nonzero[ln].index(extra)] = "complementary"
        return line_narrowed(self.signed[ln], labels, self.k)

    def holds(
        self, cells: Sequence[CellId], hidden: Mapping[CellId, Reason], goals: Bounds
    ) -> bool:
        """Whether every line through ``cells``, alone, still leaves each primary cell on it
        its goal (a cheap necessary condition for the LP proof)."""
        for ln in {ln for c in cells for ln in self.member_of[c]}:
            members = self.nonzero[ln]
            labels: dict[int, Reason] = {i: hidden[c] for i, c in enumerate(members) if c in hidden}
            for i, (low, high) in line_bounds(self.signed[ln], labels, self.k).items():
                goal = goals.get(members[i])
                if goal is not None and (low > goal[0] + TOLERANCE or high < goal[1] - TOLERANCE):
                    return False
        return True

    def cost(
        self, cell: CellId, hidden: Mapping[CellId, Reason], exposed: int | None = None
    ) -> tuple[int, int]:
        """Order of preference among cells to hide: by value, times one plus the lines it
        would be alone on (a margin on many lines costs more), then interior cells before
        margins; a cell that would narrow a primary cell on its lines by the labels' bounds
        (line by line) counts as bigger."""
        lines = self.member_of[cell]
        narrowing = sum(
            self._narrowed(ln, hidden, cell) - self._narrowed(ln, hidden, None) for ln in lines
        )
        opened = sum(self.hidden_on(ln, hidden) == 0 for ln in lines if ln != exposed)
        # a partner that leaves a primary cell on one of its lines less than [1, k-1] is
        # charged as if it held 2k-1 more (beside a primary, a partner of 2k-1 or more never
        # narrows it); the LP proof decides either way
        penalty = max(narrowing, 0) * (2 * self.k - 1)
        return ((self.value[cell] + penalty) * (1 + opened), len(cell[1]))


def _greedy(lines: _Lines, hidden: dict[CellId, Reason]) -> None:
    """Close every line with exactly one hidden member by hiding its best visible one."""
    count = [sum(c in hidden for c in members) for members in lines.nonzero]
    todo = [i for i, n in enumerate(count) if n == 1]
    while todo:
        line = todo.pop()
        if count[line] != 1:
            continue
        candidates = [c for c in lines.nonzero[line] if c not in hidden]
        exposed = line
        chosen = min(candidates, key=lambda c: lines.cost(c, hidden, exposed))
        hidden[chosen] = "complementary"
        for ln in lines.member_of[chosen]:
            count[ln] += 1
            if count[ln] == 1:
                todo.append(ln)


def _repair_candidate(
    lines: _Lines, cell: CellId, hidden: Mapping[CellId, Reason]
) -> CellId | None:
    """A visible cell to hide so that ``cell`` gains freedom.

    First the best visible non-zero cell on a line through ``cell`` (the usual partner); when
    every line through it is already hidden, the best visible cell that shares one of its
    finest cells (those are the constraints that still pin it down).
    """
    universe = lines.universe
    on_lines = {
        other for ln in lines.member_of[cell] for other in lines.nonzero[ln] if other not in hidden
    }
    if on_lines:
        return min(on_lines, key=lambda c: lines.cost(c, hidden))
    # Breadth-first over finest cells: the cells containing them, then through hidden ones.
    measure = lines.measure
    seen_finest = {f for f in universe.members[cell] if universe.finest[f].count(measure) > 0}
    seen_cells = {cell}
    layer = list(seen_finest)
    while layer:
        sharing: set[CellId] = set()
        following: list[int] = []
        for finest in layer:
            for other in containing(universe, finest):
                if other in seen_cells or lines.value.get(other, 0) == 0:
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
            return min(sharing, key=lambda c: lines.cost(c, hidden))
        layer = following
    return None


def _prune(
    lines: _Lines,
    hidden: dict[CellId, Reason],
    prover: Prover,
    goals: Bounds,
    limit: int = PRUNE_LIMIT,
    solves: int = PRUNE_SOLVES,
) -> None:
    """Give back complementary cells the proof does not need, biggest first.

    Greedy choices and repairs over-protect; each of the ``limit`` biggest complementary
    cells is shown again when every line stays closed and the LP still proves every primary
    cell's goal without it, as long as the tries have cost fewer than ``solves`` LPs.
    """
    chosen = sorted(
        (c for c, why in hidden.items() if why == "complementary"),
        key=lambda c: (-lines.value[c] * (2 if len(c[1]) == 2 else 1), c),
    )[:limit]
    budget = prover.solves + solves
    for cell in chosen:
        if prover.solves >= budget:
            break
        if hidden.get(cell) != "complementary":
            continue
        released = _release(lines, hidden, cell)
        if (
            released
            and lines.holds(released, hidden, goals)
            and not prover.unprotected(hidden, goals, stop_at_first=True)
        ):
            continue
        for back in released or [cell]:
            hidden[back] = "complementary"


def _release(lines: _Lines, hidden: dict[CellId, Reason], cell: CellId) -> list[CellId] | None:
    """Show ``cell`` again, with every complementary cell left alone on a line by that (a
    chain); ``None`` (and nothing changed) when a primary cell would be left alone."""
    released = [cell]
    del hidden[cell]
    todo = [cell]
    while todo:
        current = todo.pop()
        for ln in lines.member_of[current]:
            alone = [c for c in lines.nonzero[ln] if c in hidden]
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


def _repair(
    lines: _Lines, hidden: dict[CellId, Reason], prover: Prover, goals: Bounds
) -> tuple[bool, int]:
    """Hide more until every primary cell's proven interval holds its goal. Returns whether
    that was reached (not when a cell has nothing left around it to hide) and the rounds."""
    for rounds in range(MAX_REPAIR_ROUNDS):
        failing = prover.unprotected(hidden, goals)
        if not failing:
            return True, rounds
        extras = [_repair_candidate(lines, c, hidden) for c in failing]
        if any(extra is None for extra in extras):
            return False, rounds
        for extra in extras:
            if extra is not None:
                hidden[extra] = "complementary"
        _greedy(lines, hidden)
    return False, MAX_REPAIR_ROUNDS


def protect(universe: Universe, k: int) -> Pattern:
    """Primary, greedy complementary, then LP proof and repair, per measure."""
    if k < 1:
        raise ValueError("k must be at least 1")
    patterns: dict[str, dict[CellId, Reason]] = {}
    solves = rounds = 0
    for measure in MEASURES:
        lines = _Lines(universe, measure, k)
        hidden: dict[CellId, Reason] = {c: "primary" for c, v in lines.value.items() if 0 < v < k}
        _greedy(lines, hidden)
        if hidden and k > 2:
            prover = Prover(universe, measure, k, over="cells")
            goals = prover.rule_bounds()
            repaired, taken = _repair(lines, hidden, prover, goals)
            rounds += taken
            if not repaired:  # hiding every non-zero count reaches the goals by definition
                hidden = prover.rule_labels()
            else:
                _prune(lines, hidden, prover, goals)
            solves += prover.solves
        assert all(lines.value[c] >= k for c, why in hidden.items() if why == "complementary")
        patterns[measure] = hidden
    return Pattern(k=k, hidden=patterns, lp_solves=solves, repair_rounds=rounds)
