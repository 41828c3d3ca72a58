"""Results as PNG charts that read well on a phone; pure matplotlib, no Telegram, no database.

A concealed count gets no bar at all, so its row looks the same whatever the hidden count is.
Right-to-left text (Arabic, Hebrew) is wrapped on its logical text and every line keeps the
direction of its paragraph; a right-to-left title sits on the right. matplotlib 3.11 and later
shape and reorder text themselves (libraqm, HarfBuzz, SheenBidi) and get the logical text; older
versions draw characters one by one, left to right, and get bot.results.rtl.visual's output.
matplotlib is imported inside the functions, so importing this module stays cheap; pyplot and its
global state are never used, so charts can be drawn from any task or thread.
"""

from __future__ import annotations

import io
import math
import textwrap
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.results.rtl import LRM, RLM, is_rtl, is_rtl_paragraph, visual

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINE_STYLES = ("-", "--", ":", "-.")
INK = "#222222"
MUTED = "#666666"
GRID = "#DDDDDD"

DPI = 140
WIDTH = 8.0  # inches: 1120 px at DPI
SIDE = 0.35  # inches of margin left of everything and right of the title
LINE = 1.2  # line spacing of multi-line text
TITLE_PT, SUBTITLE_PT, LABEL_PT, NOTE_PT, TICK_PT = 15, 12, 13, 12, 12
BAR_IN = 0.34  # bar thickness in inches
BAR_RIGHT = 0.45  # inches right of the bar axis, room for the "100%" tick and long notes
NOTE_GAP = 0.012  # between a bar's end and its note, as a fraction of the axis
PLOT_IN = 3.4  # height of the trend plot in inches
TEXT: dict[str, Any] = {"parse_math": False, "linespacing": LINE, "ha": "left"}
# DejaVu Sans, which matplotlib ships, has the Arabic presentation forms that bot.results.rtl
# draws, and Hebrew; it lacks a few letters (Urdu heh goal and yeh barree, alef wasla, ...) and has
# no Arabic in its oblique style. Where these Debian fonts are installed, they fill in those glyphs.
FALLBACK_FONTS = ("Noto Sans Arabic", "Noto Naskh Arabic", "Amiri")


@dataclass(frozen=True)
class Bar:
    """One answer: its label, its share of n (None when concealed), and the note at its end."""

    label: str
    share: float | None
    note: str


@dataclass(frozen=True)
class Series:
    """One line in a trend chart: one point per x label; None leaves a gap."""

    label: str
    points: Sequence[float | None]


def bar_chart_png(title: str, subtitle: str, bars: Sequence[Bar]) -> bytes:
    """Horizontal bars, first answer at the top, on an axis from 0 to 100 %."""
    from matplotlib.ticker import PercentFormatter

    with _drawing() as (fig, renderer):
        axis = WIDTH - SIDE - BAR_RIGHT
        header = _header_height(renderer, title, subtitle)
        labels = [_fit(renderer, bar.label, LABEL_PT, axis) for bar in bars]
        # Per answer: the top of its label and the centre of its bar, in inches from the top.
        rows: list[tuple[float, float]] = []
        y = 0.05
        for label in labels:
            rows.append((y, y + _lines_in(label, LABEL_PT) + 0.06 + BAR_IN / 2))
            y += _lines_in(label, LABEL_PT) + 0.06 + BAR_IN + 0.24
        rows_height, footer = max(y, 0.6), 0.45
        height = header + rows_height + footer
        fig.set_size_inches(WIDTH, height)
        _header(fig, renderer, title, subtitle)

        ax = fig.add_axes((SIDE / WIDTH, footer / height, axis / WIDTH, rows_height / height))
        ax.set_xlim(0, 1)
        ax.set_ylim(rows_height, 0)  # y in inches from the top, so the first answer is on top
        ax.set_yticks([])
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        _tidy(ax)
        ax.spines["left"].set_visible(False)
        for bar, label, (top, centre) in zip(bars, labels, rows, strict=True):
            blank = {"facecolor": "white", "edgecolor": "none", "pad": 1}  # hides the grid
            style = _style(bar.label, fontsize=LABEL_PT, color=INK, va="top", bbox=blank)
            ax.text(0, top, label, **style)
            _draw_bar(ax, renderer, bar, centre, axis)
        return _png(fig)


def trend_chart_png(
    title: str,
    subtitle: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_label: str,
    *,
    y_max: float | None = None,
) -> bytes:
    """Lines over rounds, from 0 up; a None point leaves a gap. y_max caps the axis when given."""
    for line in series:
        if len(line.points) != len(x_labels):
            raise ValueError(f"series {line.label!r} needs one point per x label")
    with _drawing() as (fig, renderer):
        header = _header_height(renderer, title, subtitle)
        ticks = [_fit(renderer, x, TICK_PT, 1.6) for x in x_labels]
        slanted = sum(len(t.split("\n")[0]) for t in ticks) > 60
        tick_height = max((_lines_in(t, TICK_PT) for t in ticks), default=0.2)
        names = [_fit(renderer, line.label, TICK_PT, WIDTH / 2 - 1.0) for line in series]
        columns = 2 if len(names) > 1 else 1
        rows = math.ceil(len(names) / columns)  # the legend fills its first column first
        legend = sum(max(_lines_in(n, TICK_PT) for n in names[r::rows]) + 0.1 for r in range(rows))
        footer = 0.65 + legend + (tick_height * 1.6 + 0.3 if slanted else tick_height + 0.1)
        height = header + PLOT_IN + footer
        fig.set_size_inches(WIDTH, height)
        _header(fig, renderer, title, subtitle)

        left, right = 1.0, 0.35
        box = (left / WIDTH, footer / height, (WIDTH - left - right) / WIDTH, PLOT_IN / height)
        ax = fig.add_axes(box)
        _tidy(ax)
        ax.grid(axis="x", visible=False)
        positions = range(len(x_labels))
        for i, (line, name) in enumerate(zip(series, names, strict=True)):
            values = [math.nan if p is None else float(p) for p in line.points]
            ax.plot(
                positions,
                values,
                label=name,
                color=OKABE_ITO[i % 8],
                marker=MARKERS[i % 8],
                linestyle=LINE_STYLES[i % 4],
                linewidth=2.2,
                markersize=7,
                zorder=3,
            )
        ax.set_xticks(list(positions), ticks, parse_math=False)
        if slanted:
            for tick in ax.get_xticklabels():
                tick.set(rotation=30, ha="right", rotation_mode="anchor")
        ax.set_xlim(-0.5, max(len(x_labels) - 0.5, 0.5))
        ax.set_ylim(0, y_max if y_max is not None else _nice_top(series))
        name = _fit(renderer, y_label, TICK_PT, PLOT_IN)
        ax.set_ylabel(name, fontsize=TICK_PT, color=INK, parse_math=False, family=list(_families()))
        if names:
            key = fig.legend(
                loc="lower center",
                bbox_to_anchor=(0.5, 0.02),
                ncols=columns,
                prop=_font(TICK_PT),
                frameon=False,
                handlelength=3,
            )
            for text in key.get_texts():
                text.set_parse_math(False)
        return _png(fig)


@contextmanager
def _drawing() -> Iterator[tuple[Figure, RendererAgg]]:
    """A fresh figure on its own Agg canvas, with missing-glyph warnings kept out of the logs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing", category=UserWarning)
        fig = Figure(figsize=(WIDTH, 1.0), dpi=DPI)
        yield fig, FigureCanvasAgg(fig).get_renderer()


def _fit(renderer: RendererAgg, text: str, size: float, inches: float, bold: bool = False) -> str:
    """Wrap text on words so that no line is wider than the given inches; the lines come back
    visual (ready to draw). Wrapping is done on the logical text, and every line gets the
    direction of the whole paragraph, so a right-to-left paragraph keeps its lines in order."""
    font = _font(size, bold=bold)
    limit = inches * DPI
    text = " ".join(text.split())
    rtl = is_rtl_paragraph(text)
    width = max(len(text), 1)
    while True:
        wrapped = [_drawable(w, rtl) for w in textwrap.wrap(text, width=width) or [""]]
        widest = max(renderer.get_text_width_height_descent(w, font, False)[0] for w in wrapped)
        if widest <= limit or width <= 8:
            return "\n".join(wrapped)
        width = max(8, min(width - 1, int(width * limit / widest)))


def _drawable(line: str, rtl: bool) -> str:
    """One line of a paragraph as matplotlib gets it, laid out in the paragraph's direction.

    matplotlib 3.11+ lays out each line itself, taking its direction from the line's first strong
    character: a mark in front keeps the paragraph's direction. Older versions get the visual
    text. Lines without right-to-left text in a left-to-right paragraph stay as they are."""
    if not rtl and not is_rtl(line):
        return line
    if not _shapes_text():
        return visual(line, rtl=rtl)
    return (RLM if rtl else LRM) + line


@cache
def _shapes_text() -> bool:
    """Whether matplotlib shapes and orders text itself, which it does from 3.11 on (libraqm)."""
    import matplotlib

    return tuple(matplotlib.__version_info__[:2]) >= (3, 11)


@cache
def _families() -> tuple[str, ...]:
    """DejaVu Sans, then those of FALLBACK_FONTS that are installed (a missing family in the list
    would only log a complaint)."""
    from matplotlib.font_manager import fontManager

    installed = {font.name for font in fontManager.ttflist}
    return ("DejaVu Sans", *(family for family in FALLBACK_FONTS if family in installed))


def _font(size: float, *, bold: bool = False) -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=list(_families()), size=size, weight="bold" if bold else "normal")


def _style(logical: str, **style: Any) -> dict[str, Any]:
    """Text properties for the visual form of `logical`: the fonts, and the lines of a
    right-to-left paragraph aligned on the right of their block."""
    align = "right" if is_rtl_paragraph(logical) else "left"
    return {**TEXT, "family": list(_families()), "multialignment": align, **style}


def _lines_in(text: str, size: float) -> float:
    """Height in inches of (multi-line) text at the given size."""
    return (text.count("\n") + 1) * size * LINE / 72


def _header_height(renderer: RendererAgg, title: str, subtitle: str) -> float:
    """Inches taken by the title and subtitle, with the space around them."""
    title = _fit(renderer, title, TITLE_PT, WIDTH - 2 * SIDE, bold=True)
    subtitle = _fit(renderer, subtitle, SUBTITLE_PT, WIDTH - 2 * SIDE)
    return 0.25 + _lines_in(title, TITLE_PT) + 0.08 + _lines_in(subtitle, SUBTITLE_PT) + 0.3


def _header(fig: Figure, renderer: RendererAgg, title: str, subtitle: str) -> None:
    """Bold title at the top left, the subtitle (e.g. "n = 42") under it in grey; both at the top
    right when the title reads from right to left."""
    height = fig.get_figheight()
    shown = _fit(renderer, title, TITLE_PT, WIDTH - 2 * SIDE, bold=True)
    under = _fit(renderer, subtitle, SUBTITLE_PT, WIDTH - 2 * SIDE)
    right = is_rtl_paragraph(title)
    x, ha = (1 - SIDE / WIDTH, "right") if right else (SIDE / WIDTH, "left")
    top = 1 - 0.25 / height
    style = _style(title, fontsize=TITLE_PT, weight="bold", color=INK, va="top", ha=ha)
    fig.text(x, top, shown, **style)
    below = top - (_lines_in(shown, TITLE_PT) + 0.08) / height
    fig.text(
        x, below, under, **_style(subtitle, fontsize=SUBTITLE_PT, color=MUTED, va="top", ha=ha)
    )


def _tidy(ax: Axes) -> None:
    """No chart junk: no top or right spine, no tick marks, a light grid behind the data."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color("#999999")
    ax.tick_params(
        labelsize=TICK_PT, labelfontfamily=list(_families()), colors=INK, length=0, pad=6
    )
    ax.set_axisbelow(True)
    ax.grid(color=GRID, linewidth=0.8)


def _draw_bar(ax: Axes, renderer: RendererAgg, bar: Bar, centre: float, axis: float) -> None:
    """A bar with its note; a concealed one is only a dotted outline with the note in grey, in
    italics unless it is right-to-left (DejaVu Sans has no oblique Arabic, Arabic no italics)."""
    from matplotlib.patches import Rectangle

    note = _drawable(bar.note, is_rtl_paragraph(bar.note))
    style = _style(bar.note, fontsize=NOTE_PT, va="center", zorder=3)
    if bar.share is None:
        ax.add_patch(
            Rectangle(
                (0, centre - BAR_IN / 2),
                1,
                BAR_IN,
                fill=False,
                edgecolor=MUTED,
                linestyle=":",
                linewidth=1,
            )
        )
        slant = "normal" if is_rtl(bar.note) else "italic"
        ax.text(NOTE_GAP, centre, note, color=MUTED, style=slant, **style)
        return
    if not math.isfinite(bar.share):
        raise ValueError(f"share must be between 0 and 1, not {bar.share!r}")
    share = min(max(bar.share, 0.0), 1.0)
    ax.barh(centre, share, height=BAR_IN, color=OKABE_ITO[0], zorder=2)
    wide = renderer.get_text_width_height_descent(note, _font(NOTE_PT), False)[0] / (axis * DPI)
    fits_after = share + NOTE_GAP + wide <= 1 + (BAR_RIGHT - 0.05) / axis
    if fits_after or share < wide + 2 * NOTE_GAP:
        ax.text(share + NOTE_GAP, centre, note, color=INK, **style)
    else:  # white on the blue bar, right-aligned inside its end
        style["ha"] = "right"
        ax.text(share - NOTE_GAP, centre, note, color="white", weight="bold", **style)


def _nice_top(series: Sequence[Series]) -> float:
    """The top of the y axis: a little room above the highest point."""
    values = [p for line in series for p in line.points if p is not None and math.isfinite(p)]
    highest = max(values, default=0.0)
    return highest * 1.1 if highest > 0 else 1.0


def _png(fig: Figure) -> bytes:
    """The figure as PNG bytes, with no software stamp, so equal charts give equal bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
