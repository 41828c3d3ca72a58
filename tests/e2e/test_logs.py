"""Logs never contain what people typed: a full flow, with the bot's own logging set up as
`achterban run --verbose` does, is captured and searched for every text a person wrote."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.__main__ import configure_logging
from bot.botapi import LocalBotApi
from storage.models import Role
from tests.builders import make_invite, open_poll_now, poll_button, sign_up
from tests.e2e.conftest import RunningBot

SECRETS = {
    "name": "Voornaam7731",
    "title": "Titel4402",
    "question": "Vraag5519",
    "option": "Optie8820",
    "open answer": "Open6637",
    "follow-up": "Terug9915",
    "stray text": "Los3308",
    "tag": "wijk:plek2206",
}


@pytest.fixture
def verbose_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    levels = {name: logging.getLogger(name).level for name in ("", "telegram", "httpx")}
    configure_logging(verbose=True)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_full_flow_logs_no_message_text(
    verbose_logs: pytest.LogCaptureFixture, api: LocalBotApi, bot: RunningBot
) -> None:
    member = api.user(800, first_name=SECRETS["name"])
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    family = api.user(900, first_name=SECRETS["name"])
    await sign_up(family, await make_invite(bot.db, tags=(SECRETS["tag"],)))
    api.faults.server_error(1, methods={"sendMessage"})  # the reply fails once: retried, logged
    await family.send(SECRETS["stray text"])
    await family.send(SECRETS["stray text"])
    questions = [
        {"kind": "single", "text": SECRETS["question"], "options": [SECRETS["option"], "Nee"]},
        {"kind": "open_text", "text": "Nog iets?"},
    ]
    await open_poll_now(bot.db, questions=questions, title=SECRETS["title"])
    await bot.deliver()
    await family.press(SECRETS["option"])
    await family.send(SECRETS["open answer"])
    await family.command("gegevens")
    await member.command("sluiten")
    await member.press(poll_button(member, SECRETS["title"]))
    await member.command("terugkoppeling")
    await member.press(poll_button(member, SECRETS["title"]))
    await member.send(SECRETS["follow-up"])
    await member.press("✅ Versturen")
    await bot.deliver()
    await family.command("vergeet")
    await family.press("Ja, wis alles")

    records = verbose_logs.get_records("setup") + verbose_logs.records
    logged = "\n".join(
        [record.getMessage() for record in records] + [repr(record.args) for record in records]
    )
    assert "Application started" in logged and "not reachable" in logged, "it did log"
    leaked = [what for what, text in SECRETS.items() if text in logged]
    assert leaked == []
