"""Arabic for renderers that do not shape it (visual), and Arabic rows in monospace tables."""

from __future__ import annotations

import html
import re

import pytest
from bidi import get_display

from bot.results.disclosure import Concealed
from bot.results.rtl import LRM, RLM, display_width, is_rtl, is_rtl_paragraph, visual
from bot.results.tables import CELL_WIDTH, LABEL_WIDTH, cell_text, monospace_table

QUESTION = "كيف كان أول لقاء مع فريق الحي؟"
BASE_LETTERS = re.compile("[\u0621-\u064a]")
PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufefc]")


def test_visual_joins_arabic_letters_and_puts_them_in_reading_order() -> None:
    shown = visual(QUESTION)
    assert not BASE_LETTERS.search(shown), "every letter takes a contextual form"
    letters = [c for c in shown if not c.isspace() and c != "؟"]
    assert all(PRESENTATION_FORMS.fullmatch(c) for c in letters)
    # Drawn left to right: the question mark that ends the sentence comes first, and the first
    # word, كيف, last: kaf (initial form), yeh (medial), feh (final) read from the right.
    assert shown[0] == "؟"
    assert shown.endswith("\ufed2\ufef4\ufedb")
    assert visual("لا") == "\ufefb", "lam-alef is one ligature"


@pytest.mark.parametrize("text", ["Hoe gaat het?", "", "Goed 😀 (5) $10", "n ≥ 5 · 42%"])
def test_text_without_rtl_comes_back_unchanged(text: str) -> None:
    assert visual(text) == text
    assert not is_rtl(text)
    assert not is_rtl_paragraph(text)


def test_mixed_text_keeps_the_latin_and_mirrors_brackets_in_arabic() -> None:
    good = visual("جيد")
    assert good == "\ufeaa\ufef4\ufe9f"
    assert visual("n = 20 · جيد") == "n = 20 · " + good
    assert visual("(جيد)") == "(" + good + ")", "brackets point at what they enclose"
    assert visual("جيد (5)") == "(5) " + good
    assert visual("Groep (جيد) 3") == "Groep (" + good + ") 3"
    assert visual("שלום") == "םולש", "Hebrew is reordered, not reshaped"


def test_lines_of_one_paragraph_share_its_direction() -> None:
    assert visual("(5) - 3") == "(5) - 3"
    assert visual("(5) - 3", rtl=True) == "3 - (5)", "as the end of an Arabic paragraph"
    assert visual("n = 5", rtl=True) == "n = 5", "a Latin run reads left to right anyway"
    assert visual("جيد\nnee") == visual("جيد") + "\nnee", "each line on its own by default"


def test_direction_of_a_paragraph_is_that_of_its_first_letter() -> None:
    assert is_rtl("n = 20 · مرحبا")
    assert not is_rtl_paragraph("n = 20 · مرحبا")
    assert is_rtl_paragraph("٢٠ مرحبا n")
    assert is_rtl_paragraph("שלום")


def test_every_glyph_visual_draws_is_in_the_font_matplotlib_ships() -> None:
    from matplotlib import font_manager, ft2font

    # The letters of Arabic itself (U+0621–U+063A, U+0641–U+064A); not those for other languages.
    alphabet = [chr(c) for c in [*range(0x0621, 0x063B), *range(0x0641, 0x064B)]]
    words = [f"{a}ب{a}ب{a}" for a in alphabet] + ["لا لأ لإ لآ", "الله", "مُمْتَاز", "פסח"]
    shown = {c for word in words for c in visual(word)}
    for weight in ("normal", "bold"):
        path = font_manager.findfont(
            font_manager.FontProperties(family="DejaVu Sans", weight=weight)
        )
        charmap = ft2font.FT2Font(path).get_charmap()
        missing = sorted(f"U+{ord(c):04X}" for c in shown if ord(c) not in charmap)
        assert not missing, (path, missing)


def test_display_width_counts_columns() -> None:
    assert display_width("مُمْتَاز") == 5, "harakat take no column"
    assert display_width(LRM + "ab" + RLM) == 2
    assert display_width("表") == 2


def rows_of(table: str) -> list[str]:
    """The lines of a table's <pre> blocks, unescaped."""
    return [
        line
        for block in re.findall(r"<pre>(.*?)</pre>", table, flags=re.S)
        for line in html.unescape(block).split("\n")
    ]


def columns_after_label(line: str) -> str:
    """What a line holds from display column LABEL_WIDTH on, in logical order, marks left out."""
    column, rest = 0, []
    for char in line:
        if column >= LABEL_WIDTH and char not in (LRM, RLM):
            rest.append(char)
        column += display_width(char)
    return "".join(rest)


def without_marks(text: str) -> str:
    return text.replace(LRM, "").replace(RLM, "")


ARABIC_ROWS: list[tuple[str, list[int | Concealed]]] = [
    ("جيد جدا", [12, 3, Concealed.fewer]),
    ("مُمْتَاز جداً جداً جداً", [1, 22, 333]),  # harakat, and cut to fit
    ("لا أعرف (بعد)", [4, Concealed.protecting, 6]),
    ("Goed", [7, 8, 9]),
    ("עברית", [10, 11, 12]),
]
HEADERS = ["شمال", "west", "جنوب غرب"]


def expected_cells(values: list[int | Concealed]) -> str:
    return "".join(cell_text(v, 5).rjust(CELL_WIDTH) for v in values)


def test_rows_with_arabic_labels_are_equally_wide_and_keep_their_columns() -> None:
    lines = rows_of(monospace_table(HEADERS, ARABIC_ROWS, k=5))
    assert len(lines) == 1 + len(ARABIC_ROWS)
    widths = {display_width(line) for line in lines}
    assert widths == {LABEL_WIDTH + len(HEADERS) * CELL_WIDTH}
    for line, (_label, values) in zip(lines[1:], ARABIC_ROWS, strict=True):
        assert columns_after_label(line) == expected_cells(values)


def test_a_chat_app_applying_bidi_shows_the_numbers_in_their_columns() -> None:
    lines = rows_of(monospace_table(HEADERS, ARABIC_ROWS, k=5))
    for line, (label, values) in zip(lines[1:], ARABIC_ROWS, strict=True):
        cells = expected_cells(values)
        shown = without_marks(get_display(line))  # paragraph direction from the line, as an app
        assert shown.endswith(cells), (label, shown)
        if is_rtl(label):
            # The marks are what does it: without them the numbers jump.
            assert not without_marks(get_display(without_marks(line))).endswith(cells)
    header = without_marks(get_display(lines[0]))
    assert header.startswith(" " * LABEL_WIDTH)
    assert header.split() == [get_display(h).strip() for h in ("شمال", "west", "جنوب…")]


def test_a_right_to_left_label_ends_in_marks_and_a_latin_table_has_none() -> None:
    line = rows_of(monospace_table(["a"], [("نعم؟", [1])], k=5))[1]
    assert line == LRM + "نعم؟" + RLM + LRM + " " * (LABEL_WIDTH - 4) + "1".rjust(CELL_WIDTH)
    latin = monospace_table(["noord", "zuid"], [("Goed", [1, 2]), ("Slecht", [3, 4])], k=5)
    assert LRM not in latin
    assert RLM not in latin


def test_an_override_in_a_label_cannot_turn_its_line_around() -> None:
    line = rows_of(monospace_table(["a"], [("\u202eabc", [1])], k=5))[1]
    assert line == "abc" + " " * (LABEL_WIDTH - 3) + "1".rjust(CELL_WIDTH)
