"""The proof of a pattern, without the planner's shortcuts: what an attacker still learns.

The attacker reads every table one filter allows (every breakdown, margins, totals, the summary,
every offered period), the labels and the rule that makes them (``labels``), and solves the
linear program over the finest cells (``prover``). A pattern is safe when no count of 1..k-1 is
published and every primary cell's proven interval holds what the labels alone prove: the
published values add nothing to the labels. ``label_narrowed`` lists the primary cells where the
labels themselves prove less than [1, k-1] beyond what the primary labels alone force.
"""

from __future__ import annotations

from collections.abc import Mapping

from trainops_reporting.domain.disclosure.labels import Reason
from trainops_reporting.domain.disclosure.prover import TOLERANCE, Bounds, Prover
from trainops_reporting.domain.disclosure.universe import MEASURES, CellId, Universe

Hidden = Mapping[str, Mapping[CellId, Reason]]


def audit(universe: Universe, hidden: Hidden, k: int, over: str = "cells") -> dict[str, Bounds]:
    """Every leak, per measure (empty = safe), with the interval an attacker proves.

    A leak is a count of 1..k-1 published, or a primary cell whose interval, proven by LP from
    every visible published value and every label (primary 1..k-1, complementary k or more),
    is narrower than what the labels alone prove. ``over="cells"``: the published cells and
    their lines, exact for the decomposable ``shapes()``; ``over="combinations"``: every finest
    combination no published zero rules out, far bigger. Feasible points certify most cells at
    once; every other cell gets its own LPs.
    """
    out: dict[str, Bounds] = {}
    for measure in MEASURES:
        pattern = hidden.get(measure, {})
        position = MEASURES.index(measure)
        for cid, s in universe.sums.items():
            if 0 < s[position] < k and pattern.get(cid) != "primary":
                out.setdefault(measure, {})[cid] = (float(s[position]), float(s[position]))
        if not any(w == "primary" for w in pattern.values()) or k <= 2:
            continue
        prover = Prover(universe, measure, k, over=over)
        failing = prover.unprotected(pattern, prover.rule_bounds())
        if failing:
            proven = prover.intervals(pattern)
            for cid in failing:
                out.setdefault(measure, {})[cid] = proven[cid]
    return out


def rule_narrowed(universe: Universe, k: int, over: str = "cells") -> dict[str, Bounds]:
    """Primary cells that no pattern can keep at [1, k-1], with the interval the rule itself
    proves of them (``Prover.rule_bounds``): nested primary cells and small margins split two
    ways. They depend on the data only, not on the pattern."""
    out: dict[str, Bounds] = {}
    for measure in MEASURES:
        if k <= 2:
            continue
        prover = Prover(universe, measure, k, over=over)
        for cid, (low, high) in prover.rule_bounds().items():
            if low > 1 + TOLERANCE or high < k - 1 - TOLERANCE:
                out.setdefault(measure, {})[cid] = (low, high)
    return out
