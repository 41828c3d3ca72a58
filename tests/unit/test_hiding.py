"""Small counts are never shown, and never computable from what is shown."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.results import Concealed, hide_small


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
