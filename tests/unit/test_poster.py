"""Invite links and the printable poster: the QR codes scan back to the links people need."""

from __future__ import annotations

import io
import secrets
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from PIL import Image

from bot.invites.links import find_code, telegram_link, whatsapp_link
from bot.invites.poster import DPI, PAIR_QR, make_poster
from bot.texts import texts_for

CODE = "Ab3_-defghijklmnopqrst"
COUNCIL = "Cliëntenraad Noord"
SENTENCES = [texts_for("nl")("poster.sentence"), texts_for("en")("poster.sentence")]


def test_the_poster_scans_back_to_both_links_and_prints_as_a_pdf() -> None:
    telegram = telegram_link("achterban_test_bot", CODE)
    whatsapp = whatsapp_link("31201234567", CODE, "nl")

    png, pdf = make_poster(
        council=COUNCIL, sentences=SENTENCES, telegram=telegram, whatsapp=whatsapp
    )

    image = Image.open(io.BytesIO(png))
    assert image.size == (1240, 1753)  # A4 at 150 dpi
    codes = zxingcpp.read_barcodes(image)
    assert sorted(code.text for code in codes) == [telegram, whatsapp]
    widths = [code.position.top_right.x - code.position.top_left.x for code in codes]
    assert min(widths) / DPI * 2.54 >= 8.0 and PAIR_QR * 2.54 >= 8.0  # cm, from a metre
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf  # vector
    font = FT2Font(findfont(FontProperties()))
    assert {ord(c) for c in COUNCIL + "".join(SENTENCES)} <= set(font.get_charmap())


def test_without_whatsapp_the_poster_has_only_the_telegram_code() -> None:
    telegram = telegram_link("achterban_test_bot", CODE)
    png, _ = make_poster(council=COUNCIL, sentences=SENTENCES[:1], telegram=telegram, whatsapp=None)
    assert [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))] == [telegram]


def test_the_whatsapp_link_opens_a_chat_with_the_code_in_the_first_message() -> None:
    link = whatsapp_link("+31201234567", CODE, "nl")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/31201234567")
    assert " " not in link and ":" not in parts.query and CODE in parts.query
    text = parse_qs(parts.query)["text"][0]
    assert text == f"Hallo! Ik wil meedoen. Mijn code: {CODE}"
    english = parse_qs(urlsplit(whatsapp_link("31201234567", CODE, "en")).query)["text"][0]
    assert english == f"Hi! I would like to join. My code: {CODE}"
    assert find_code(text) == find_code(english) == CODE


def test_a_code_is_found_in_free_text_and_plain_words_are_not() -> None:
    for _ in range(200):
        code = secrets.token_urlsafe(16)
        assert find_code(f"hoi! mijn code: {code} ok") == code
        assert find_code(f"{code}.") == code
    assert find_code("hoi! mijn code: X ok") is None
    plain = [
        "Hallo, ik wil graag meedoen met de cliëntenraad.",
        "hoogspanningsleidingen Hoogspanningsleidingen HOOGSPANNINGSLEIDINGEN",
        f"a{CODE} {CODE}b é{CODE} {CODE[:21]} https://example.org/{CODE}x",
    ]
    assert [text for text in plain if find_code(text)] == []
    assert find_code(f"https://t.me/bot?start={CODE}") == CODE
