"""Which counts may be shown: never one below the council's threshold k, and never one that
can be worked out from what is shown.

A count below k reads "fewer than k" (zero too, so a hidden cell never tells that it is
non-zero). A concealed count could still be worked out from totals: it is *pinned* when the
published numbers leave it only one possible value. Then more cells are concealed, the smallest
first, until no small count is pinned.
"""

from __future__ import annotations

import enum
import heapq
from collections import deque
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class Concealed(enum.Enum):
    """Why a count is not shown: below the threshold, or hidden to protect a count below it."""

    fewer = "fewer"
    protecting = "protecting"


def hide_small(
    counts: Mapping[K, int], k: int, *, total: int | None = None
) -> dict[K, int | Concealed]:
    """Counts below k (zero included) concealed as "fewer than k". When the counts add up to a
    known `total`, more cells are concealed (smallest first) until no concealed count between
    1 and k-1 can be worked out from the total and the shown counts; empty when that is
    impossible, and then nothing of the distribution may be shown."""
    shown: dict[K, int | Concealed] = {
        key: (n if n >= k else Concealed.fewer) for key, n in counts.items()
    }
    if total is None:
        return shown
    while _pinned(shown, counts, k, total):
        candidates = sorted((n, str(key), key) for key, n in shown.items() if isinstance(n, int))
        if not candidates:
            return {}  # even with everything concealed the total gives a count away: show nothing
        shown[candidates[0][2]] = Concealed.protecting
    return shown


def _pinned(
    shown: Mapping[K, int | Concealed], counts: Mapping[K, int], k: int, total: int
) -> bool:
    """True when some concealed count of 1..k-1 has only one possible value."""
    rest = total - sum(n for n in shown.values() if isinstance(n, int))
    low = {
        key: 0 if n is Concealed.fewer else k
        for key, n in shown.items()
        if isinstance(n, Concealed)
    }
    high = {
        key: k - 1 if n is Concealed.fewer else rest
        for key, n in shown.items()
        if isinstance(n, Concealed)
    }
    for key in low:
        least = max(low[key], rest - sum(high[other] for other in high if other != key))
        most = min(high[key], rest - sum(low[other] for other in low if other != key))
        if least == most and 1 <= counts[key] < k:
            return True
    return False


def hide_small_and_complement(
    counts: Mapping[K, int], k: int, *, answered: int
) -> dict[K, int | Concealed]:
    """Several choices: each count is also a count of who did *not* choose it, so both must
    be 0 or at least k for the count to be shown."""
    return {
        key: n
        if (n == 0 or n >= k) and (answered - n == 0 or answered - n >= k)
        else Concealed.fewer
        for key, n in counts.items()
    }


Cell = tuple[int, int]
Node = tuple[str, int]
Published = int | Concealed


def protect_table(
    counts: Sequence[Sequence[int]],
    k: int,
    *,
    row_totals: Sequence[Published],
    column_totals: Sequence[Published],
) -> list[list[Published]] | None:
    """A table of counts (answers × groups, each unit counted once) as it may be shown, given
    its totals as they are already shown elsewhere. None when no concealment protects it.

    The check is exact. With the totals written negated beside the table, every row and column
    adds up to zero. Any other table that fits what is shown differs from the true one by
    cycles of +1 and −1 through concealed cells, and one such cycle through a cell already
    moves it. So a concealed cell is pinned exactly when no cycle through it keeps every
    concealed cell in its range; finding one is a path search in a small graph.
    """
    grid = _Grid(counts, k, row_totals=row_totals, column_totals=column_totals)
    while (cell := grid.first_pinned()) is not None:
        if not grid.conceal_cycle_through(cell):
            return None
    return grid.inner()


class _Grid:
    """The table with its totals: row totals in the last column, column totals in the last
    row (both negated), the grand total in the corner. Only inner cells may be concealed."""

    def __init__(
        self,
        counts: Sequence[Sequence[int]],
        k: int,
        *,
        row_totals: Sequence[Published],
        column_totals: Sequence[Published],
    ) -> None:
        self.k = k
        self.rows, self.columns = len(counts), len(counts[0]) if counts else 0
        row_sums = [sum(row) for row in counts]
        column_sums = [sum(row[c] for row in counts) for c in range(self.columns)]
        self.total = sum(row_sums)
        self.value: list[list[int]] = [
            [*row, -row_sum] for row, row_sum in zip(counts, row_sums, strict=True)
        ]
        self.value.append([*(-n for n in column_sums), self.total])
        self.state: list[list[Published]] = [
            [n if n >= k else Concealed.fewer for n in row] for row in counts
        ]
        for row, shown in zip(self.state, row_totals, strict=True):
            row.append(shown)
        self.state.append([*column_totals, self.total])

    def inner(self) -> list[list[Published]]:
        return [row[: self.columns] for row in self.state[: self.rows]]

    def first_pinned(self) -> Cell | None:
        """A concealed count of 1..k-1 (inside or a total) that has only one possible value."""
        for r, row in enumerate(self.state):
            for c, state in enumerate(row):
                small = 1 <= abs(self.value[r][c]) < self.k
                if isinstance(state, Concealed) and small and self._pinned((r, c)):
                    return r, c
        return None

    def conceal_cycle_through(self, cell: Cell) -> bool:
        """Conceal the shown counts on the cheapest cycle that lets `cell` move (cheapest: the
        smallest sum of counts newly hidden). False when no cycle exists at all."""
        best: tuple[int, list[Cell]] | None = None
        for step in (1, -1):
            found = self._cheapest_cycle(cell, step) if self._fits(cell, step) else None
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        if best is None:
            return False
        for r, c in best[1]:
            self.state[r][c] = Concealed.protecting
        return True

    def _cheapest_cycle(self, cell: Cell, step: int) -> tuple[int, list[Cell]] | None:
        """Dijkstra from the cell's row to its column: row→column through a cell changing by
        -step, column→row through one changing by +step. A concealed cell that can change costs
        nothing; a shown inner count costs its value (it would be concealed)."""
        start: Node = ("row", cell[0])
        target: Node = ("column", cell[1])
        cost: dict[Node, int] = {start: 0}
        came_from: dict[Node, tuple[Node, Cell]] = {}
        queue: list[tuple[int, Node]] = [(0, start)]
        while queue:
            spent, node = heapq.heappop(queue)
            if node == target:
                return spent, self._shown_on_path(came_from, target)
            if spent > cost.get(node, spent):
                continue
            for nxt, through, price in self._edges(node, step, avoid=cell):
                if spent + price < cost.get(nxt, spent + price + 1):
                    cost[nxt] = spent + price
                    came_from[nxt] = (node, through)
                    heapq.heappush(queue, (spent + price, nxt))
        return None

    def _edges(self, node: Node, step: int, *, avoid: Cell) -> Iterator[tuple[Node, Cell, int]]:
        side, index = node
        if side == "row":
            for c in range(self.columns + 1):
                if (price := self._price((index, c), -step, avoid)) is not None:
                    yield ("column", c), (index, c), price
        else:
            for r in range(self.rows + 1):
                if (price := self._price((r, index), step, avoid)) is not None:
                    yield ("row", r), (r, index), price

    def _price(self, cell: Cell, step: int, avoid: Cell) -> int | None:
        """What changing `cell` by `step` costs: 0 when concealed and in range, its value when
        a shown inner count that could then change, None when impossible."""
        r, c = cell
        if cell == avoid:
            return None
        if isinstance(self.state[r][c], Concealed):
            return 0 if self._fits(cell, step) else None
        inner = r < self.rows and c < self.columns
        value = self.value[r][c]
        if inner and self.k <= value + step <= self.total:
            return value
        return None

    def _shown_on_path(self, came_from: dict[Node, tuple[Node, Cell]], target: Node) -> list[Cell]:
        cells, node = [], target
        while node in came_from:
            node, (r, c) = came_from[node]
            if isinstance(self.state[r][c], int):
                cells.append((r, c))
        return cells

    def _bounds(self, r: int, c: int) -> tuple[int, int]:
        """What a reader knows of a concealed cell: below k, or at least k."""
        state = self.state[r][c]
        low, high = (0, self.k - 1) if state is Concealed.fewer else (self.k, self.total)
        is_total = r == self.rows or c == self.columns
        return (-high, -low) if is_total else (low, high)

    def _can_move(self, cell: Cell, step: int) -> bool:
        """True when a cycle through concealed cells lets `cell` change by `step`: the rest of
        its row changes by -step somewhere, that cell's column by +step, and so on, until the
        path comes back to the cell's column."""
        if not self._fits(cell, step):
            return False
        start_row, target_column = cell
        seen_rows, seen_columns = {start_row}, set()
        queue: deque[tuple[str, int]] = deque([("row", start_row)])
        while queue:
            side, index = queue.popleft()
            if side == "row":
                for c in range(self.columns + 1):
                    if c not in seen_columns and self._fits((index, c), -step, avoid=cell):
                        if c == target_column:
                            return True
                        seen_columns.add(c)
                        queue.append(("column", c))
            else:
                for r in range(self.rows + 1):
                    if r not in seen_rows and self._fits((r, index), step, avoid=cell):
                        seen_rows.add(r)
                        queue.append(("row", r))
        return False

    def _fits(self, cell: Cell, step: int, avoid: Cell | None = None) -> bool:
        r, c = cell
        if cell == avoid or not isinstance(self.state[r][c], Concealed):
            return False
        low, high = self._bounds(r, c)
        return low <= self.value[r][c] + step <= high

    def _pinned(self, cell: Cell) -> bool:
        return not (self._can_move(cell, 1) or self._can_move(cell, -1))
