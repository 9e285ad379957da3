"""The LP audit: what an attacker proves from everything requestable for one filter.

For each programme (the demo's plan and generated ones with several cities, sexes, age bands
and many small cells), the universe holds every table a request can publish (every breakdown,
its margins and total, the summary, every offered period). The attacker's LP runs over the
finest combinations of dimension values no published zero rules out, knowing which cells are
primary. It must prove nothing narrower than the labels themselves say, and it must find the
leaks of the old single-table suppression applied to each table on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from disclosure_programmes import demo_cells, generated_cells

from trainops_reporting.domain.disclosure import (
    MEASURES,
    CellId,
    Reason,
    Universe,
    audit,
    build_universe,
    protect,
    shapes,
)
from trainops_reporting.domain.suppression import CountTable, suppress

pytestmark = pytest.mark.unit
K = 5


def _visible_share(universe: Universe, hidden: Mapping[CellId, Reason]) -> float:
    cells = {c: s[0] for c, s in universe.sums.items() if c[0] == "all" and c[1] == ("city", "sex")}
    return sum(v for c, v in cells.items() if c not in hidden) / sum(cells.values())


def _old_patterns(universe: Universe, k: int) -> dict[str, dict[CellId, Reason]]:
    """Today's rule: each requestable table suppressed on its own; a cell stays hidden only if
    every table that publishes it hides it (one visible copy publishes it)."""
    visible: set[tuple[str, CellId]] = set()
    hidden: dict[str, dict[CellId, Reason]] = {m: {} for m in MEASURES}
    for period in {c[0] for c in universe.sums}:
        for shape in shapes():
            if not shape:
                continue
            cells = {
                c[2]: {m: universe.value(c, m) for m in MEASURES}
                for c in universe.sums
                if c[0] == period and c[1] == shape
            }
            result = suppress(CountTable.from_counts(shape, cells), k)
            entries: list[tuple[CellId, Mapping[str, Reason]]] = [
                ((period, shape, r.key), r.flags) for r in result.rows
            ]
            entries += [((period, shape[:1], r.key), r.flags) for r in result.row_totals]
            entries += [((period, shape[1:], r.key), r.flags) for r in result.column_totals]
            entries.append(((period, (), ()), result.total_flags))
            for cid, flags in entries:
                for measure in MEASURES:
                    if measure in flags:
                        hidden[measure].setdefault(cid, flags[measure])
                    else:
                        visible.add((measure, cid))
    return {
        m: {c: why for c, why in cells.items() if (m, c) not in visible}
        for m, cells in hidden.items()
    }


@pytest.fixture(scope="module")
def demo() -> Universe:
    return build_universe(demo_cells())


def test_the_demo_pattern_leaks_nothing_and_keeps_most_people_visible(demo: Universe) -> None:
    pattern = protect(demo, K)
    assert audit(demo, pattern.hidden, K) == {}
    assert _visible_share(demo, pattern.hidden["registered"]) >= 0.75


@pytest.mark.parametrize(("seed", "participants"), [(1, 300), (2, 250), (3, 400)])
def test_generated_programmes_leak_nothing(seed: int, participants: int) -> None:
    universe = build_universe(generated_cells(seed, participants))
    pattern = protect(universe, K)
    assert audit(universe, pattern.hidden, K) == {}


def test_years_as_periods_leak_nothing() -> None:
    universe = build_universe(generated_cells(4, 2000), ("all", "year"))
    pattern = protect(universe, K)
    assert audit(universe, pattern.hidden, K) == {}


def test_the_old_single_table_suppression_leaks_under_the_same_audit(demo: Universe) -> None:
    old = _old_patterns(demo, K)
    leaks = audit(demo, old, K)
    assert leaks, "the audit must find what combining tables gives away"
    exact = [
        cell
        for cells in leaks.values()
        for cell, (low, high) in cells.items()
        if abs(high - low) < 1e-6
    ]
    assert exact, "some hidden counts are recovered exactly"


def test_every_table_adds_up_to_the_same_total(demo: Universe) -> None:
    grand = demo.sums[("all", (), ())]
    for shape in shapes():
        if not shape:
            continue
        cells = [s for c, s in demo.sums.items() if c[0] == "all" and c[1] == shape]
        assert [sum(s[i] for s in cells) for i in range(3)] == grand[:3]
