"""Small tables in a monospace block, narrow enough for a phone: a label column and at most
four value columns per block (more columns continue in the next block).

Right-to-left labels and headers (Arabic, Hebrew). A chat app runs the Unicode bidi algorithm
over every line of a `<pre>` block. A line whose first letter is Arabic becomes a right-to-left
line, its columns in mirror order; and even in a left-to-right line, the numbers after an Arabic
label join its right-to-left run (digits after Arabic letters count as Arabic numbers, the spaces
between take their direction), so they come out on the wrong side of it. Hence, on a line with
right-to-left text only:

- the line starts with a LEFT-TO-RIGHT MARK (U+200E), so it is a left-to-right line;
- every right-to-left field (label or header, already cut to fit) is followed by a RIGHT-TO-LEFT
  MARK and a LEFT-TO-RIGHT MARK. The RLM keeps a trailing "…", "?" or ")" inside the label's run
  (where it belongs: at the label's reading end); the LRM ends that run, so the padding and the
  numbers after it stay left to right, in their columns.

Marks, not isolates (FSI … PDI): every bidi implementation has known LRM and RLM since Unicode
1.1, while isolates date from 6.3 and an older renderer shows them as boxes or ignores them.
Explicit embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) in a label are
dropped: an unclosed override would turn the rest of its line around, marks and all.

Fields are cut and padded by display width: combining marks (Arabic harakat) and the marks take
no column, wide characters two. Lines without right-to-left text are as they always were.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bot.results.disclosure import Concealed
from bot.results.rtl import LRM, RLM, display_width, is_rtl
from bot.texts import Html

LABEL_WIDTH = 12
CELL_WIDTH = 6
PER_BLOCK = 4

_EXPLICIT = re.compile("[\u202a-\u202e\u2066-\u2069]")


def cell_text(value: int | Concealed, k: int) -> str:
    """A count, "<k" below the threshold, or "•" where it is hidden to protect another."""
    if isinstance(value, int):
        return str(value)
    return f"<{k}" if value is Concealed.fewer else "•"


def monospace_table(
    headers: Sequence[str], rows: Sequence[tuple[str, Sequence[int | Concealed]]], *, k: int
) -> Html:
    """The table as `<pre>` blocks; labels and headers are cut to fit and escaped; every line has
    the same display width, and keeps its columns when it holds right-to-left text."""
    blocks = []
    for start in range(0, len(headers), PER_BLOCK):
        columns = range(start, min(start + PER_BLOCK, len(headers)))
        head = [" " * LABEL_WIDTH] + [_field(headers[c], CELL_WIDTH, right=True) for c in columns]
        lines = [_line(head)]
        for label, values in rows:
            cells = [cell_text(values[c], k).rjust(CELL_WIDTH) for c in columns]
            lines.append(_line([_field(label, LABEL_WIDTH, right=False), *cells]))
        blocks.append("<pre>" + html.escape("\n".join(lines)) + "</pre>")
    return Html("\n".join(blocks))


def _field(text: str, width: int, *, right: bool) -> str:
    """Text cut and padded to `width` columns (on the left when `right`); a header keeps a column
    free before it. Right-to-left text ends in RLM + LRM (see the module docstring)."""
    text = _fit(_EXPLICIT.sub("", text), width - 1 if right else width)
    pad = " " * (width - display_width(text))
    if is_rtl(text):
        text += RLM + LRM
    return pad + text if right else text + pad


def _line(fields: Sequence[str]) -> str:
    line = "".join(fields)
    return LRM + line if is_rtl(line) else line


def _fit(text: str, width: int = CELL_WIDTH - 1) -> str:
    """Text cut to `width` display columns, ending in "…" when cut; a letter keeps its marks."""
    if display_width(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        used += display_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"
