"""A printable A4 invite poster: the council's name, a sentence per language, and a QR code per
channel big enough to scan from a metre. Pure segno and matplotlib: no Telegram, no database.

matplotlib and segno are imported inside the functions, so importing this module stays cheap;
pyplot and its global state are never used, so a poster can be drawn from any task or thread.
The QR codes are filled paths, so the PDF is vector and prints sharp at any size.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

WIDTH, HEIGHT = 8.27, 11.69  # A4 in inches
DPI = 150  # of the PNG: 1240 x 1753 px
TOP, BOTTOM, SIDE = 0.9, 0.7, 0.7  # page margins of the text, in inches
PAIR_QR = 3.3  # inches (8.4 cm) for each of two codes side by side
ALONE_QR = 4.5  # inches (11.4 cm) for a single code
QR_GAP = 0.8  # between two codes: room for both quiet zones (4 modules of ~0.08 in each)
TITLE_PT, SENTENCE_PT, LABEL_PT, LINK_PT = 30, 16, 22, 7
LINE = 1.25  # line spacing
INK, MUTED = "#111111", "#555555"
LABELS = ("Telegram", "WhatsApp")
"""Names of the apps, the same in every language."""


def make_poster(
    *, council: str, sentences: list[str], telegram: str, whatsapp: str | None
) -> tuple[bytes, bytes]:
    """The poster as (PNG at 150 dpi, vector PDF), both A4: a QR code for the Telegram link,
    and one for the WhatsApp link beside it when there is one."""
    links = [telegram] if whatsapp is None else [telegram, whatsapp]
    with _drawing() as (fig, renderer):
        text_end = _texts(fig, renderer, council, sentences)
        _codes(fig, renderer, links, text_end=text_end)
        return _saved(fig, "png"), _saved(fig, "pdf")


@contextmanager
def _drawing() -> Iterator[tuple[Figure, RendererAgg]]:
    """A fresh A4 figure on its own Agg canvas, with missing-glyph warnings kept out of the logs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing", category=UserWarning)
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor="white")
        yield fig, FigureCanvasAgg(fig).get_renderer()


def _texts(fig: Figure, renderer: RendererAgg, council: str, sentences: list[str]) -> float:
    """The council's name and the sentences, centred from the top; where they end (inches)."""
    y = TOP
    width = WIDTH - 2 * SIDE
    title = _wrap(renderer, council, TITLE_PT, width, bold=True)
    _write(fig, title, y, TITLE_PT, bold=True)
    y += _height(title, TITLE_PT) + 0.45
    for number, sentence in enumerate(sentences):
        lines = _wrap(renderer, sentence, SENTENCE_PT, width)
        _write(fig, lines, y, SENTENCE_PT, color=INK if number == 0 else MUTED)
        y += _height(lines, SENTENCE_PT) + 0.25
    return y


def _codes(fig: Figure, renderer: RendererAgg, links: list[str], *, text_end: float) -> None:
    """The QR codes side by side, each with its app's name and its link in small print under
    it, in the middle of the space the texts leave."""
    size = PAIR_QR if len(links) == 2 else ALONE_QR
    printed = [_wrap(renderer, link, LINK_PT, size, anywhere=True) for link in links]
    below = 0.2 + _height("x", LABEL_PT) + 0.1 + max(_height(p, LINK_PT) for p in printed)
    room = HEIGHT - BOTTOM - text_end
    top = text_end + max(0.2, (room - size - below) / 2)
    left = (WIDTH - len(links) * size - (len(links) - 1) * QR_GAP) / 2
    for index, (link, small) in enumerate(zip(links, printed, strict=True)):
        x = left + index * (size + QR_GAP)
        _qr(fig, link, x, top, size)
        label_top = top + size + 0.2
        _write(fig, LABELS[index], label_top, LABEL_PT, bold=True, centre=x + size / 2)
        link_top = label_top + _height("x", LABEL_PT) + 0.1
        _write(fig, small, link_top, LINK_PT, color=MUTED, centre=x + size / 2)


def _qr(fig: Figure, link: str, x: float, top: float, size: float) -> None:
    """A QR code of `link` whose dark modules fill a square of `size` inches; the quiet zone
    around it is the white page."""
    import segno
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    matrix = segno.make(link, error="m", micro=False).matrix
    modules = len(matrix)
    vertices: list[tuple[float, float]] = []
    for row, values in enumerate(matrix):  # one rectangle per run of dark modules in a row
        column = 0
        while column < modules:
            if not values[column]:
                column += 1
                continue
            start = column
            while column < modules and values[column]:
                column += 1
            vertices += [(start, row), (column, row), (column, row + 1), (start, row + 1), (0, 0)]
    codes = [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    path = Path(vertices, codes * (len(vertices) // 5))
    ax = fig.add_axes((x / WIDTH, 1 - (top + size) / HEIGHT, size / WIDTH, size / HEIGHT))
    ax.set_axis_off()
    ax.set_xlim(0, modules)
    ax.set_ylim(modules, 0)
    ax.add_patch(PathPatch(path, facecolor="black", edgecolor="none", antialiased=False))


def _write(
    fig: Figure,
    text: str,
    top: float,
    size: float,
    *,
    bold: bool = False,
    color: str = INK,
    centre: float = WIDTH / 2,
) -> None:
    """Centred text whose first line starts `top` inches below the top of the page."""
    fig.text(
        centre / WIDTH,
        1 - top / HEIGHT,
        text,
        fontsize=size,
        fontweight="bold" if bold else "normal",
        color=color,
        ha="center",
        va="top",
        multialignment="center",
        linespacing=LINE,
        parse_math=False,
    )


def _wrap(
    renderer: RendererAgg,
    text: str,
    size: float,
    inches: float,
    *,
    bold: bool = False,
    anywhere: bool = False,
) -> str:
    """Wrap on words (or, for a link, `anywhere`) so that no line is wider than `inches`."""
    from matplotlib.font_manager import FontProperties

    font = FontProperties(size=size, weight="bold" if bold else "normal")
    limit = inches * DPI
    text = text if anywhere else " ".join(text.split())
    width = max(len(text), 1)
    while True:
        lines = textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]
        widest = max(renderer.get_text_width_height_descent(line, font, False)[0] for line in lines)
        if widest <= limit or width <= 8:
            return "\n".join(lines)
        width = max(8, min(width - 1, int(width * limit / widest)))


def _height(text: str, size: float) -> float:
    """Height in inches of (multi-line) text at the given size."""
    return (text.count("\n") + 1) * size * LINE / 72


def _saved(fig: Figure, kind: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=kind, dpi=DPI, facecolor="white", metadata=_metadata(kind))
    return buffer.getvalue()


def _metadata(kind: str) -> dict[str, str | None]:
    """No creation date in the PDF, so the same poster gives the same bytes."""
    return {"CreationDate": None} if kind == "pdf" else {}
