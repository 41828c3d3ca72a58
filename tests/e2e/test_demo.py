"""`achterban demo` plays its scenes against the real bot and prints a readable transcript."""

from __future__ import annotations

import logging

import pytest

from bot.demo import run_demo


async def test_demo_shows_invite_signup_and_forget(caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    with caplog.at_level(logging.INFO):
        assert await run_demo(out=lines.append) == 0
    transcript = "\n".join(lines)
    assert "https://t.me/achterban_demo_bot?start=" in transcript
    assert "Je doet nu mee met Cliëntenraad Noord" in transcript
    assert "You are signed up with Cliëntenraad Noord" in transcript
    assert "We hebben niets over je bewaard" in transcript
    assert "We hebben alles over jou gewist" in transcript
    assert "Wanneer komt de volgende vraag?" not in caplog.text, "logs carry no message text"
