"""An operator's view of a running bot: GET /metrics has every series of issue 15 and nothing
personal, GET /healthz says the database answers and how much waits."""

from __future__ import annotations

import re

import aiohttp

from bot.botapi import LocalBotApi
from bot.chat.context import SERVICES
from tests.builders import make_invite, open_poll_now
from tests.e2e.conftest import RunningBot
from tests.e2e.families import OnTelegram, join

SERIES = (
    "achterban_inbox_pending",
    "achterban_inbox_oldest_seconds",
    "achterban_outbox_pending",
    "achterban_outbox_oldest_seconds",
    "achterban_sends_total",
    "achterban_tap_seconds",
    "achterban_errors_total",
    "achterban_leader",
    "achterban_database_up",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
)
FAMILY_ID = 918_273_645
TYPED = ("Geheim7731 over mijn wijk", "Los3308 zomaar")
PHONE = re.compile(r"(?<![\w.+-])\+?\d{9,15}(?![\w.])")
"""A phone number or a Telegram id: a long run of digits that is not part of a float."""


async def test_metrics_and_health_show_the_bot_without_anything_personal(
    api: LocalBotApi, bot: RunningBot
) -> None:
    family = OnTelegram(api.user(FAMILY_ID, first_name="Voornaam5519"))
    await join(family, await make_invite(bot.db))
    questions = [
        {"kind": "single", "text": "Vraag8820", "options": ["Ja", "Nee"]},
        {"kind": "open_text", "text": "Nog iets?"},
    ]
    await open_poll_now(bot.db, questions=questions, title="Titel4402")
    await bot.deliver()
    await family.press("Ja")
    await family.send(TYPED[0])
    await family.send(TYPED[1])
    assert await bot.app.bot_data[SERVICES].leadership.held()  # as the scheduler's tick asks

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.metrics_url}/metrics") as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            body = await response.text()
        async with http.get(f"{bot.metrics_url}/healthz") as response:
            assert response.status == 200
            health = await response.json()

    for name in SERIES:
        assert f"\n# TYPE {name} " in body, f"{name} missing"
    sent = re.search(
        r'^achterban_sends_total\{channel="telegram",outcome="sent"\} (\S+)$', body, re.M
    )
    assert sent and float(sent.group(1)) >= 1
    assert re.search(r"^achterban_database_up 1\.0$", body, re.M)
    assert re.search(r"^achterban_leader 1\.0$", body, re.M)
    for secret in (str(FAMILY_ID), "Voornaam5519", "Titel4402", "Vraag8820", *TYPED):
        assert secret not in body
    assert PHONE.findall(body) == []
    assert health["status"] == "ok" and health["database"] == "ok"
    assert health["inbox"]["pending"] >= 0 and health["inbox"]["oldest_seconds"] >= 0
    assert health["outbox"]["telegram"] == {"pending": 0, "oldest_seconds": 0.0}
    assert set(health["outbox"]) == {"telegram", "whatsapp"}
