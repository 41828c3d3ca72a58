"""Right-to-left text (Arabic, Hebrew) for places that neither shape nor reorder it themselves.

matplotlib draws the characters of a string one after the other, left to right, each in its
stand-alone form: Arabic comes out with its letters unjoined and in reverse order. `visual` turns
the logical text (as typed) into the characters to draw: Arabic letters in their contextual
presentation forms (arabic_reshaper), then in display order (the Unicode bidi algorithm, by
python-bidi) with brackets mirrored. Text without right-to-left characters is returned as it is.

Wrap text on its logical form first and make each line visual afterwards, with the direction of
the whole paragraph (`visual(line, rtl=is_rtl_paragraph(paragraph))`): made visual first, a
wrapped paragraph would list its lines in the wrong order.

`display_width` counts the columns text takes in a monospace block, for padding.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from arabic_reshaper import ArabicReshaper

LRM = "\u200e"  # LEFT-TO-RIGHT MARK: a strong left-to-right character that takes no room
RLM = "\u200f"  # RIGHT-TO-LEFT MARK: its right-to-left counterpart

# Blocks of right-to-left scripts: Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic and
# the Arabic supplements and extensions (U+0590–U+08FF), the Hebrew and Arabic presentation forms
# (U+FB1D–U+FDFF, U+FE70–U+FEFC; not U+FEFF), and the historic and Adlam ranges beyond the BMP.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
# A boundary-neutral character, ignored by the bidi algorithm and kept next to the character before
# it: it tells whether a bracket ended up in a reversed (right-to-left) run, see _mirror.
_TAG = "\U000e0001"


def is_rtl(text: str) -> bool:
    """Whether text holds any character of a right-to-left script (Arabic, Hebrew, ...)."""
    return _RTL.search(text) is not None


def is_rtl_paragraph(text: str) -> bool:
    """Whether text reads from right to left as a whole: its first strong character is
    right-to-left (rules P2–P3 of the bidi algorithm, as chat apps decide a paragraph's
    direction). "n = 20 · مرحبا" is a left-to-right paragraph, "مرحبا n = 20" a right-to-left
    one."""
    if not is_rtl(text):
        return False
    from bidi import get_base_level

    try:
        return get_base_level(text) == 1
    except ValueError:  # "no paragraphs": nothing but a line break
        return False


def visual(text: str, *, rtl: bool | None = None) -> str:
    """The characters to draw, left to right, for text in logical order.

    Arabic letters take their joined forms (U+FB50–U+FDFF, U+FE70–U+FEFC), with the lam-alef
    ligatures; harakat (short-vowel marks) are dropped, as a renderer without shaping would put
    them on the wrong letter. Then each line is put in display order, brackets mirrored where they
    read right to left. `rtl` sets the direction of every line (for the lines of one wrapped
    paragraph); by default each line takes its own from its first strong character.
    Text without right-to-left characters comes back unchanged (unless rtl=True).
    """
    if rtl is not True and not is_rtl(text):
        return text
    return "\n".join(_visual_line(line, rtl) for line in text.split("\n"))


def display_width(text: str) -> int:
    """Columns text takes in a monospace block: combining marks (Arabic harakat, accents) and
    invisible format characters (LRM, RLM, ZWJ) take none, wide East Asian characters two."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _visual_line(line: str, rtl: bool | None) -> str:
    from bidi import get_display

    line = line.replace(_TAG, "")
    shaped = _reshaper().reshape(line) if is_rtl(line) else line
    mirrored = _mirrors()
    tagged = "".join(c + _TAG if c in mirrored else c for c in shaped)
    base = None if rtl is None else ("R" if rtl else "L")
    shown = cast(str, get_display(tagged, base_dir=base))
    return _mirror(shown, mirrored) if _TAG in tagged else shown


def _mirror(shown: str, mirrored: dict[str, str]) -> str:
    """Rule L4, which python-bidi's get_display leaves out (its issue #25): a bracket in a reversed
    run is drawn as its mirror image. Each bracket was followed by a _TAG in logical order; the tag
    still follows it in a left-to-right run and comes just before it in a reversed one."""
    out: list[str] = []
    i = 0
    while i < len(shown):
        char = shown[i]
        following = shown[i + 1] if i + 1 < len(shown) else ""
        if char == _TAG and following in mirrored:  # reversed: tag, then its bracket
            out.append(mirrored[following])
            i += 2
        elif char in mirrored and following == _TAG:  # left to right: bracket, then its tag
            out.append(char)
            i += 2
        else:
            if char != _TAG:
                out.append(char)
            i += 1
    return "".join(out)


@cache
def _reshaper() -> ArabicReshaper:
    """Contextual forms and the lam-alef ligatures. The Allah ligature (U+FDF2), on by default in
    arabic_reshaper, is off: DejaVu Sans, the font matplotlib ships, has no glyph for it."""
    from arabic_reshaper import ArabicReshaper

    return ArabicReshaper(configuration={"delete_harakat": True, "ARABIC LIGATURE ALLAH": False})


@cache
def _mirrors() -> dict[str, str]:
    """Bidi_Mirroring_Glyph (BidiMirroring.txt), as python-bidi ships it."""
    from bidi.mirror import MIRRORED

    return dict(MIRRORED)
