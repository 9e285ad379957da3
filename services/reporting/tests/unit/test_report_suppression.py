"""Small-cell suppression: readable examples plus a seeded property check over random tables.

The property check rebuilds the table's equations from the *published output only* (cells,
margins, totals) and asks two questions an attacker would: is any published count in 1..k-1, and
can any hidden value be solved for? The second is answered both line by line (the rule in the
brief) and by exact Gaussian elimination over all equations at once (the stronger guarantee).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from fractions import Fraction

import pytest

from trainops_reporting.domain import (
    MEASURES,
    CountTable,
    InvalidTable,
    SuppressedTable,
    TableRow,
    suppress,
)

pytestmark = pytest.mark.unit

Key = tuple[str, ...]


def counts(registered: int, attended: int | None = None, responses: int | None = None) -> dict:
    attended = registered if attended is None else attended
    responses = attended if responses is None else responses
    return {"registered": registered, "attended": attended, "feedback_responses": responses}


# --------------------------------------------------------------------------- attacker's view


Entry = tuple[str, Key]
Line = list[Entry]  # the cells of a row or column; the last member is the line's total


def equations(result: SuppressedTable, measure: str) -> tuple[list[Line], dict[Entry, int | None]]:
    """The lines (sum of cells = total) and every entry's published value, from the output only."""
    value: dict[Entry, int | None] = {}
    for cell in result.rows:
        value["cell", cell.key] = cell.values[measure]
    for margin in result.row_totals:
        value["row", margin.key] = margin.values[measure]
    for margin in result.column_totals:
        value["col", margin.key] = margin.values[measure]
    value["grand", ()] = result.totals[measure]

    lines: list[Line] = []
    if len(result.dimensions) <= 1:
        lines.append([("cell", cell.key) for cell in result.rows] + [("grand", ())])
    else:
        rows = [m.key for m in result.row_totals]
        cols = [m.key for m in result.column_totals]
        for r in rows:  # absent cells are published zeros: add them explicitly
            for c in cols:
                value.setdefault(("cell", r + c), 0)
        lines += [[("cell", r + c) for c in cols] + [("row", r)] for r in rows]
        lines += [[("cell", r + c) for r in rows] + [("col", c)] for c in cols]
        lines.append([("row", r) for r in rows] + [("grand", ())])
        lines.append([("col", c) for c in cols] + [("grand", ())])
    return lines, value


def recoverable(result: SuppressedTable, measure: str) -> set[tuple[str, Key]]:
    """Hidden entries whose value is implied by the published figures (exact elimination)."""
    lines, value = equations(result, measure)
    unknowns = sorted({e for line in lines for e in line if value[e] is None})
    index = {e: i for i, e in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(unknowns)
        for position, member in enumerate(line):
            sign = -1 if position == len(line) - 1 else 1
            if value[member] is None:
                row[index[member]] += sign
        matrix.append(row)
    # Reduced row echelon form; an unknown is determined iff some reduced row is its unit vector.
    pivot_row = 0
    for col in range(len(unknowns)):
        found = next((r for r in range(pivot_row, len(matrix)) if matrix[r][col] != 0), None)
        if found is None:
            continue
        matrix[pivot_row], matrix[found] = matrix[found], matrix[pivot_row]
        pivot = matrix[pivot_row][col]
        matrix[pivot_row] = [x / pivot for x in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [
                    a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)
                ]
        pivot_row += 1
    determined = set()
    for row in matrix[:pivot_row]:
        support = [i for i, x in enumerate(row) if x != 0]
        if len(support) == 1:
            determined.add(unknowns[support[0]])
    return determined


def assert_safe(result: SuppressedTable, table: CountTable) -> None:
    k = result.k
    published = [*result.rows, *result.row_totals, *result.column_totals]
    for measure in result.measures:
        numbers = [c.values[measure] for c in published] + [result.totals[measure]]
        assert not [n for n in numbers if n is not None and 0 < n < k], "primary leak"
        lines, value = equations(result, measure)
        for line in lines:
            hidden = sum(value[m] is None for m in line)
            if value[line[-1]] is not None:  # the brief's rule: a published total
                assert hidden != 1, f"{measure}: {line} has exactly one hidden cell"
            # ...and the converse: a hidden total beside fully published cells is their sum.
            assert hidden != 1, f"{measure}: {line} leaks its hidden total"
        assert not recoverable(result, measure), f"{measure}: recoverable by elimination"
    # Published values are the true ones, and hidden means go with hidden responses.
    original = {row.key: row for row in table.rows}
    for cell in result.rows:
        source = original.get(cell.key)
        for measure, shown in cell.values.items():
            assert shown is None or shown == (source.counts[measure] if source else 0)
        if cell.values["feedback_responses"] is None:
            assert cell.satisfaction_mean is None
        elif source is not None:
            assert cell.satisfaction_mean == source.satisfaction_mean
    assert all(cell.flags for cell in result.rows if cell.key not in original)
    for measure in result.measures:
        assert result.totals[measure] in (None, table.grand_totals[measure])


def random_table(rng: random.Random, k: int) -> CountTable:
    dimension_count = rng.choice([0, 1, 1, 2, 2, 2, 3])
    dimensions = ("city", "sex", "age_band")[:dimension_count]
    levels = [[f"{d}{i}" for i in range(rng.randint(1, 4))] for d in dimensions]
    rows = []
    for key in itertools.product(*levels):
        if rng.random() < 0.15 and dimension_count:
            continue  # sparse tables: some combinations simply have nobody
        roll = rng.random()
        registered = (
            0
            if roll < 0.2
            else rng.randint(1, max(1, k - 1))
            if roll < 0.55
            else rng.randint(k, 40)
        )
        attended = rng.randint(0, registered)
        responses = rng.randint(0, attended)
        mean = round(rng.uniform(1, 5), 2) if responses else None
        rows.append(TableRow(key, counts(registered, attended, responses), mean))
    total_responses = sum(r.counts["feedback_responses"] for r in rows)
    return CountTable(
        dimensions, tuple(rows), total_satisfaction_mean=4.0 if total_responses else None
    )


# --------------------------------------------------------------------------------- examples


def city_by_sex() -> CountTable:
    return CountTable.from_counts(
        ["city", "sex"],
        {
            ("almaty", "female"): counts(40, 35, 30),
            ("almaty", "male"): counts(22, 20, 18),
            ("almaty", "other"): counts(2, 2, 1),
            ("astana", "female"): counts(31, 28, 25),
            ("astana", "male"): counts(17, 15, 12),
            ("astana", "other"): counts(0, 0, 0),
            ("aktobe", "female"): counts(12, 10, 9),
            ("aktobe", "male"): counts(9, 9, 8),
            ("aktobe", "other"): counts(0, 0, 0),
        },
        means={("almaty", "other"): 2.0, ("almaty", "female"): 4.5},
    )


def test_city_by_sex_example() -> None:
    table = city_by_sex()
    result = suppress(table, k=5)
    registered = {cell.key: cell.values["registered"] for cell in result.rows}
    flags = {cell.key: cell.flags.get("registered") for cell in result.rows}

    # Two people of "other" sex in Almaty: hidden.
    assert registered["almaty", "other"] is None
    assert flags["almaty", "other"] == "primary"
    # The "other" column (2 + 0 + 0 = 2) is itself below 5, so its total is hidden too;
    # the zeros are published because zero identifies nobody.
    other_total = next(m for m in result.column_totals if m.key == ("other",))
    assert other_total.values["registered"] is None
    assert other_total.flags["registered"] == "primary"
    assert registered["astana", "other"] == 0 and registered["aktobe", "other"] == 0
    # Almaty's row would give the 2 away (64 - 40 - 22), so its smallest other cell goes too.
    assert registered["almaty", "male"] is None
    assert flags["almaty", "male"] == "complementary"
    # ...and that opens the "male" column, closed again by its smallest cell.
    assert registered["aktobe", "male"] is None
    assert flags["aktobe", "male"] == "complementary"
    assert registered["almaty", "female"] == 40
    # Means follow the responses: Almaty "other" had one response, its mean is withheld.
    means = {cell.key: cell.satisfaction_mean for cell in result.rows}
    assert means["almaty", "other"] is None
    assert means["almaty", "female"] == 4.5
    assert result.totals == {"registered": 133, "attended": 119, "feedback_responses": 103}
    assert result.total_satisfaction_mean is None  # not given on input
    reasons = {(s.location, s.key, s.measure): s.reason for s in result.suppressed}
    assert reasons["cell", ("almaty", "other"), "registered"] == "primary"
    assert reasons["column_total", ("other",), "registered"] == "primary"
    assert_safe(result, table)


def test_one_dimension_needs_a_second_hidden_cell() -> None:
    table = CountTable.from_counts(
        ["sector"],
        {
            ("media",): counts(30),
            ("ngo",): counts(3),
            ("akimat",): counts(12),
            ("other",): counts(0),
        },
    )
    result = suppress(table)
    shown = {cell.key[0]: cell.values["registered"] for cell in result.rows}
    # 3 is primary; 0 is no protection; 12 is the smallest non-zero publishable count.
    assert shown == {"media": 30, "ngo": None, "akimat": None, "other": 0}
    assert result.totals["registered"] == 45
    assert result.row_totals == () and result.column_totals == ()
    assert_safe(result, table)


def test_when_only_zeros_remain_the_total_is_hidden_instead() -> None:
    table = CountTable.from_counts(
        ["sex"],
        {("female",): counts(7), ("male",): counts(0), ("other",): counts(0)},
        measures=MEASURES,
    )
    result = suppress(table, k=10)
    assert [c.values["registered"] for c in result.rows] == [None, 0, 0]
    assert result.totals["registered"] is None
    assert result.total_flags["registered"] == "primary"

    # Column c2 ends up with one hidden cell (a complementary 10) beside a zero: the zero would
    # protect nothing, so the column's total is hidden instead and the zero stays published.
    table = CountTable.from_counts(
        ["city", "sex"],
        {
            ("r1", "c1"): counts(2),
            ("r1", "c2"): counts(10),
            ("r2", "c1"): counts(10),
            ("r2", "c2"): counts(0),
        },
    )
    result = suppress(table)
    shown = {c.key: c.values["registered"] for c in result.rows}
    assert shown == {("r1", "c1"): None, ("r1", "c2"): None, ("r2", "c1"): None, ("r2", "c2"): 0}
    c2 = next(m for m in result.column_totals if m.key == ("c2",))
    assert (c2.values["registered"], c2.flags["registered"]) == (None, "complementary")
    assert_safe(result, table)


def test_zero_is_published_and_k_one_disables_suppression() -> None:
    table = city_by_sex()
    result = suppress(table, k=1)
    assert result.suppressed == ()
    assert {c.key: c.values["registered"] for c in result.rows}["almaty", "other"] == 2
    assert all(
        c.values["registered"] == 0
        for c in result.rows
        if c.key[0] != "almaty" and c.key[1] == "other"
    )


def test_totals_only_table() -> None:
    small = CountTable((), (TableRow((), counts(4, 3, 3), 4.2),), total_satisfaction_mean=4.2)
    result = suppress(small)
    assert result.totals == {"registered": None, "attended": None, "feedback_responses": None}
    assert result.total_satisfaction_mean is None
    assert result.rows[0].values["registered"] is None
    big = CountTable((), (TableRow((), counts(40, 30, 3), 4.2),), total_satisfaction_mean=4.2)
    result = suppress(big)
    assert result.totals == {"registered": 40, "attended": 30, "feedback_responses": None}
    assert result.total_satisfaction_mean is None
    assert suppress(CountTable((), ())).totals == dict.fromkeys(MEASURES, 0)


def test_a_chain_of_hidden_blocks_is_broken() -> None:
    """Two 2x2 blocks of small cells joined by one small cell: every line has two or more hidden
    cells, yet the joining cell is the row sums of the first block minus its column sums."""
    big = counts(50)
    cells: dict[Key, Mapping[str, int]] = {
        (f"r{r}", f"c{c}"): big for r, c in itertools.product(range(5), range(5))
    }
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)]:
        cells[f"r{r}", f"c{c}"] = counts(2)
    table = CountTable.from_counts(["city", "sector"], cells)
    result = suppress(table)
    kinds = {s.reason for s in result.suppressed if s.measure == "registered"}
    assert kinds == {"primary", "complementary"}
    assert_safe(result, table)


def test_absent_combinations_may_be_hidden_and_are_then_listed() -> None:
    table = CountTable.from_counts(
        ["city", "sex"],
        {
            ("almaty", "female"): counts(3),
            ("almaty", "male"): counts(0),
            ("astana", "female"): counts(9),
        },
    )
    result = suppress(table)
    assert_safe(result, table)


@pytest.mark.parametrize("k", [0, -3, True, 2.0])
def test_k_is_validated(k: object) -> None:
    with pytest.raises(InvalidTable) as caught:
        suppress(city_by_sex(), k=k)  # type: ignore[arg-type]
    assert caught.value.field == "k"


@pytest.mark.parametrize(
    ("rows", "totals", "field"),
    [
        ((TableRow(("almaty",), counts(1)),), None, "rows[0].key"),
        ((TableRow(("a", "f"), counts(1)), TableRow(("a", "f"), counts(2))), None, "rows[1].key"),
        ((TableRow(("a", "f"), {"registered": 1}),), None, "rows[0].counts"),
        ((TableRow(("a", "f"), counts(-1, 0, 0)),), None, "rows[0].counts.registered"),
        ((TableRow(("a", "f"), counts(3)),), counts(4, 3, 3), "totals.registered"),
    ],
)
def test_malformed_tables_name_the_field(rows: tuple, totals: dict | None, field: str) -> None:
    with pytest.raises(InvalidTable) as caught:
        CountTable(("city", "sex"), rows, totals)
    assert caught.value.field == field


# ------------------------------------------------------------------------- property checks


@pytest.mark.parametrize("seed", range(8))
def test_property_random_tables_leak_nothing(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        k = rng.choice([1, 2, 3, 5, 5, 5, 10])
        table = random_table(rng, k)
        result = suppress(table, k=k)
        assert_safe(result, table)


def test_property_holds_on_a_full_size_programme_table() -> None:
    rng = random.Random(2020)
    cities = [
        "almaty",
        "astana",
        "shymkent",
        "oskemen",
        "almaty_region",
        "aktobe",
        "aktau",
        "kostanay",
    ]
    cells = {}
    for key in itertools.product(
        cities, ["female", "male", "other", "undisclosed"], ["kk", "ru", "en"]
    ):
        registered = rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 15, 30])
        cells[key] = counts(registered, rng.randint(0, registered))
    table = CountTable.from_counts(["city", "sex", "language"], cells)
    result = suppress(table)
    assert_safe(result, table)
