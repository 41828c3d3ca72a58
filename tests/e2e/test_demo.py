"""`achterban demo` plays its scenes against the real bot and prints a readable transcript."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.run.demo import run_demo


def saved(folder: Path, pattern: str) -> bytes:
    return next(folder.glob(pattern)).read_bytes()


async def test_demo_shows_invite_signup_and_forget(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    lines: list[str] = []
    with caplog.at_level(logging.INFO):
        assert await run_demo(out=lines.append, files=tmp_path) == 0
    transcript = "\n".join(lines)
    assert "https://t.me/achterban_demo_bot?start=" in transcript
    assert "Je doet nu mee met Cliëntenraad Noord" in transcript
    assert "You are signed up with Cliëntenraad Noord" in transcript
    assert "We hebben niets over je bewaard" in transcript
    assert "We hebben alles over jou gewist" in transcript
    assert "Wanneer komt de volgende vraag?" not in caplog.text, "logs carry no message text"
    staff_view = transcript[transcript.index("=== Staff pull the numbers") :]
    assert "6 van de 6 mensen gaven antwoord (100%)" in staff_view, "Sanne forgot, yet was asked"
    assert "per locatie" in staff_view and "Deelname – Cliëntenraad Noord" in staff_view
    chart = saved(tmp_path, "*.png")
    assert chart.startswith(b"\x89PNG\r\n\x1a\n") and len(chart) > 5_000
    export = saved(tmp_path, "*.csv").decode("utf-8-sig")
    assert "Hoe vond je het eerste gesprek met het buurtteam?;Goed;3;50" in export
    assert f"Saved what the staff member downloaded: {tmp_path}" in transcript
