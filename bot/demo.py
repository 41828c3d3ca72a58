"""`achterban demo`: the real bot against the built-in Bot API server, printed as a transcript.

Needs no Telegram account and no set-up: a temporary SQLite database, simulated people.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.botapi import LocalBotApi
from bot.botapi.transcript import render_transcript
from bot.config import CouncilSettings, Settings, TelegramSettings
from bot.polling import poll_until
from bot.runner import running

STAFF_ID = 1000
LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
Scene = Callable[[LocalBotApi, dict[str, str]], Awaitable[None]]


async def staff_makes_an_invite(api: LocalBotApi, shared: dict[str, str]) -> None:
    anna = api.user(STAFF_ID, first_name="Anna (staff)")
    await anna.command("start")
    await anna.command("uitnodigen")
    await anna.press("Gezinnen en jongeren")
    await anna.send("locatie:noord")
    await anna.press("30 dagen")
    await anna.press("10 mensen")
    shared["code"] = LINK.search(anna.messages[-1].text).group(1)


async def families_sign_up(api: LocalBotApi, shared: dict[str, str]) -> None:
    sanne = api.user(2001, first_name="Sanne (parent)")
    await sanne.command("start", shared["code"])
    await sanne.press("Nederlands")
    await sanne.press("Ja, ik ga akkoord")
    await sanne.press("16 of ouder")
    tom = api.user(2002, first_name="Tom (14)", language_code="en")
    await tom.command("start", shared["code"])
    await tom.press("English")
    await tom.press("Yes, I agree")
    await tom.press("Younger than 16")
    await tom.press("Yes, they agree")
    noor = api.user(2003, first_name="Noor")
    await noor.command("start", shared["code"])
    await noor.press("Nederlands")
    await noor.press("Nee, liever niet")


async def families_look_around(api: LocalBotApi, shared: dict[str, str]) -> None:
    sanne, tom = api.user(2001), api.user(2002)
    await sanne.send("Wanneer komt de volgende vraag?")
    await sanne.command("gegevens")
    await tom.command("pause")
    await tom.command("resume")
    await sanne.command("vergeet")
    await sanne.press("Ja, wis alles")


SCENES: tuple[tuple[str, Scene], ...] = (
    ("A staff member makes an invite link", staff_makes_an_invite),
    ("Families sign up (Dutch, English with a guardian, and one who says no)", families_sign_up),
    ("Families look around: stray text, privacy, pause, forget", families_look_around),
)


async def run_demo(*, out: Callable[[str], None] = print) -> int:
    """Play every scene against the real bot and print what everyone saw."""
    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="achterban-demo-") as folder:
        async with LocalBotApi(bot_username="achterban_demo_bot") as api:
            settings = demo_settings(api, Path(folder))
            async with running(settings) as app:
                stop = asyncio.Event()
                polling = asyncio.create_task(poll_until(app, stop, long_poll=1))
                shared: dict[str, str] = {}
                try:
                    for title, scene in SCENES:
                        start = len(api.transcript)
                        await scene(api, shared)
                        out(f"\n=== {title} ===\n")
                        out(render_transcript(api.transcript[start:], _names(api)))
                finally:
                    stop.set()
                    await polling
    out("\nThat was the real bot, talking to a simulated Telegram. Run it for real with a token:")
    out("see README.md.")
    return 0


def demo_settings(api: LocalBotApi, folder: Path) -> Settings:
    return Settings(
        telegram=TelegramSettings(token=api.token, base_url=api.base_url),
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.sqlite3'}",
        admins=frozenset({STAFF_ID}),
        pseudonym_key=secrets.token_urlsafe(32),
        councils=(CouncilSettings(slug="noord", name="Cliëntenraad Noord"),),
    )


def _names(api: LocalBotApi) -> dict[int, str]:
    return {user_id: user.first_name for user_id, user in api.users.items()}
