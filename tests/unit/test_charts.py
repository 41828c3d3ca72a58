"""Charts are PNGs a phone can show, and a concealed count leaves no trace in the pixels."""

from __future__ import annotations

import re
import struct
import warnings

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.results import charts
from bot.results.charts import Bar, Series, bar_chart_png, trend_chart_png
from bot.results.rtl import RLM, visual

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUESTION = (
    "Hoe tevreden ben je over de manier waarop de begeleiders naar jou luisteren als je iets "
    "wilt veranderen aan je dagprogramma, je school of je vrije tijd? Denk aan de afgelopen drie "
    "maanden en aan alle begeleiders die je kent, ook die van de nachtdienst en het weekend."
)


def size_of(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def answers(count: int) -> list[Bar]:
    """A question's answers, each with a share and a note."""
    return [Bar(f"Antwoord {i + 1}", (i + 1) / (count + 1), f"{i + 1}0%") for i in range(count)]


def assert_phone_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    width, height = size_of(png)
    assert 1000 <= width <= 1200
    assert 300 <= height <= 2400
    assert 5_000 < len(png) < 1_000_000


def test_a_bar_chart_is_a_png_a_phone_can_show() -> None:
    bars = [
        Bar("Heel goed", 0.42, "42% (21)"),
        Bar("Gaat wel, soms wél en soms niet", 0.5, "50% (25)"),
        Bar("Slecht", None, "minder dan 5"),
    ]
    assert_phone_png(bar_chart_png(QUESTION, "n = 50", bars))


@pytest.mark.parametrize("count", [1, 2, 5, 10])
def test_every_number_of_answers_fits(count: int) -> None:
    assert_phone_png(bar_chart_png("Hoe gaat het?", "n = 42", answers(count)))


def test_more_answers_make_a_taller_chart() -> None:
    heights = [size_of(bar_chart_png("Vraag", "n = 42", answers(n)))[1] for n in (1, 3, 6, 10)]
    assert heights == sorted(set(heights)), heights


def test_a_longer_question_makes_a_taller_chart_not_a_wider_one() -> None:
    short = size_of(bar_chart_png("Hoe gaat het?", "n = 42", answers(3)))
    long = size_of(bar_chart_png(QUESTION, "n = 42", answers(3)))
    assert long[0] == short[0]
    assert long[1] > short[1]


def bars_from(counts: dict[str, int], n: int, k: int = 5) -> list[Bar]:
    """Bars the way a caller builds them: a count below k is concealed."""
    return [
        Bar(label, None, f"minder dan {k}")
        if count < k
        else Bar(label, count / n, f"{round(100 * count / n)}% ({count})")
        for label, count in counts.items()
    ]


def test_a_concealed_count_cannot_be_read_from_the_picture() -> None:
    def chart(hidden: int) -> bytes:
        counts = {"Ja": 18, "Nee": hidden, "Weet ik niet": 8}
        return bar_chart_png("Voel je je veilig op de groep?", "n = 30", bars_from(counts, n=30))

    assert chart(hidden=1) == chart(hidden=4)
    assert chart(hidden=5) != chart(hidden=6), "a shown count does change the picture"


def test_a_concealed_bar_looks_the_same_whatever_share_it_would_have_had() -> None:
    shown = bar_chart_png("Vraag", "n = 9", [Bar("Ja", 0.1, "10% (1)"), Bar("Nee", None, "< 5")])
    also = bar_chart_png("Vraag", "n = 9", [Bar("Ja", 0.4, "40% (4)"), Bar("Nee", None, "< 5")])
    hidden_one = bar_chart_png("Vraag", "n = 9", [Bar("Ja", None, "< 5"), Bar("Nee", None, "< 5")])
    hidden_four = bar_chart_png("Vraag", "n = 9", [Bar("Ja", None, "< 5"), Bar("Nee", None, "< 5")])
    assert shown != also, "a shown share does change the picture"
    assert hidden_one == hidden_four


def test_a_bar_chart_comes_out_the_same_every_time() -> None:
    bars = [Bar("Ja", 0.7, "70% (7)"), Bar("Nee", 0.3, "30% (3)")]
    assert bar_chart_png("Vraag", "n = 10", bars) == bar_chart_png("Vraag", "n = 10", bars)


def test_a_full_bar_and_an_empty_bar_render() -> None:
    bars = [Bar("Iedereen", 1.0, "100% (50)"), Bar("Niemand", 0.0, "0% (0)")]
    assert_phone_png(bar_chart_png("Vraag", "n = 50", bars))


def test_emoji_arabic_dollars_and_long_labels_do_not_raise_or_warn() -> None:
    long_label = "Een heel lang antwoord dat maar doorgaat en doorgaat tot zestig tekens lang"
    bars = [
        Bar("Goed 😀👍", 0.5, "50% (5)"),
        Bar("جيد جدا", 0.3, "30% (3)"),
        Bar("Kost $5 of $10 per maand", 0.2, "20% (2)"),
        Bar(long_label, None, "minder dan 5"),
        Bar("x" * 200, 0.95, "95% (19) — dat is veel"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        png = bar_chart_png(QUESTION + " 🤔", "n = 20 · مرحبا", bars)
        trend = trend_chart_png("Trend 😀", "n ≥ 5", ["ronde 1 🎉"], [Series("جيد", [3.0])], "$")
    assert_phone_png(png)
    assert_phone_png(trend)


def test_a_share_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError):
        bar_chart_png("Vraag", "n = 1", [Bar("Ja", float("nan"), "?")])


def test_a_trend_chart_with_gaps_renders() -> None:
    rounds = ["12 jan 2025", "9 feb 2025", "9 mrt 2025", "6 apr 2025", "4 mei 2025"]
    series = [
        Series("De Linde", [55.0, None, 62.0, 70.0, None]),
        Series("Het Anker", [None, None, 45.0, None, 65.0]),
        Series("Alle groepen", [50.0, 52.0, 55.0, 60.0, 61.0]),
    ]
    png = trend_chart_png("Voel je je veilig?", "% ja per ronde", rounds, series, "% ja", y_max=100)
    assert_phone_png(png)


def test_a_trend_chart_with_many_rounds_and_series_stays_phone_sized() -> None:
    rounds = [f"{day} maart 2025" for day in range(1, 13)]
    series = [
        Series(f"Groep {i}", [None if j % 4 == i % 4 else 3.5 for j in range(12)]) for i in range(8)
    ]
    png = trend_chart_png(QUESTION, "gemiddelde (1–5)", rounds, series, "gemiddelde", y_max=5)
    assert_phone_png(png)


def test_a_trend_chart_with_nothing_to_show_still_renders() -> None:
    png = trend_chart_png("Vraag", "nog geen rondes", ["1 jan"], [Series("Alle", [None])], "% ja")
    assert png.startswith(PNG_SIGNATURE)


def test_a_series_needs_one_point_per_round() -> None:
    with pytest.raises(ValueError):
        trend_chart_png("Vraag", "", ["1 jan", "1 feb"], [Series("Alle", [1.0])], "% ja")


ARABIC_QUESTION = "كيف كان أول لقاء مع فريق الحي؟"
ARABIC_ANSWERS = [
    Bar("جيد", 0.6, "60% (18)"),
    Bar("متوسط", 0.3, "30% (9)"),
    Bar("سيئ", None, "أقل من 5"),
    Bar("لا أعرف (بعد) " + "وهذا جواب طويل جدا " * 6 + "في النهاية", 0.1, "10% (3)"),
]
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[list[Text]]:
    """The text artists of every chart drawn, which is drawn with warnings as errors; a missing
    glyph too (chart drawing keeps that warning out of the logs, but not while this records)."""
    figures: list[list[Text]] = []
    png = charts._png

    def strict_png(fig: Figure) -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = png(fig)
        figures.append([t for t in fig.findobj(Text) if t.get_text()])
        return data

    monkeypatch.setattr(charts, "_png", strict_png)
    return figures


def test_a_missing_glyph_is_an_error_while_recording(drawn: list[list[Text]]) -> None:
    with pytest.raises(UserWarning, match="Glyph"):
        bar_chart_png("Vraag", "n = 1", [Bar("Goed 🤔", 1.0, "100% (1)")])


def test_an_arabic_chart_gets_the_logical_text_where_matplotlib_shapes_it(
    drawn: list[list[Text]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "_shapes_text", lambda: True)  # matplotlib 3.11 and later
    assert_phone_png(bar_chart_png(ARABIC_QUESTION, "n = 30", ARABIC_ANSWERS))
    texts = {t.get_text(): t for t in drawn[0]}
    title = texts[RLM + ARABIC_QUESTION]
    assert title.get_horizontalalignment() == "right", "a right-to-left title sits on the right"
    assert {RLM + "جيد", RLM + "متوسط", RLM + "أقل من 5"} <= texts.keys()
    assert texts["n = 30"].get_horizontalalignment() == "right", "and its subtitle under it"
    long_label = next(t for t in texts if t.count("\n") >= 1)
    lines = [line.removeprefix(RLM) for line in long_label.split("\n")]
    assert " ".join(lines) == " ".join(ARABIC_ANSWERS[3].label.split()), "wrapped in reading order"


def test_an_arabic_chart_gets_shaped_glyphs_where_matplotlib_does_not_shape(
    drawn: list[list[Text]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "_shapes_text", lambda: False)  # matplotlib before 3.11
    assert_phone_png(bar_chart_png(ARABIC_QUESTION, "n = 30", ARABIC_ANSWERS))
    texts = [t.get_text() for t in drawn[0]]
    assert visual(ARABIC_QUESTION) in texts
    assert {visual("جيد"), visual("متوسط"), visual("أقل من 5")} <= set(texts)
    assert not any(ARABIC_LETTER.search(t) for t in texts), "every letter in a joined form"
    long_label = next(t for t in texts if t.count("\n") >= 1)
    first, *_, last = long_label.split("\n")
    assert visual("أعرف") in first, "the first line starts the label"
    assert visual("النهاية") in last


def test_an_arabic_trend_chart_draws_every_name_and_label(drawn: list[list[Text]]) -> None:
    rounds = ["الجولة ١", "الجولة ٢", "الجولة ٣"]
    series = [Series("كل المجموعات", [50.0, 60.0, 55.0]), Series("De Linde", [40.0, None, 70.0])]
    png = trend_chart_png("هل تشعر بالأمان؟", "% نعم لكل جولة", rounds, series, "% نعم", y_max=100)
    assert_phone_png(png)
    # As the installed matplotlib gets them: logical text (3.11+) or visual text (before).
    shapes = charts._shapes_text()
    arabic = [*rounds, "كل المجموعات", "% نعم", "هل تشعر بالأمان؟", "% نعم لكل جولة"]
    expected = {RLM + text if shapes else visual(text) for text in arabic} | {"De Linde"}
    assert expected <= {t.get_text() for t in drawn[0]}
