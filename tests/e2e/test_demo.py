"""`achterban demo` plays its scenes against the real bot and prints a readable transcript,
Telegram and WhatsApp in one, each line tagged with its channel."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from bot.results import charts
from bot.results.rtl import RLM, visual
from bot.run.demo import QUIETLY, run_demo

PNG = b"\x89PNG\r\n\x1a\n"
ARABIC_QUESTION = "كيف كانت المقابلة الأولى مع فريق الحي؟"
ARABIC_OPTIONS = ("جيدة", "مقبولة", "ليست جيدة")
ARABIC_LETTER = re.compile("[\u0621-\u064a]")


def saved(folder: Path, pattern: str) -> bytes:
    return next(folder.glob(pattern)).read_bytes()


def scene(transcript: str, title: str) -> str:
    """The lines of one scene."""
    start = transcript.index(f"=== {title}")
    end = transcript.find("\n=== ", start + 1)
    return transcript[start : end if end != -1 else None]


def seen_by(lines: str, name: str) -> str:
    """What the bot showed one Telegram user in these lines, each message on one line (as
    wrapped for the transcript, joined again), buttons included."""
    said: list[str] = []
    for line in lines.splitlines():
        if not line.startswith(" "):  # a message, or a scene's title
            said.append(line if line.startswith(f"[telegram] bot→{name} ") else "")
        elif said[-1]:
            said[-1] += " " + line.strip()
    return "\n".join(" ".join(message.split()) for message in said if message)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, list[Text]]]:
    """Every chart the bot draws: its PNG and the texts matplotlib got to draw on it."""
    figures: list[tuple[bytes, list[Text]]] = []
    png = charts._png

    def recording(fig: Figure) -> bytes:
        data = png(fig)
        figures.append((data, [text for text in fig.findobj(Text) if text.get_text()]))
        return data

    monkeypatch.setattr(charts, "_png", recording)
    return figures


def title_ink(png: bytes) -> tuple[int, int, int]:
    """Where the ink of a chart's title (its top 80 pixels) starts and ends, and the width."""
    image = Image.open(io.BytesIO(png)).convert("L")
    top = image.crop((0, 0, image.width, 80)).point(lambda value: 255 if value < 128 else 0)
    box = top.getbbox()
    assert box is not None, "a chart has a title"
    return box[0], box[2], image.width


async def test_demo_shows_invite_signup_and_forget(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, drawn: list[tuple[bytes, list[Text]]]
) -> None:
    lines: list[str] = []
    with caplog.at_level(logging.INFO):
        assert await run_demo(out=lines.append, files=tmp_path) == 0
    transcript = "\n".join(lines)
    assert "https://t.me/achterban_demo_bot?start=" in transcript
    assert "https://wa.me/31201234567?text=" in transcript, "a family invite has both links"
    assert "Je doet nu mee met Cliëntenraad Noord" in transcript
    assert "You are signed up with Cliëntenraad Noord" in transcript
    assert "We hebben niets over je bewaard" in transcript
    assert "We hebben alles over jou gewist" in transcript
    for typed in ("Wanneer komt de volgende vraag?", "Een tolk bij het eerste gesprek."):
        assert typed not in caplog.text, "logs carry no message text, on either channel"

    assert "[whatsapp] Amira" in transcript and "Mijn code: " in transcript
    assert "[whatsapp] bot→Amira" in transcript
    assert "Je doet nu mee met *Cliëntenraad Noord*" in transcript, "Amira joined on WhatsApp"
    scenes = transcript[transcript.index("=== ") : transcript.index("\nSaved the invite poster")]
    for line in scenes.splitlines():
        if line and not line.startswith(("=== ", f"({QUIETLY})")):
            assert line.startswith(("[telegram] ", "[whatsapp] ", " ")), f"untagged: {line}"
    answers = scene(transcript, "Seven families answer")
    tom, amira = answers.index("[telegram] Tom (14)"), answers.index("[whatsapp] Amira")
    assert tom < amira < answers.index("[telegram] Ahmed"), "both channels, in time order"
    closing = scene(transcript, "The council closes")
    assert "📣 *Jullie zeiden, wij deden*" in closing
    shared = seen_by(closing, "Mila")
    assert "📊 Wat anderen zeiden" in shared and "• Goed: 57%" in shared, "what others said"
    assert "• Niet goed: minder dan 3" in shared and "Een vaste contactpersoon" not in shared
    assert "💬 Cliëntenraad Noord: Dank je wel! In januari" in shared, "the council's own line"
    joining = seen_by(answers, "Mila")
    assert "Wil je meedenken met de raad?" in joining and "[Ja, vertel meer]" in joining
    assert "🙋 Iemand die peilingen van Cliëntenraad Noord" in seen_by(answers, "Anna (staff)")

    signing_up = seen_by(scene(transcript, "Families sign up"), "Ahmed")
    assert "أنت الآن مسجّل في Cliëntenraad Noord" in signing_up, "Ahmed joined in Arabic"
    ahmed, tom = seen_by(transcript, "Ahmed"), seen_by(transcript, "Tom (14)")
    assert ARABIC_QUESTION in ahmed, "Ahmed got the poll as the council wrote it in Arabic"
    assert " ".join(f"[{label}]" for label in (*ARABIC_OPTIONS, "تخطي")) in ahmed
    assert "السؤال 2 من 3" in ahmed and "[1] [2] [3] [4] [5]" in ahmed, "grades are digits"
    assert "✓ إجابتك: «مزيد من الشرح عمّا سيحدث.»" in ahmed
    assert "Hoe vond je" not in ahmed and "غير متوفرة بلغتك" not in ahmed, "no Dutch, no note"
    fallback = "These questions are not in your language yet. Here they are in Dutch."
    assert fallback in tom and "Hoe vond je het eerste gesprek met het buurtteam?" in tom
    assert "شكرًا على إجاباتكم!" in seen_by(closing, "Ahmed"), "the follow-up in Arabic too"
    assert "This message is not in your language yet." in seen_by(closing, "Tom (14)")

    staff_view = scene(transcript, "Staff pull the numbers")
    assert "7 van de 7 mensen gaven antwoord (100%)" in staff_view, "Sanne forgot, yet was asked"
    assert "Een tolk bij het eerste gesprek." in staff_view, "Amira's answer is counted"
    assert "43% Gaat wel (3)" in staff_view, "Ahmed's «مقبولة» is counted as Gaat wel"
    assert "مزيد من الشرح عمّا سيحدث. (Arabisch)" in staff_view, "an open answer's language"
    assert "per locatie" in staff_view and "Deelname – Cliëntenraad Noord" in staff_view
    assert "Aanmeldingen voor Cliëntenraad Noord: 1" in staff_view and "Mila de Vries" in staff_view
    chart = saved(tmp_path, "chart-1-*.png")
    assert chart.startswith(PNG) and len(chart) > 5_000
    left, _, _ = title_ink(chart)
    assert left < 60, "a Dutch title starts on the left"

    arabic_chart = saved(tmp_path, "chart-ar-*.png")
    assert "▣ 1. " + ARABIC_QUESTION in scene(transcript, "The council member switches")
    artists = next(artists for png, artists in drawn if png == arabic_chart)  # as it was drawn
    texts = {artist.get_text() for artist in artists}
    # Shaped: by matplotlib itself from 3.11 on (it gets the text as typed, in a right-to-left
    # line), before that by the bot (it gets every letter in its joined form, in display order).
    shapes = charts._shapes_text()
    arabic = ("1. " + ARABIC_QUESTION, *ARABIC_OPTIONS)
    assert {RLM + text if shapes else visual(text) for text in arabic} <= texts
    assert shapes or not any(ARABIC_LETTER.search(text) for text in texts), "all letters joined"
    left, right, width = title_ink(arabic_chart)
    assert left > width / 4 and right > width - 60, "an Arabic title sits on the right"
    export = saved(tmp_path, "*.csv").decode("utf-8-sig")
    assert "Hoe vond je het eerste gesprek met het buurtteam?;Goed;4;57" in export
    downloaded = f"Saved what the staff member and the council member downloaded: {tmp_path}"
    assert downloaded in transcript and str(tmp_path / "chart-ar-1-1.png") in transcript

    poster = tmp_path / "poster-noord.png"
    assert poster.read_bytes().startswith(PNG) and poster.stat().st_size > 20_000
    assert (tmp_path / "poster-noord.pdf").read_bytes().startswith(b"%PDF")
    assert f"Saved the invite poster to print: {poster}" in transcript
