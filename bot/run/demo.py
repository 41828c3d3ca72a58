"""`achterban demo`: the real bot against the built-in Bot API server and the local WhatsApp
Cloud API, printed as one transcript in which every line says its channel.

Needs no Telegram or WhatsApp account and no set-up: a temporary SQLite database, simulated
people.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from bot.botapi import LocalBotApi, SentMessage, SimUser
from bot.chat.context import SERVICES
from bot.config import CouncilSettings, Settings, TelegramSettings, WhatsAppSettings
from bot.run.demo_transcript import TELEGRAM, WHATSAPP, Timeline
from bot.run.inbox import attach
from bot.run.polling import poll_until
from bot.run.runner import running
from bot.wasim import LocalWhatsApp, WaUser

STAFF_ID = 1000
COUNCIL_ID = 1500
AMIRA = "31612345001"  # the family on WhatsApp
AHMED = 2004  # the family that reads Arabic
LINK = re.compile(r"start=([A-Za-z0-9_-]+)")
WA_LINK = re.compile(r"https://wa\.me/\d+\?text=([^\s<]+)")
QUIETLY = "three more families and a council member join the same way"


@dataclass
class Demo:
    """What the scenes share: the simulated Telegram and WhatsApp, the outbox, invite codes
    and the first WhatsApp message of each family invite (its wa.me link's text)."""

    api: LocalBotApi
    wa: LocalWhatsApp
    deliver: Callable[[], Awaitable[int]]
    files: Path
    codes: dict[str, str] = field(default_factory=dict)
    first_words: dict[str, str] = field(default_factory=dict)
    saved: list[Path] = field(default_factory=list)
    posters: list[Path] = field(default_factory=list)

    async def invite(self, role_label: str, uses: str, tags: str = "locatie:noord") -> str:
        anna = self.api.user(STAFF_ID)
        await anna.command("uitnodigen")
        await anna.press(role_label)
        await anna.send(tags)
        await anna.press("30 dagen")
        await anna.press(uses)
        text = anna.messages[-1].text
        code = LINK.search(text).group(1)
        if found := WA_LINK.search(text):
            self.first_words[code] = unquote(found.group(1))
        return code

    async def save(self, message: SentMessage, into: list[Path], name: str | None = None) -> None:
        """Save a photo or document someone got in the output folder, under its own file name
        or `name`."""
        assert message.file is not None and message.filename is not None
        path = self.files / (name or message.filename)
        await asyncio.to_thread(path.write_bytes, message.file)
        into.append(path)


Scene = Callable[[Demo], Awaitable[None]]


async def staff_makes_invites(demo: Demo) -> None:
    await demo.api.user(STAFF_ID, first_name="Anna (staff)").command("start")
    demo.codes["family"] = await demo.invite("Gezinnen en jongeren", "10 mensen")
    anna = demo.api.user(STAFF_ID)
    await anna.press("Maak een poster")  # of this invite: both links, a QR code each
    for message in anna.messages[-2:]:
        await demo.save(message, demo.posters)
    demo.codes["zuid"] = await demo.invite("Gezinnen en jongeren", "10 mensen", "locatie:zuid")
    demo.codes["council"] = await demo.invite("Raadsleden", "1 persoon")
    # Anna runs the bot (an admin) and is on the council's staff, so requests reach her.
    await join_in_dutch(anna, await demo.invite("Medewerkers", "1 persoon"))


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
    ahmed = api.user(AHMED, first_name="Ahmed", language_code="ar")  # the link for Zuid
    await ahmed.command("start", demo.codes["zuid"])
    await ahmed.press("العربية")
    await ahmed.press("نعم، أوافق")
    await ahmed.press("16 سنة أو أكثر")
    noor = api.user(2003, first_name="Noor")
    await noor.command("start", code)
    await noor.press("Nederlands")
    await noor.press("Nee, liever niet")
    amira = demo.wa.user(AMIRA, name="Amira")  # scanned the poster's WhatsApp code
    await amira.send(demo.first_words[code])
    await amira.tap("Nederlands")
    await amira.tap("Ja, ik ga akkoord")
    await amira.tap("16 of ouder")


async def more_join_quietly(demo: Demo) -> None:
    for user_id, name in ((2005, "Lisa"), (2006, "Daan"), (2007, "Mila")):
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
    # The council writes in Dutch and Arabic: each text again, in Arabic.
    await fatima.send("المقابلة الأولى")
    await fatima.send("كيف كانت المقابلة الأولى مع فريق الحي؟")
    await fatima.send("جيدة\nمقبولة\nليست جيدة")
    await fatima.send("ما هي العلامة التي تعطيها لفريق الحي؟")
    await fatima.send("ما الذي يمكن تحسينه؟")
    await fatima.press("Iedereen van Cliëntenraad Noord")
    await fatima.press("Anoniem (beste keuze)")
    await fatima.press("Meteen")
    await fatima.press("Na 7 dagen")
    await fatima.press("Ja, dat mag")
    await fatima.press("👁 Bekijk in het Arabisch")
    await fatima.press("🤝 Uitnodiging voor de raad: uit")  # the poll ends with one
    await fatima.press("✍️ Eigen regel toevoegen")  # for the results families get
    await fatima.send("Dank je wel! In januari bespreken we dit met het buurtteam.")
    await fatima.press("✅ Versturen")
    await demo.deliver()


ANSWERS: dict[int | str, tuple[str, str, str | None]] = {
    2001: ("Goed", "8", "Sneller een afspraak."),
    2002: ("Goed", "8", "More appointments in the evening."),
    AMIRA: ("Goed", "9", "Een tolk bij het eerste gesprek."),
    AHMED: ("مقبولة", "7", "مزيد من الشرح عمّا سيحدث."),
    2005: ("Goed", "8", None),
    2006: ("Gaat wel", "9", "Dezelfde hulpverlener houden."),
    2007: ("Gaat wel", "7", "Een vaste contactpersoon."),
}


async def families_answer(demo: Demo) -> None:
    for who, (choice, grade, tip) in ANSWERS.items():
        person = demo.wa.user(who) if isinstance(who, str) else demo.api.user(who)
        await choose(person, choice)
        await choose(person, grade)
        if tip is None:
            await choose(person, "Overslaan")
        else:
            await person.send(tip)
    mila = demo.api.user(2007)  # the poll ended with the invitation to join the council
    await mila.press("Ja, vertel meer")
    await mila.send("Mila de Vries, 06 1234 5678")


def poll_button(person: SimUser, title: str) -> str:
    """The newest picker button of the poll titled `title` ("#1 · title · 03-12-2026")."""
    for message in reversed(person.messages):
        for label in message.labels:
            if label.startswith("#") and f" · {title} · " in label:
                return label
    raise LookupError(f"no button for the poll {title!r}")


async def choose(person: SimUser | WaUser, label: str) -> None:
    """Tap a choice; on WhatsApp, where more than ten choices are a numbered list, type its
    number."""
    if isinstance(person, SimUser):
        await person.press(label)
        return
    shown = person.last
    if shown is not None and not shown.choices:
        numbered = re.search(rf"^\*(\d+)\* {re.escape(label)}$", shown.body, re.MULTILINE)
        if numbered or f"*{label}*" in shown.body:  # a grade stands for itself: "*9*"
            await person.send(numbered.group(1) if numbered else label)
            return
    await person.tap(label)


async def council_closes_and_follows_up(demo: Demo) -> None:
    fatima = demo.api.user(COUNCIL_ID)
    await fatima.command("sluiten")
    await fatima.press(poll_button(fatima, "Het eerste gesprek"))
    await demo.deliver()  # every family that was asked gets what others said
    await fatima.command("terugkoppeling")
    await fatima.press(poll_button(fatima, "Het eerste gesprek"))
    await fatima.send(
        "Dank voor jullie antwoorden! Het buurtteam belt voortaan binnen 2 dagen terug, "
        "en op dinsdag is er een avondspreekuur."
    )
    await fatima.send(
        "شكرًا على إجاباتكم! من الآن فصاعدًا يتصل بكم فريق الحي خلال يومين، "
        "وكل يوم ثلاثاء توجد مواعيد في المساء."
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
    await anna.press(poll_button(anna, "Het eerste gesprek"))
    await anna.press("Per locatie")
    await anna.command("deelname")
    await anna.command("grafiek")
    await anna.press(poll_button(anna, "Het eerste gesprek"))
    chart = next(message for message in anna.messages if message.kind == "photo")
    await anna.command("exporteer")
    await anna.press(poll_button(anna, "Het eerste gesprek"))
    export = anna.messages[-1]
    for message in (chart, export):
        await demo.save(message, demo.saved)
    await anna.command("kandidaten")  # Mila asked to hear about joining the council


async def council_reads_in_arabic(demo: Demo) -> None:
    fatima = demo.api.user(COUNCIL_ID)
    await fatima.command("taal")
    await fatima.press("العربية")
    await fatima.command("chart")
    await fatima.press(poll_button(fatima, "المقابلة الأولى"))
    chart = next(message for message in fatima.messages if message.kind == "photo")
    assert chart.filename is not None
    await demo.save(chart, demo.saved, chart.filename.replace("chart-", "chart-ar-", 1))


SCENES: tuple[tuple[str | None, Scene], ...] = (
    ("A staff member makes invite links, and a poster of one", staff_makes_invites),
    (
        "Families sign up (Dutch, English with a guardian, Arabic, one who says no, one on "
        "WhatsApp)",
        families_sign_up,
    ),
    (None, more_join_quietly),
    ("A council member writes a poll in Dutch and Arabic and sends it", council_writes_a_poll),
    (
        "Seven families answer, one on WhatsApp, one in Arabic; Mila wants to join the council",
        families_answer,
    ),
    (
        "The council closes the poll, sees the results, every family sees what others said, "
        "and the council tells everyone what it did",
        council_closes_and_follows_up,
    ),
    ("Families look around: stray text, privacy, pause, forget", families_look_around),
    (
        "Staff pull the numbers: results, per location, participation, a chart, an export, "
        "and who wants to join the council",
        staff_pull_the_numbers,
    ),
    (
        "The council member switches her own screens to Arabic and gets the chart in Arabic",
        council_reads_in_arabic,
    ),
)


async def run_demo(
    *, out: Callable[[str], None] = print, files: Path = Path("achterban-demo")
) -> int:
    """Play every scene against the real bot and print what everyone saw, on both channels
    in the order it happened; the invite poster, the chart and the export the staff member
    downloads, and the chart in Arabic the council member gets, are saved in `files`."""
    await asyncio.to_thread(files.mkdir, parents=True, exist_ok=True)
    for name in ("", "telegram"):  # the transcript is the output; only problems are logged
        logging.getLogger(name).setLevel(logging.WARNING)
    timeline = Timeline()
    with tempfile.TemporaryDirectory(prefix="achterban-demo-") as folder:
        async with LocalBotApi(bot_username="achterban_demo_bot") as api, LocalWhatsApp() as wa:
            attach(api.queue)
            timeline.watch(TELEGRAM, api)
            timeline.watch(WHATSAPP, wa)
            settings = demo_settings(api, Path(folder), wa)
            async with running(settings) as app:
                stop = asyncio.Event()
                polling = asyncio.create_task(poll_until(app, stop, long_poll=1))
                outbox = app.bot_data[SERVICES].outbox
                demo = Demo(api=api, wa=wa, deliver=outbox.drain, files=files)
                try:
                    for title, scene in SCENES:
                        start = timeline.mark()
                        try:
                            await scene(demo)
                        finally:  # also what led up to a failure
                            if title is None:
                                out(f"\n({QUIETLY})")
                            else:
                                out(f"\n=== {title} ===\n")
                                out(timeline.render(start, _names(api)))
                    await wa.settle()  # the last read receipts, before the webhook closes
                finally:
                    stop.set()
                    await polling
    out("\nSaved the invite poster to print: " + ", ".join(map(str, demo.posters)))
    downloads = ", ".join(map(str, demo.saved))
    out("Saved what the staff member and the council member downloaded: " + downloads)
    out("\nThat was the real bot, talking to a simulated Telegram and a simulated WhatsApp.")
    out("Run it for real with a token: see README.md.")
    return 0


def demo_settings(api: LocalBotApi, folder: Path, wa: LocalWhatsApp) -> Settings:
    """A temporary database, one council, and WhatsApp pointed at the local Cloud API, whose
    webhook (the bot's) is told to listen on a free port."""
    port = _free_port()
    wa.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
    return Settings(
        telegram=TelegramSettings(token=api.token, base_url=api.base_url),
        whatsapp=WhatsAppSettings(
            phone_number_id=wa.phone_number_id,
            token=wa.token,
            app_secret=wa.app_secret,
            verify_token=secrets.token_urlsafe(16),
            business_number=wa.business_number,
            base_url=wa.base_url,
            listen="127.0.0.1",
            port=port,
        ),
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.sqlite3'}",
        admins=frozenset({STAFF_ID}),
        pseudonym_key=secrets.token_urlsafe(32),
        councils=(
            CouncilSettings(
                slug="noord",
                name="Cliëntenraad Noord",
                privacy_threshold=3,
                quiet_hours=("00:00", "00:00"),  # the demo may run at night
                languages=("nl", "ar"),  # each poll in Dutch and in Arabic
            ),
        ),
    )


def _names(api: LocalBotApi) -> dict[int, str]:
    return {user_id: user.first_name for user_id, user in api.users.items()}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
