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
from dataclasses import dataclass, field
from pathlib import Path

from bot.botapi import LocalBotApi, SimUser
from bot.botapi.transcript import render_transcript
from bot.chat.context import SERVICES
from bot.config import CouncilSettings, Settings, TelegramSettings
from bot.run.polling import poll_until
from bot.run.runner import running

STAFF_ID = 1000
COUNCIL_ID = 1500
LINK = re.compile(r"start=([A-Za-z0-9_-]+)")


@dataclass
class Demo:
    """What the scenes share: the simulated Telegram, the outbox, and invite codes."""

    api: LocalBotApi
    deliver: Callable[[], Awaitable[int]]
    files: Path
    codes: dict[str, str] = field(default_factory=dict)
    saved: list[Path] = field(default_factory=list)

    async def invite(self, role_label: str, uses: str, tags: str = "locatie:noord") -> str:
        anna = self.api.user(STAFF_ID)
        await anna.command("uitnodigen")
        await anna.press(role_label)
        await anna.send(tags)
        await anna.press("30 dagen")
        await anna.press(uses)
        return LINK.search(anna.messages[-1].text).group(1)


Scene = Callable[[Demo], Awaitable[None]]


async def staff_makes_invites(demo: Demo) -> None:
    await demo.api.user(STAFF_ID, first_name="Anna (staff)").command("start")
    demo.codes["family"] = await demo.invite("Gezinnen en jongeren", "10 mensen")
    demo.codes["zuid"] = await demo.invite("Gezinnen en jongeren", "10 mensen", "locatie:zuid")
    demo.codes["council"] = await demo.invite("Raadsleden", "1 persoon")


async def join_in_dutch(person: SimUser, code: str) -> None:
    """Tap the invite link and agree, as most families do."""
    await person.command("start", code)
    await person.press("Nederlands")
    await person.press("Ja, ik ga akkoord")
    await person.press("16 of ouder")


async def families_sign_up(demo: Demo) -> None:
    api, code = demo.api, demo.codes["family"]
    await join_in_dutch(api.user(2001, first_name="Sanne (parent)"), code)
    tom = api.user(2002, first_name="Tom (14)", language_code="en")
    await tom.command("start", code)
    await tom.press("English")
    await tom.press("Yes, I agree")
    await tom.press("Younger than 16")
    await tom.press("Yes, they agree")
    noor = api.user(2003, first_name="Noor")
    await noor.command("start", code)
    await noor.press("Nederlands")
    await noor.press("Nee, liever niet")


async def more_join_quietly(demo: Demo) -> None:
    for user_id, name in ((2004, "Ahmed"), (2005, "Lisa"), (2006, "Daan"), (2007, "Mila")):
        await join_in_dutch(demo.api.user(user_id, first_name=name), demo.codes["zuid"])
    fatima = demo.api.user(COUNCIL_ID, first_name="Fatima (council)")
    await join_in_dutch(fatima, demo.codes["council"])


async def council_writes_a_poll(demo: Demo) -> None:
    fatima = demo.api.user(COUNCIL_ID)
    await fatima.command("nieuw")
    await fatima.send("Het eerste gesprek")
    await fatima.press("Eén keuze")
    await fatima.send("Hoe vond je het eerste gesprek met het buurtteam?")
    await fatima.send("Goed\nGaat wel\nNiet goed")
    await fatima.press("Een rapportcijfer van 1 tot 10")
    await fatima.send("Welk rapportcijfer geef je het buurtteam?")
    await fatima.press("Open antwoord")
    await fatima.send("Wat kan beter?")
    await fatima.press("Geen vragen meer")
    await fatima.press("Iedereen van Cliëntenraad Noord")
    await fatima.press("Anoniem (beste keuze)")
    await fatima.press("Meteen")
    await fatima.press("Na 7 dagen")
    await fatima.press("Ja, dat mag")
    await fatima.press("✅ Versturen")
    await demo.deliver()


ANSWERS = {
    2001: ("Goed", "8", "Sneller een afspraak."),
    2002: ("Goed", "8", "More appointments in the evening."),
    2004: ("Gaat wel", "7", "Meer uitleg over wat er gaat gebeuren."),
    2005: ("Goed", "8", None),
    2006: ("Gaat wel", "9", "Dezelfde hulpverlener houden."),
    2007: ("Gaat wel", "7", "Een vaste contactpersoon."),
}


async def families_answer(demo: Demo) -> None:
    for user_id, (choice, grade, tip) in ANSWERS.items():
        person = demo.api.user(user_id)
        await person.press(choice)
        await person.press(grade)
        if tip is None:
            await person.press("Overslaan")
        else:
            await person.send(tip)


async def council_closes_and_follows_up(demo: Demo) -> None:
    fatima = demo.api.user(COUNCIL_ID)
    await fatima.command("sluiten")
    await fatima.press("Het eerste gesprek")
    await fatima.command("terugkoppeling")
    await fatima.press("Het eerste gesprek")
    await fatima.send(
        "Dank voor jullie antwoorden! Het buurtteam belt voortaan binnen 2 dagen terug, "
        "en op dinsdag is er een avondspreekuur."
    )
    await fatima.press("✅ Versturen")
    await demo.deliver()


async def families_look_around(demo: Demo) -> None:
    sanne, tom = demo.api.user(2001), demo.api.user(2002)
    await sanne.send("Wanneer komt de volgende vraag?")
    await sanne.command("gegevens")
    await tom.command("pause")
    await tom.command("resume")
    await sanne.command("vergeet")
    await sanne.press("Ja, wis alles")


async def staff_pull_the_numbers(demo: Demo) -> None:
    anna = demo.api.user(STAFF_ID)
    await anna.command("uitslag")
    await anna.press("Het eerste gesprek")
    await anna.press("Per locatie")
    await anna.command("deelname")
    await anna.command("grafiek")
    await anna.press("Het eerste gesprek")
    chart = next(message for message in anna.messages if message.kind == "photo")
    await anna.command("exporteer")
    await anna.press("Het eerste gesprek")
    export = anna.messages[-1]
    for message in (chart, export):
        assert message.file is not None and message.filename is not None
        path = demo.files / message.filename
        await asyncio.to_thread(path.write_bytes, message.file)
        demo.saved.append(path)


SCENES: tuple[tuple[str | None, Scene], ...] = (
    ("A staff member makes invite links", staff_makes_invites),
    ("Families sign up (Dutch, English with a guardian, and one who says no)", families_sign_up),
    (None, more_join_quietly),
    ("A council member writes a poll and sends it", council_writes_a_poll),
    ("Six families answer", families_answer),
    (
        "The council closes the poll, sees the results, and tells everyone what it did",
        council_closes_and_follows_up,
    ),
    ("Families look around: stray text, privacy, pause, forget", families_look_around),
    (
        "Staff pull the numbers: results, per location, participation, a chart, an export",
        staff_pull_the_numbers,
    ),
)


async def run_demo(
    *, out: Callable[[str], None] = print, files: Path = Path("achterban-demo")
) -> int:
    """Play every scene against the real bot and print what everyone saw; the chart and the
    export the staff member downloads are saved in `files`."""
    await asyncio.to_thread(files.mkdir, parents=True, exist_ok=True)
    for name in ("", "telegram"):  # the transcript is the output; only problems are logged
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="achterban-demo-") as folder:
        async with LocalBotApi(bot_username="achterban_demo_bot") as api:
            settings = demo_settings(api, Path(folder))
            async with running(settings) as app:
                stop = asyncio.Event()
                polling = asyncio.create_task(poll_until(app, stop, long_poll=1))
                outbox = app.bot_data[SERVICES].outbox
                demo = Demo(api=api, deliver=outbox.drain, files=files)
                try:
                    for title, scene in SCENES:
                        start = len(api.transcript)
                        await scene(demo)
                        if title is None:
                            out("\n(four more families and a council member join the same way)")
                            continue
                        out(f"\n=== {title} ===\n")
                        out(render_transcript(api.transcript[start:], _names(api)))
                finally:
                    stop.set()
                    await polling
    out("\nSaved what the staff member downloaded: " + ", ".join(map(str, demo.saved)))
    out("\nThat was the real bot, talking to a simulated Telegram. Run it for real with a token:")
    out("see README.md.")
    return 0


def demo_settings(api: LocalBotApi, folder: Path) -> Settings:
    return Settings(
        telegram=TelegramSettings(token=api.token, base_url=api.base_url),
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.sqlite3'}",
        admins=frozenset({STAFF_ID}),
        pseudonym_key=secrets.token_urlsafe(32),
        councils=(
            CouncilSettings(
                slug="noord",
                name="Cliëntenraad Noord",
                privacy_threshold=3,
                quiet_hours=("00:00", "00:00"),  # the demo may run at night
            ),
        ),
    )


def _names(api: LocalBotApi) -> dict[int, str]:
    return {user_id: user.first_name for user_id, user in api.users.items()}
