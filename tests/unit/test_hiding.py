"""Small counts are never shown, and never computable from what is shown."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.results.disclosure import Concealed, hide_small, protect_table


def test_counts_below_k_are_concealed() -> None:
    assert hide_small({"a": 9, "b": 4, "c": 0}, 5) == {
        "a": 9,
        "b": Concealed.fewer,
        "c": Concealed.fewer,
    }


def test_one_small_count_and_a_known_total_conceal_a_second_cell() -> None:
    shown = hide_small({"goed": 5, "slecht": 1}, 5, total=6)
    assert shown == {"goed": Concealed.protecting, "slecht": Concealed.fewer}


def test_small_counts_that_can_only_add_up_one_way_are_protected() -> None:
    assert hide_small({"a": 2, "b": 2, "c": 5}, 3, total=9)["c"] is Concealed.protecting
    assert hide_small({"a": 1, "b": 1, "c": 5}, 3, total=7)["c"] == 5, "0+2, 1+1, 2+0: safe"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=2, max_size=6), st.integers(3, 6))
def test_no_shown_number_lets_anyone_compute_a_hidden_one(counts: list[int], k: int) -> None:
    cells = dict(enumerate(counts))
    total = sum(counts)
    shown = hide_small(cells, k, total=total)
    if not shown:
        return  # nothing of the distribution is shown
    concealed = [key for key, value in shown.items() if isinstance(value, Concealed)]
    # Every table a reader could think of: shown cells exact, concealed ones in their ranges.
    ranges = [
        range(0, k) if shown[key] is Concealed.fewer else range(k, total + 1) for key in concealed
    ]
    fixed = sum(value for value in shown.values() if isinstance(value, int))
    possible = [combo for combo in itertools.product(*ranges) if fixed + sum(combo) == total]
    for index, key in enumerate(concealed):
        values = {combo[index] for combo in possible}
        if 1 <= cells[key] < k:
            assert len(values) > 1, f"cell {key} ({cells[key]}) can be worked out: {shown}"


def _possible_tables(
    shown: list[list[int | Concealed]],
    rows: list[int | Concealed],
    columns: list[int | Concealed],
    k: int,
    total: int,
) -> list[list[list[int]]]:
    """Every table a reader could think of, given what is shown (brute force, small tables)."""

    def fits(value: int, published: int | Concealed) -> bool:
        if isinstance(published, int):
            return value == published
        return value < k if published is Concealed.fewer else value >= k

    width = len(columns)
    cells = [(r, c) for r in range(len(rows)) for c in range(width)]
    found: list[list[list[int]]] = []
    table = [[0] * width for _ in rows]

    def place(index: int) -> None:
        if index == len(cells):
            sums = [sum(table[r][c] for r in range(len(rows))) for c in range(width)]
            if sum(sums) == total and all(map(fits, sums, columns)):
                found.append([row[:] for row in table])
            return
        r, c = cells[index]
        published = shown[r][c]
        choices = (
            [published]
            if isinstance(published, int)
            else range(0, k)
            if published is Concealed.fewer
            else range(k, total + 1)
        )
        for value in choices:
            table[r][c] = value
            if sum(sum(row) for row in table) > total:
                break
            if c == width - 1 and not fits(sum(table[r]), rows[r]):
                continue
            place(index + 1)
        table[r][c] = 0

    place(0)
    return found


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 3).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(0, 6), min_size=width, max_size=width), min_size=2, max_size=3
        )
    ),
    st.integers(3, 4),
)
def test_no_shown_number_in_a_breakdown_lets_anyone_compute_a_hidden_one(
    counts: list[list[int]], k: int
) -> None:
    total = sum(map(sum, counts))
    row_sums = [sum(row) for row in counts]
    column_sums = [sum(column) for column in zip(*counts, strict=True)]
    rows = hide_small(dict(enumerate(row_sums)), k, total=total)
    columns = hide_small(dict(enumerate(column_sums)), k, total=total)
    if not rows or not columns:
        return  # the overall results already show nothing, so neither does a breakdown
    row_totals, column_totals = list(rows.values()), list(columns.values())
    shown = protect_table(counts, k, row_totals=row_totals, column_totals=column_totals)
    if shown is None:
        return
    for r, row in enumerate(counts):
        for c, n in enumerate(row):
            assert shown[r][c] == n if isinstance(shown[r][c], int) else True
            assert isinstance(shown[r][c], Concealed) or n >= k, "a small count is shown"
    possible = _possible_tables(shown, row_totals, column_totals, k, total)
    assert counts in possible
    for r, row in enumerate(counts):
        for c, n in enumerate(row):
            if isinstance(shown[r][c], Concealed) and 1 <= n < k:
                values = {table[r][c] for table in possible}
                assert len(values) > 1, f"cell {r},{c} ({n}) can be worked out: {shown}"
    for r, n in enumerate(row_sums):
        if isinstance(row_totals[r], Concealed) and 1 <= n < k:
            assert len({sum(table[r]) for table in possible}) > 1, f"row {r} total pinned"
    for c, n in enumerate(column_sums):
        if isinstance(column_totals[c], Concealed) and 1 <= n < k:
            values = {sum(row[c] for row in table) for table in possible}
            assert len(values) > 1, f"column {c} total pinned"


def test_a_breakdown_hides_a_second_cell_in_the_row_and_the_column() -> None:
    # Noord: 7 good, 2 bad; Zuid: 8 good, 6 bad. The 2 alone could be worked out from the row
    # total (8 bad overall) and from the column total (9 in Noord).
    counts = [[7, 8], [2, 6]]
    shown = protect_table(counts, 5, row_totals=[15, 8], column_totals=[9, 14])
    assert shown == [
        [Concealed.protecting, Concealed.protecting],
        [Concealed.fewer, Concealed.protecting],
    ]
