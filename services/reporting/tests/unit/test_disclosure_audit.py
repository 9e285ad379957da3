"""The LP audit: what an attacker proves from everything requestable for one filter.

For each programme (the demo's plan and generated ones with several cities, sexes, age bands
and many small cells), the universe holds every table a request can publish (every breakdown,
its margins and total, the summary, every offered period). The attacker's LP knows every
visible value, every adding-up line, which cells are empty and what the labels mean: a primary
count is 1..k-1, a complementary one k or more. It must prove nothing narrower of any primary
cell than the rule itself tells (``rule_narrowed``: nothing at all on most programmes), and it
must find the leaks of the old single-table suppression applied to each table on its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from disclosure_programmes import demo_cells, generated_cells
from scipy.optimize import linprog

from trainops_reporting.api.params import parse_k
from trainops_reporting.domain.disclosure import (
    MEASURES,
    TOLERANCE,
    CellId,
    FinestCell,
    Pattern,
    Prover,
    Reason,
    Universe,
    audit,
    build_universe,
    protect,
    rule_narrowed,
    shapes,
)
from trainops_reporting.domain.disclosure.labels import label_interval, line_bounds
from trainops_reporting.domain.suppression import CountTable, suppress
from trainops_shared.errors import Invalid

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
    assert rule_narrowed(demo, K) == {}  # every primary cell of the demo keeps [1, k-1]
    assert _visible_share(demo, pattern.hidden["registered"]) >= 0.75


PROGRAMMES = [
    # (seed, participants, cities): skewed cities, every sex and age band, many small cells
    (1, 300, 8),
    (3, 400, 8),
    (5, 150, 4),
    (6, 220, 12),
]


@pytest.mark.parametrize(("seed", "participants", "cities"), PROGRAMMES)
def test_generated_programmes_leak_nothing(seed: int, participants: int, cities: int) -> None:
    universe = build_universe(generated_cells(seed, participants, cities))
    pattern = protect(universe, K)
    assert audit(universe, pattern.hidden, K) == {}
    for measure, cells in pattern.hidden.items():
        for cell, why in cells.items():
            value = universe.value(cell, measure)
            low, high = label_interval(why, K)
            assert low <= value <= high, (measure, cell, why, value)


def test_years_as_periods_leak_nothing() -> None:
    universe = build_universe(generated_cells(4, 2000), ("all", "year"))
    pattern = protect(universe, K)
    assert audit(universe, pattern.hidden, K) == {}


def test_a_small_margin_split_two_ways_is_protected_as_far_as_the_rule_allows() -> None:
    """Seed 2's city7: 7 registrations = 6 + 1 by age band and 4 + 3 by sex. Whatever is
    hidden, the 6 reads "k or more" (or is shown), so the city holds at least 6 and each sex
    at least 2: no pattern keeps [1, 4] there. The pattern must tell nothing more than that,
    and nothing narrower anywhere else."""
    universe = build_universe(generated_cells(2, 250, 8))
    city7 = {
        (c[1], c[2]): s[0]
        for c, s in universe.sums.items()
        if c[0] == "all" and c[2][:1] == ("city7",) and c[1][:1] == ("city",)
    }
    assert city7[("city",), ("city7",)] == 7
    assert city7[("city", "sex"), ("city7", "male")] == 4
    assert city7[("city", "sex"), ("city7", "female")] == 3
    assert city7[("city", "age_band"), ("city7", "25-34")] == 6
    narrowed = rule_narrowed(universe, K)["registered"]
    assert narrowed == {
        ("all", ("city", "age_band"), ("city7", "35-44")): (1.0, 3.0),
        ("all", ("city", "mode"), ("city7", "hybrid")): (1.0, 3.0),
        ("all", ("city", "sex"), ("city7", "female")): (2.0, 4.0),
        ("all", ("city", "sex"), ("city7", "male")): (2.0, 4.0),
    }
    pattern = protect(universe, K)
    proven = Prover(universe, "registered", K, over="cells").intervals(pattern.hidden["registered"])
    for cell, interval in narrowed.items():
        assert proven[cell] == pytest.approx(interval, abs=1e-6)
    assert audit(universe, pattern.hidden, K) == {}


def _line_universe(cells: dict[str, int]) -> Universe:
    """One city split by sex only: its row, the sex margins and the total are one line."""
    finest = [
        FinestCell("2020-01", ("c1", "health", sex, "25-34", "ru", "online", "T1"), n, n, n)
        for sex, n in cells.items()
    ]
    return build_universe(finest)


def test_a_partner_too_small_for_its_primary_gives_it_away() -> None:
    """female 2 (primary) + male 5 = 7 published: hiding the 5 as complementary ("5 or more")
    proves the 2 is at most 2. The audit must see it; the planner must not do it."""
    universe = _line_universe({"female": 2, "male": 5, "other": 9})
    hidden: dict[str, dict[CellId, Reason]] = {m: {} for m in MEASURES}
    for measure in MEASURES:
        for cell in universe.sums:
            value = universe.value(cell, measure)
            if cell[1] in {("sex",), ("city", "sex")} and value == 2:
                hidden[measure][cell] = "primary"
            if cell[1] in {("sex",), ("city", "sex")} and value == 5:
                hidden[measure][cell] = "complementary"
    leaks = audit(universe, hidden, K)
    assert leaks and all(high <= 2 + 1e-6 for cells in leaks.values() for _, high in cells.values())
    pattern = protect(universe, K)
    assert audit(universe, pattern.hidden, K) == {}
    female = ("all", ("city", "sex"), ("c1", "female"))
    assert pattern.reason(female, "registered") == "primary"
    assert pattern.reason(("all", ("city", "sex"), ("c1", "male")), "registered") is None


def test_one_line_bounds_follow_the_labels() -> None:
    # primary 2 and complementary 5 beside a visible total of 7 (signs: children +1, parent -1)
    members = [(1, 2), (1, 5), (-1, 7)]
    assert line_bounds(members, {0: "primary", 1: "complementary"}, K) == {0: (1.0, 2.0)}
    # with a partner of 9 instead, the primary keeps [1, 4]
    members = [(1, 2), (1, 9), (-1, 11)]
    assert line_bounds(members, {0: "primary", 1: "complementary"}, K) == {0: (1.0, 4.0)}
    # a hidden parent of at least k over a primary and a visible 2 proves the primary >= 3
    members = [(1, 4), (1, 2), (-1, 6)]
    assert line_bounds(members, {0: "primary", 2: "complementary"}, K) == {0: (3.0, 4.0)}


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


def _combined_intervals(
    universe: Universe, patterns: list[Pattern], k: int, measure: str = "registered"
) -> dict[CellId, tuple[float, float]]:
    """The attacker's LP over several published patterns of the same tables together: a cell
    is known where any pattern shows it, and a cell hidden by all of them lies in every one of
    its labels' intervals (primary at 6 and complementary at 5: exactly 5). Returns the proven
    interval of each count of 1..k-1."""
    prover = Prover(universe, measure, k, over="cells")
    assert prover.structure is not None
    low = np.zeros(len(prover.cells))
    high = np.full(len(prover.cells), np.inf)
    for row, cell in enumerate(prover.cells):
        if not all(cell in p.hidden[measure] for p in patterns):
            low[row] = high[row] = prover.values[row]
            continue
        for p in patterns:
            lo, hi = label_interval(p.hidden[measure][cell], p.k)
            low[row], high[row] = max(low[row], lo), min(high[row], hi)
    bounds = [(lo, None if math.isinf(hi) else hi) for lo, hi in zip(low, high, strict=True)]
    lines = prover.structure
    out: dict[CellId, tuple[float, float]] = {}
    for row, cell in enumerate(prover.cells):
        if not 0 < prover.values[row] < k:
            continue
        goal = np.zeros(len(prover.cells))
        goal[row] = 1.0
        ends = [
            linprog(sign * goal, A_eq=lines, b_eq=np.zeros(lines.shape[0]), bounds=bounds)
            for sign in (1.0, -1.0)
        ]
        assert all(end.status == 0 for end in ends)
        out[cell] = (float(ends[0].x[row]), float(ends[1].x[row]))
    return out


def _served_k(asked: int) -> int | None:
    """The threshold the API publishes at when a request asks for ``asked`` (None: refused)."""
    try:
        return parse_k(str(asked), K)
    except Invalid:
        return None


def test_requests_at_other_thresholds_combined_recover_nothing_hidden(demo: Universe) -> None:
    """Everything a caller can get by asking for several k, combined in one LP, keeps each
    hidden small count's interval at [1, k-1]. A pattern at k=6 beside the one at k=5 would
    prove a cell hidden as complementary at 5 and primary at 6 to hold exactly 5, and through
    the lines narrow primary cells beside it (16 of the demo's 29 to [2, 4]): so only the
    server's k is served."""
    served = sorted({k for asked in (K, K + 1, K + 2, 2 * K) if (k := _served_k(asked))})
    patterns = [protect(demo, k) for k in served]
    proven = _combined_intervals(demo, patterns, K)
    assert proven, "the demo has small counts to protect"
    narrowed = {
        cell: (low, high)
        for cell, (low, high) in proven.items()
        if low > 1 + TOLERANCE or high < K - 1 - TOLERANCE
    }
    assert narrowed == {}


def test_two_thresholds_together_would_narrow_hidden_counts(demo: Universe) -> None:
    """Why the threshold is not a request parameter: the same LP over the patterns at 5 and 6
    proves primary cells narrower than [1, 4]."""
    proven = _combined_intervals(demo, [protect(demo, K), protect(demo, K + 1)], K)
    assert any(low > 1 + TOLERANCE or high < K - 1 - TOLERANCE for low, high in proven.values())
