"""Small tables in a monospace block, narrow enough for a phone: a label column and at most
four value columns per block (more columns continue in the next block)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.results.disclosure import Concealed
from bot.texts import Html

LABEL_WIDTH = 12
CELL_WIDTH = 6
PER_BLOCK = 4


def cell_text(value: int | Concealed, k: int) -> str:
    """A count, "<k" below the threshold, or "•" where it is hidden to protect another."""
    if isinstance(value, int):
        return str(value)
    return f"<{k}" if value is Concealed.fewer else "•"


def monospace_table(
    headers: Sequence[str], rows: Sequence[tuple[str, Sequence[int | Concealed]]], *, k: int
) -> Html:
    """The table as `<pre>` blocks; labels and headers are cut to fit and escaped."""
    blocks = []
    for start in range(0, len(headers), PER_BLOCK):
        columns = range(start, min(start + PER_BLOCK, len(headers)))
        lines = [" " * LABEL_WIDTH + "".join(_fit(headers[c]).rjust(CELL_WIDTH) for c in columns)]
        for label, values in rows:
            cells = "".join(cell_text(values[c], k).rjust(CELL_WIDTH) for c in columns)
            lines.append(_fit(label, LABEL_WIDTH).ljust(LABEL_WIDTH) + cells)
        blocks.append("<pre>" + html.escape("\n".join(lines)) + "</pre>")
    return Html("\n".join(blocks))


def _fit(text: str, width: int = CELL_WIDTH - 1) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
