"""`achterban demo` plays its scenes against the real bot and prints a readable transcript,
Telegram and WhatsApp in one, each line tagged with its channel."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.run.demo import run_demo

PNG = b"\x89PNG\r\n\x1a\n"


def saved(folder: Path, pattern: str) -> bytes:
    return next(folder.glob(pattern)).read_bytes()


def scene(transcript: str, title: str) -> str:
    """The lines of one scene."""
    start = transcript.index(f"=== {title}")
    end = transcript.find("\n=== ", start + 1)
    return transcript[start : end if end != -1 else None]


async def test_demo_shows_invite_signup_and_forget(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
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
        if line and not line.startswith(("=== ", "(four more")):
            assert line.startswith(("[telegram] ", "[whatsapp] ", " ")), f"untagged: {line}"
    answers = scene(transcript, "Seven families answer")
    tom, amira = answers.index("[telegram] Tom (14)"), answers.index("[whatsapp] Amira")
    assert tom < amira < answers.index("[telegram] Ahmed"), "both channels, in time order"
    assert "📣 *Jullie zeiden, wij deden*" in scene(transcript, "The council closes")

    staff_view = scene(transcript, "Staff pull the numbers")
    assert "7 van de 7 mensen gaven antwoord (100%)" in staff_view, "Sanne forgot, yet was asked"
    assert "Een tolk bij het eerste gesprek." in staff_view, "Amira's answer is counted"
    assert "per locatie" in staff_view and "Deelname – Cliëntenraad Noord" in staff_view
    chart = saved(tmp_path, "chart-*.png")
    assert chart.startswith(PNG) and len(chart) > 5_000
    export = saved(tmp_path, "*.csv").decode("utf-8-sig")
    assert "Hoe vond je het eerste gesprek met het buurtteam?;Goed;4;57" in export
    assert f"Saved what the staff member downloaded: {tmp_path}" in transcript

    poster = tmp_path / "poster-noord.png"
    assert poster.read_bytes().startswith(PNG) and poster.stat().st_size > 20_000
    assert (tmp_path / "poster-noord.pdf").read_bytes().startswith(b"%PDF")
    assert f"Saved the invite poster to print: {poster}" in transcript
