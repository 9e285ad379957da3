"""Small-cell suppression for donor tables, so no published figure identifies a person.

Rules (applied to each count measure separately):

* **Primary**: a count of 1..k-1 is published as ``None``. Zero is published: "nobody" identifies
  nobody, and hiding zeros would hide real programme gaps from the donor.
* **Margins**: the table is a grid of the *first* dimension (rows) against the combination of
  the other dimensions (columns), and its row totals, column totals and grand total are published
  too (and primary-suppressed like any count). With one dimension the only margin is the grand
  total; with none there is only the grand total.
* **Complementary**: each row and column, with its total, is a linear equation
  ``cells - total = 0``. If exactly one of its members is hidden it is recoverable by subtraction,
  so another member is hidden too: the smallest non-zero published count (hiding a big number
  protects as well and costs more information), and only if none is left a zero. A zero is a
  last resort because it adds nothing to the hidden sum: the line's residual then *equals* the
  protected value, and since a residual below k can only be split as "small primary + 0", anyone
  reasoning about the rule recovers it; the line's total (which is never below the hidden value)
  is therefore preferred over zero cells.
* **Chains**: even when every line has two hidden members, a value can be recoverable by
  combining several lines (two separate blocks of hidden cells joined by one hidden cell). Viewing
  lines as vertices and hidden entries as edges, a value is recoverable exactly when its edge is
  a bridge, so bridges are broken with one more complementary suppression until none is left.

The mean satisfaction of a cell whose ``feedback_responses`` is hidden is hidden too: a mean over
fewer than k responses can reveal an individual's answer.

This protects one table against its own margins. Publishing less (e.g. dropping the margins) is
always at least as safe; publishing other tables over overlapping breakdowns is not covered here,
which is why the reports are cut from the joint pattern of ``domain.disclosure`` instead. This
rule stays as the baseline the disclosure audit must find leaks in (each table protected alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from trainops_reporting.domain.categories import ReportingError

MEASURES: Final[tuple[str, ...]] = ("registered", "attended", "feedback_responses")
FEEDBACK_MEASURE: Final[str] = "feedback_responses"
DEFAULT_K: Final[int] = 5

SuppressionReason = Literal["primary", "complementary"]
Location = Literal["cell", "row_total", "column_total", "grand_total"]


class InvalidTable(ReportingError):
    """The input table is malformed (bad key, negative count, totals that do not add up...)."""


@dataclass(frozen=True)
class TableRow:
    """One cell of the input: its dimension values and its raw counts per measure."""

    key: tuple[str, ...]
    counts: Mapping[str, int]
    satisfaction_mean: float | None = None


@dataclass(frozen=True)
class CountTable:
    """Raw (unsuppressed) counts by ``dimensions``; missing combinations count as zero.

    ``totals`` may be given (then it must equal the column sums, since the guarantees rely on
    the published totals being exactly the sum of the cells) or left ``None`` to be computed.
    """

    dimensions: tuple[str, ...]
    rows: tuple[TableRow, ...]
    totals: Mapping[str, int] | None = None
    total_satisfaction_mean: float | None = None
    measures: tuple[str, ...] = MEASURES

    def __post_init__(self) -> None:
        object.__setattr__(self, "dimensions", tuple(self.dimensions))
        object.__setattr__(self, "rows", tuple(self.rows))
        object.__setattr__(self, "measures", tuple(self.measures))
        if not self.measures or len(set(self.measures)) != len(self.measures):
            raise InvalidTable("measures", "measures must be distinct and non-empty")
        seen: set[tuple[str, ...]] = set()
        for index, row in enumerate(self.rows):
            if not isinstance(row.key, tuple) or len(row.key) != len(self.dimensions):
                raise InvalidTable(
                    f"rows[{index}].key", f"must be a tuple of {len(self.dimensions)} values"
                )
            if row.key in seen:
                raise InvalidTable(f"rows[{index}].key", f"{row.key!r} appears twice")
            seen.add(row.key)
            _check_counts(row.counts, self.measures, f"rows[{index}].counts")
        sums = {m: sum(row.counts[m] for row in self.rows) for m in self.measures}
        if self.totals is None:
            object.__setattr__(self, "totals", sums)
        else:
            _check_counts(self.totals, self.measures, "totals")
            for measure in self.measures:
                if self.totals[measure] != sums[measure]:
                    raise InvalidTable(
                        f"totals.{measure}",
                        f"is {self.totals[measure]} but the cells add up to {sums[measure]}",
                    )

    @classmethod
    def from_counts(
        cls,
        dimensions: Sequence[str],
        cells: Mapping[tuple[str, ...], Mapping[str, int]],
        means: Mapping[tuple[str, ...], float | None] | None = None,
        measures: Sequence[str] = MEASURES,
    ) -> CountTable:
        """Convenience builder from ``{key: {measure: count}}``; totals are computed."""
        means = means or {}
        rows = tuple(TableRow(key, counts, means.get(key)) for key, counts in cells.items())
        return cls(tuple(dimensions), rows, measures=tuple(measures))

    @property
    def grand_totals(self) -> Mapping[str, int]:
        assert self.totals is not None  # filled in by __post_init__
        return self.totals


def _check_counts(counts: Mapping[str, int], measures: Sequence[str], where: str) -> None:
    if set(counts) != set(measures):
        raise InvalidTable(where, f"must have exactly the measures {', '.join(measures)}")
    for measure in measures:
        value = counts[measure]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidTable(f"{where}.{measure}", "must be a non-negative integer")


@dataclass(frozen=True)
class PublishedCell:
    """A publishable cell or margin: ``None`` where hidden, with the reason in ``flags``."""

    key: tuple[str, ...]
    values: Mapping[str, int | None]
    flags: Mapping[str, SuppressionReason] = field(default_factory=dict)
    satisfaction_mean: float | None = None


@dataclass(frozen=True)
class Suppression:
    """One hidden value: where it is, which measure, and why (never the value itself)."""

    location: Location
    key: tuple[str, ...]
    measure: str
    reason: SuppressionReason


@dataclass(frozen=True)
class SuppressedTable:
    """What may be published. ``row_totals`` are keyed by the first dimension's value,
    ``column_totals`` by the remaining dimensions' values; both are empty for tables with fewer
    than two dimensions (the grand total is then the only margin)."""

    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    k: int
    rows: tuple[PublishedCell, ...]
    row_totals: tuple[PublishedCell, ...]
    column_totals: tuple[PublishedCell, ...]
    totals: Mapping[str, int | None]
    total_flags: Mapping[str, SuppressionReason]
    total_satisfaction_mean: float | None
    suppressed: tuple[Suppression, ...]


@dataclass(frozen=True)
class _Entry:
    location: Location
    key: tuple[str, ...]
    counts: Mapping[str, int]
    present: bool = True
    satisfaction_mean: float | None = None


@dataclass(frozen=True)
class _Layout:
    """Entries (cells, margins, grand total) and the lines (equations) linking them."""

    entries: tuple[_Entry, ...]
    lines: tuple[tuple[int, ...], ...]

    def lines_of(self) -> list[list[int]]:
        member_of: list[list[int]] = [[] for _ in self.entries]
        for index, line in enumerate(self.lines):
            for entry in line:
                member_of[entry].append(index)
        return member_of


def _first_seen(values: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return list(dict.fromkeys(values))


def _layout(table: CountTable) -> _Layout:
    zero = dict.fromkeys(table.measures, 0)
    grand = _Entry("grand_total", (), dict(table.grand_totals), True, table.total_satisfaction_mean)
    if len(table.dimensions) <= 1:
        cells = [_Entry("cell", r.key, r.counts, True, r.satisfaction_mean) for r in table.rows]
        entries = (*cells, grand)
        return _Layout(entries, (tuple(range(len(entries))),))

    by_key = {row.key: row for row in table.rows}
    row_keys = _first_seen(row.key[:1] for row in table.rows)
    col_keys = _first_seen(row.key[1:] for row in table.rows)
    entries_list: list[_Entry] = []
    grid: dict[tuple[int, int], int] = {}
    for r, row_key in enumerate(row_keys):
        for c, col_key in enumerate(col_keys):
            source = by_key.get(row_key + col_key)
            grid[r, c] = len(entries_list)
            if source is None:
                entries_list.append(_Entry("cell", row_key + col_key, zero, present=False))
            else:
                entries_list.append(
                    _Entry("cell", source.key, source.counts, True, source.satisfaction_mean)
                )
    row_margin: list[int] = []
    for r, row_key in enumerate(row_keys):
        sums = {
            m: sum(entries_list[grid[r, c]].counts[m] for c in range(len(col_keys))) for m in zero
        }
        row_margin.append(len(entries_list))
        entries_list.append(_Entry("row_total", row_key, sums))
    col_margin: list[int] = []
    for c, col_key in enumerate(col_keys):
        sums = {
            m: sum(entries_list[grid[r, c]].counts[m] for r in range(len(row_keys))) for m in zero
        }
        col_margin.append(len(entries_list))
        entries_list.append(_Entry("column_total", col_key, sums))
    grand_index = len(entries_list)
    entries_list.append(grand)
    lines: list[tuple[int, ...]] = []
    for r in range(len(row_keys)):
        lines.append((*(grid[r, c] for c in range(len(col_keys))), row_margin[r]))
    for c in range(len(col_keys)):
        lines.append((*(grid[r, c] for r in range(len(row_keys))), col_margin[c]))
    lines.append((*row_margin, grand_index))
    lines.append((*col_margin, grand_index))
    return _Layout(tuple(entries_list), tuple(lines))


def _bridge_components(
    edges: Mapping[int, tuple[int, int]], vertex_count: int
) -> tuple[int, set[int], set[int]] | None:
    """Find one bridge among ``edges`` (entry -> endpoints); return it and its two sides.

    Iterative Tarjan low-link so large tables cannot hit the recursion limit; parallel edges are
    told apart by entry id, so two hidden entries linking the same lines correctly form a cycle.
    """
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(vertex_count)]
    for entry, (u, v) in edges.items():
        if u != v:
            adjacency[u].append((v, entry))
            adjacency[v].append((u, entry))
    order = [-1] * vertex_count
    low = [0] * vertex_count
    counter = 0
    for root in range(vertex_count):
        if order[root] != -1 or not adjacency[root]:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[int, int, int]] = [(root, -1, 0)]
        while stack:
            vertex, via, position = stack[-1]
            if position < len(adjacency[vertex]):
                stack[-1] = (vertex, via, position + 1)
                neighbour, entry = adjacency[vertex][position]
                if entry == via:
                    continue
                if order[neighbour] == -1:
                    order[neighbour] = low[neighbour] = counter
                    counter += 1
                    stack.append((neighbour, entry, 0))
                else:
                    low[vertex] = min(low[vertex], order[neighbour])
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[vertex])
                if low[vertex] > order[parent]:
                    return via, _reach(adjacency, parent, via), _reach(adjacency, vertex, via)
    return None


def _reach(adjacency: list[list[tuple[int, int]]], start: int, without: int) -> set[int]:
    seen = {start}
    todo = [start]
    while todo:
        vertex = todo.pop()
        for neighbour, entry in adjacency[vertex]:
            if entry != without and neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return seen


def _suppress_measure(
    layout: _Layout, member_of: list[list[int]], values: list[int], k: int
) -> dict[int, SuppressionReason]:
    hidden: dict[int, SuppressionReason] = {i: "primary" for i, v in enumerate(values) if 0 < v < k}
    hidden_in_line = [sum(entry in hidden for entry in line) for line in layout.lines]
    free_vertex = len(layout.lines)  # stands for "no equation" in the bridge graph

    def endpoints(entry: int) -> tuple[int, int]:
        own = member_of[entry]
        if len(own) >= 2:
            return own[0], own[1]
        return (own[0], free_vertex) if own else (free_vertex, free_vertex)

    def cost(entry: int, exposed: int | None = None) -> tuple[bool, int, bool, bool, int]:
        # Smallest non-zero first; among equals, one that also closes another exposed line
        # (fewer suppressions overall), then interior cells before margins, then input order.
        value = values[entry]
        helps = any(hidden_in_line[ln] == 1 for ln in member_of[entry] if ln != exposed)
        is_margin = layout.entries[entry].location != "cell"
        return (value == 0, value, not helps, is_margin, entry)

    def hide(entry: int) -> None:
        hidden[entry] = "complementary"
        for line in member_of[entry]:
            hidden_in_line[line] += 1

    while True:
        exposed = next((i for i, n in enumerate(hidden_in_line) if n == 1), None)
        if exposed is not None:
            candidates = [e for e in layout.lines[exposed] if e not in hidden]
            hide(min(candidates, key=lambda e: cost(e, exposed)))
            continue
        bridge = _bridge_components({e: endpoints(e) for e in hidden}, free_vertex + 1)
        if bridge is None:
            return hidden
        entry, side_a, side_b = bridge
        candidates = [
            e
            for e in range(len(values))
            if e not in hidden
            and (
                (endpoints(e)[0] in side_a and endpoints(e)[1] in side_b)
                or (endpoints(e)[0] in side_b and endpoints(e)[1] in side_a)
            )
        ]
        if not candidates:  # pragma: no cover - impossible on a complete grid, see module doc
            raise RuntimeError(f"cannot protect entry {layout.entries[entry].key!r}")
        hide(min(candidates, key=cost))


def suppress(table: CountTable, k: int = DEFAULT_K) -> SuppressedTable:
    """Apply primary and complementary suppression to ``table`` with threshold ``k``.

    ``k=1`` disables suppression (no count is in 1..0). Deterministic for a given input order.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidTable("k", "must be an integer of at least 1")
    layout = _layout(table)
    member_of = layout.lines_of()
    hidden_by_measure = {
        measure: _suppress_measure(
            layout, member_of, [entry.counts[measure] for entry in layout.entries], k
        )
        for measure in table.measures
    }

    def publish(index: int) -> PublishedCell:
        entry = layout.entries[index]
        flags = {m: h[index] for m, h in hidden_by_measure.items() if index in h}
        values = {m: None if m in flags else entry.counts[m] for m in table.measures}
        mean = None if FEEDBACK_MEASURE in flags else entry.satisfaction_mean
        return PublishedCell(entry.key, values, flags, mean)

    rows: list[PublishedCell] = []
    row_totals: list[PublishedCell] = []
    column_totals: list[PublishedCell] = []
    grand: PublishedCell | None = None
    for index, entry in enumerate(layout.entries):
        cell = publish(index)
        if entry.location == "cell" and (entry.present or cell.flags):
            rows.append(cell)
        elif entry.location == "row_total":
            row_totals.append(cell)
        elif entry.location == "column_total":
            column_totals.append(cell)
        elif entry.location == "grand_total":
            grand = cell
    assert grand is not None

    suppressed = tuple(
        Suppression(layout.entries[i].location, layout.entries[i].key, measure, reason)
        for measure, hidden in hidden_by_measure.items()
        for i, reason in sorted(hidden.items())
    )
    return SuppressedTable(
        dimensions=table.dimensions,
        measures=table.measures,
        k=k,
        rows=tuple(rows),
        row_totals=tuple(row_totals),
        column_totals=tuple(column_totals),
        totals=grand.values,
        total_flags=grand.flags,
        total_satisfaction_mean=grand.satisfaction_mean,
        suppressed=suppressed,
    )
