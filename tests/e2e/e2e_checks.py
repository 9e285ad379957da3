"""Checks of published donor tables against the figures the test computed from what it sent.

Primary suppression is checked exactly (a true count in 1..k-1 must be hidden and flagged
``primary``; every published count must equal the true one). Complementary suppression is checked
by its invariants rather than by re-implementing the service's choice of cells:

* no published count is in 1..k-1;
* no line (a row or column of the table with its total, or the margins with the grand total)
  has exactly one hidden member;
* the published totals equal the sums of the true (unsuppressed) cells;
* and, stronger, no hidden value is determined by the published ones through the table's linear
  equations (exact rational elimination: a hidden value is recoverable exactly when its unit
  vector lies in the row space of the equations restricted to the hidden entries).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from trainops_cli.api_client import TrainopsClient, poll

MEASURES = ("registered", "attended", "feedback_responses")
RATIO_CODES = ("attendance_rate", "feedback_completion", "share_of_women")
"""The ratio indicators the CSV carries after the measures (docs/indicators.md)."""
SUMMARY_KEYS = (
    "sessions_scheduled",
    "sessions_delivered",
    "registered",
    "attended",
    "feedback_responses",
    "satisfaction_mean",
    "cities_reached",
)


def summary_of(client: TrainopsClient, **params: Any) -> dict[str, Any]:
    """The programme summary's figures the tests compare (not its definitions or metadata)."""
    answer = client.summary(**params)
    return {key: answer[key] for key in SUMMARY_KEYS}


def wait_equal(fetch: Callable[[], Any], want: Any, what: str, timeout: float = 90.0) -> None:
    """Poll ``fetch`` until it returns ``want``; on timeout say what it returned last."""
    seen: list[Any] = [None]

    def probe() -> bool | None:
        seen[0] = fetch()
        return True if seen[0] == want else None

    poll(probe, timeout=timeout, what=what, last=lambda: f"{seen[0]!r}, want {want!r}")


Key = tuple[str, ...]
TrueCells = Mapping[Key, Mapping[str, Any]]


def _published_value(entry: Mapping[str, Any], measure: str) -> int | None:
    value = entry.get(measure)
    return None if value is None else int(value)


def _check_entry(where: str, entry: Mapping[str, Any], true: int, measure: str, k: int) -> bool:
    """Assert the primary rule for one published entry; return whether it is hidden."""
    flags = entry.get("suppressed", {}) or {}
    flag = flags.get(measure)
    value = _published_value(entry, measure)
    if 1 <= true < k:
        assert value is None and flag == "primary", (
            f"{where} {measure}: true {true} < k={k} must be hidden as primary, "
            f"published {value!r} flag {flag!r}"
        )
        return True
    if value is None:
        assert flag == "complementary", (
            f"{where} {measure}: hidden (true {true} >= k or 0) but flagged {flag!r}"
        )
        # The label promises k or more: zeros are never hidden.
        assert true >= k, f"{where} {measure}: complementary but true count {true} < k={k}"
        return True
    assert flag is None, f"{where} {measure}: published {value} but flagged {flag!r}"
    assert value == true, f"{where} {measure}: published {value}, expected {true}"
    assert not 1 <= value < k, f"{where} {measure}: published small count {value} (k={k})"
    return False


def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [list(r) for r in rows if any(r)]
    rank = 0
    columns = len(matrix[0]) if matrix else 0
    for col in range(columns):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        head = matrix[rank][col]
        matrix[rank] = [v / head for v in matrix[rank]]
        for i in range(len(matrix)):
            if i != rank and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def recoverable(lines: Sequence[Sequence[tuple[int, int]]], hidden: Sequence[int]) -> list[int]:
    """Hidden entries whose value the published entries determine. ``lines`` are equations
    ``sum(coef * entry) = 0`` as ``[(entry, coef), ...]``; ``hidden`` the hidden entry ids."""
    index = {entry: i for i, entry in enumerate(hidden)}
    rows: list[list[Fraction]] = []
    for line in lines:
        row = [Fraction(0)] * len(hidden)
        for entry, coef in line:
            if entry in index:
                row[index[entry]] += coef
        if any(row):
            rows.append(row)
    base = _rank(rows)
    found = []
    for entry, i in index.items():
        unit = [Fraction(0)] * len(hidden)
        unit[i] = Fraction(1)
        if _rank([*rows, unit]) == base:
            found.append(entry)
    return found


def check_donor_report(
    report: Mapping[str, Any], true_cells: TrueCells, by: Sequence[str], k: int
) -> None:
    """Assert everything the module docstring lists for a JSON donor report."""
    assert list(report["by"]) == list(by)
    assert int(report["k"]) == k
    dims = list(by)
    published = {tuple(str(row[d]) for d in dims): row for row in report["rows"]}
    for key in true_cells:
        assert key in published, f"cell {key} is missing from the report"
    for key, row in published.items():
        if key not in true_cells:
            assert row.get("suppressed"), f"cell {key} is in the report but counts nothing"

    def true(key: Key, measure: str) -> int:
        cell = true_cells.get(key)
        return int(cell[measure]) if cell else 0

    # The grid: rows = first dimension, columns = the others (the service's layout).
    row_keys = sorted({key[:1] for key in published} | {key[:1] for key in true_cells})
    col_keys = sorted({key[1:] for key in published} | {key[1:] for key in true_cells})
    row_totals = {tuple(str(e[d]) for d in dims[:1]): e for e in report.get("row_totals", [])}
    col_totals = {tuple(str(e[d]) for d in dims[1:]): e for e in report.get("column_totals", [])}
    two_dims = len(dims) >= 2
    if two_dims:
        assert set(row_totals) == set(row_keys), (set(row_totals), row_keys)
        assert set(col_totals) == set(col_keys), (set(col_totals), col_keys)

    for measure in MEASURES:
        entries: dict[str, int] = {}  # entry name -> id
        hidden: list[int] = []

        def entry_id(
            name: str,
            is_hidden: bool,
            entries: dict[str, int] = entries,
            hidden: list[int] = hidden,
        ) -> int:
            entries[name] = len(entries)
            if is_hidden:
                hidden.append(entries[name])
            return entries[name]

        cell_ids: dict[Key, int] = {}
        for key in sorted(set(published) | set(true_cells)):
            row = published.get(key)
            if row is None:  # absent: a published zero
                cell_ids[key] = entry_id(f"cell{key}", False)
                continue
            is_hidden = _check_entry(f"cell {key}", row, true(key, measure), measure, k)
            cell_ids[key] = entry_id(f"cell{key}", is_hidden)
        grand_true = sum(true(key, measure) for key in true_cells)
        grand_hidden = _check_entry("grand total", report["totals"], grand_true, measure, k)
        grand_id = entry_id("grand", grand_hidden)
        lines: list[list[tuple[int, int]]] = []
        if not two_dims:
            lines.append([*((i, 1) for i in cell_ids.values()), (grand_id, -1)])
        else:
            row_ids: dict[Key, int] = {}
            for rk in row_keys:
                value = sum(true(rk + ck, measure) for ck in col_keys)
                is_hidden = _check_entry(f"row total {rk}", row_totals[rk], value, measure, k)
                row_ids[rk] = entry_id(f"row{rk}", is_hidden)
            col_ids: dict[Key, int] = {}
            for ck in col_keys:
                value = sum(true(rk + ck, measure) for rk in row_keys)
                is_hidden = _check_entry(f"column total {ck}", col_totals[ck], value, measure, k)
                col_ids[ck] = entry_id(f"col{ck}", is_hidden)
            for rk in row_keys:
                members = [cell_ids[rk + ck] for ck in col_keys if rk + ck in cell_ids]
                lines.append([*((i, 1) for i in members), (row_ids[rk], -1)])
            for ck in col_keys:
                members = [cell_ids[rk + ck] for rk in row_keys if rk + ck in cell_ids]
                lines.append([*((i, 1) for i in members), (col_ids[ck], -1)])
            lines.append([*((i, 1) for i in row_ids.values()), (grand_id, -1)])
            lines.append([*((i, 1) for i in col_ids.values()), (grand_id, -1)])
        hidden_set = set(hidden)
        for line in lines:
            count = sum(entry in hidden_set for entry, _ in line)
            names = [n for n, i in entries.items() if i in {e for e, _ in line}]
            assert count != 1, f"{measure}: a line has exactly one hidden member: {names}"
        exposed = recoverable(lines, hidden)
        assert not exposed, (
            f"{measure}: hidden values recoverable from the published ones: "
            f"{[n for n, i in entries.items() if i in exposed]}"
        )
        published_total = report["totals"].get(measure)
        if published_total is not None:
            assert published_total == grand_true

    # Means: hidden with the feedback count, else exact.
    for key, row in published.items():
        flags = row.get("suppressed", {}) or {}
        if "feedback_responses" in flags:
            assert row.get("satisfaction_mean") is None, f"cell {key}: mean of a hidden count"
        else:
            want = true_cells[key]["satisfaction_mean"] if key in true_cells else None
            assert row.get("satisfaction_mean") == want, (key, row.get("satisfaction_mean"), want)


def check_unsuppressed(report: Mapping[str, Any], true_cells: TrueCells, by: Sequence[str]) -> None:
    """With ``k=1`` nothing is hidden: the rows must equal the expected cells exactly."""
    dims = list(by)
    got = {
        tuple(str(row[d]) for d in dims): {m: row[m] for m in (*MEASURES, "satisfaction_mean")}
        for row in report["rows"]
    }
    want = {key: dict(value) for key, value in true_cells.items()}
    assert got == want
    for measure in MEASURES:
        assert report["totals"][measure] == sum(v[measure] for v in true_cells.values())


def check_csv_matches_json(rows: list[list[str]], report: Mapping[str, Any]) -> None:
    """The CSV export says the same as the JSON: same rows in the same order, ``<k`` where the
    JSON hides a primary count, ``x`` where it hides a complementary one, and a ``TOTAL``
    line (then, after a blank line, the evidence rows)."""
    dims = list(report["by"]) or ["scope"]
    k = int(report["k"])
    columns = [*MEASURES, "satisfaction_mean"]
    ratio_codes = list(RATIO_CODES)
    assert rows[0] == [*dims, *columns, *ratio_codes], rows[0]
    end = rows.index([]) if [] in rows else len(rows)  # the evidence rows follow a blank line
    body = rows[1:end]
    assert len(body) == len(report["rows"]) + 1, (len(body), len(report["rows"]))
    if "evidence" in report:
        assert rows[end + 1] == ["section", "item", "figure", "value"], rows[end + 1 :]

    def expect(entry: Mapping[str, Any], labels: list[str]) -> list[str]:
        flags = entry.get("suppressed", {}) or {}
        out = list(labels)
        for column in columns:
            value = entry.get(column)
            reason = flags.get(column)
            if column == "satisfaction_mean" and "feedback_responses" in flags:
                reason = "complementary"
            if reason == "primary":
                out.append(f"<{k}")
            elif reason is not None:
                out.append("x")  # complementary: never shown as <k; it holds k or more
            elif value is None:
                out.append("")
            else:
                out.append(str(value))
        hidden = entry.get("indicators_hidden", {})
        for code in ratio_codes:  # a ratio made of a hidden count is hidden with it
            value = entry.get("indicators", {}).get(code)
            shown = "" if value is None else str(value)
            out.append("x" if hidden.get(code) == "suppressed" else shown)
        return out

    for line, row in zip(body, report["rows"], strict=False):
        labels = [str(row[d]) for d in dims] if report["by"] else ["all"]
        assert _normalise(line) == _normalise(expect(row, labels)), (line, row)
    total_labels = ["TOTAL"] + [""] * (len(dims) - 1)
    assert _normalise(body[-1]) == _normalise(expect(report["totals"], total_labels))
    for line in body:
        for value in line[len(dims) : len(dims) + len(MEASURES)]:
            if value and not value.startswith("<") and value != "x":
                assert not 1 <= int(value) < k, f"CSV publishes a small count: {line}"


def _normalise(line: Sequence[str]) -> list[str]:
    out = []
    for value in line:
        try:
            number = float(value)
        except ValueError:
            out.append(value)
        else:
            out.append(f"{number:g}")
    return out
