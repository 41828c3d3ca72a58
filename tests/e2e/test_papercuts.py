"""The council's screens as a new member meets them: every poll command takes a number, a
picker tells two polls of the same title apart, a progress line says what went out (and
leaves out what is 0), a grade row starts with the grade, and a closed poll's old buttons
thank only a family that answered it."""

from __future__ import annotations

import csv
import io

from bot.botapi import LocalBotApi
from bot.chat import formatting
from bot.wasim import LocalWhatsApp
from storage.models import Council, Poll, Role
from tests.builders import answered_poll, make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot
from tests.e2e.families import OnTelegram, family_on, join

TITLE = "Het eerste gesprek"
QUESTION = [{"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]}]
GRADE = [{"kind": "grade", "text": "Welk cijfer geef je?"}]


async def _label(bot: RunningBot, poll_id: int) -> str:
    async with bot.db.read() as session:
        poll = await session.get(Poll, poll_id)
        council = await session.get(Council, poll.council_id)
    day = formatting.day(poll.opens_at or poll.created_at, council.timezone)
    return f"#{poll_id} · {poll.title} · {day}"


async def test_poll_commands_take_a_number_pickers_show_it_and_grades_come_first(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = api.user(1400)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    family, gone = api.user(1401), api.user(1402)
    code = await make_invite(bot.db)
    for person in (family, gone):
        await sign_up(person, code)
    first = await open_poll_now(bot.db, questions=QUESTION, title=TITLE)
    second = await open_poll_now(bot.db, questions=QUESTION, title=TITLE)
    elsewhere = await open_poll_now(bot.db, questions=QUESTION, title=TITLE, council="zuid")
    await bot.deliver()
    both = [await _label(bot, second), await _label(bot, first)]

    await member.command("sluiten")
    assert member.last.text == "Welke peiling wil je nu sluiten?"
    assert member.last.labels == both, "same title, told apart by number and date"
    await member.command("peilingen")
    assert member.last.labels == both
    for unknown in ("999", str(elsewhere), "twaalf"):
        await member.command("sluiten", unknown)
        assert member.last.text == (
            f"Ik kan peiling {unknown} niet vinden bij jouw raad.\nWelke peiling wil je nu sluiten?"
        )
        assert member.last.labels == both

    api.faults.block(gone.id)
    await member.command("herinner", str(first))
    assert member.last.text == "Er gaat een herinnering naar 2 mensen die nog niet antwoordden."
    await bot.deliver()
    assert member.last.text == (
        f"✅ De herinnering over “{TITLE}” ging naar 1 van de 2 mensen.\nBot geblokkeerd: 1"
    ), "the reminder says it is one; only a count that is not 0"

    await member.command("sluiten", str(first))
    closed = f"De peiling {TITLE} is gesloten. De uitslag komt hierna."
    assert any(message.text == closed for message in member.messages)
    await member.command("herinner", str(first))
    assert member.last.text == (
        f"Dat kan nu niet met peiling #{first} “{TITLE}”.\n"
        "Voor welke peiling wil je een herinnering sturen? Alleen wie nog niet antwoordde krijgt "
        "hem."
    )
    assert member.last.labels == both[:1], "the picker: only the open poll"

    await member.command("terugkoppeling", str(first))
    assert member.last.text.startswith(f"Wat heeft de raad gedaan met de antwoorden op “{TITLE}”?")
    await member.send("We bellen voortaan binnen twee dagen terug.")
    await member.press("✅ Versturen")
    await bot.deliver()
    assert member.last.text == (
        f"✅ De terugkoppeling over “{TITLE}” ging naar 1 van de 1 mensen."
    ), "the follow-up says it is one (who blocked the bot is not asked again)"

    eights = [((), [8])] * 5 + [((), [6])] * 2
    graded = await answered_poll(bot.db, questions=GRADE, answers=eights, first_id=60_000)
    await member.command("uitslag", str(graded))
    assert "▓▓▓▓▓▓▓░░░ 71% cijfer 8 (5)\nAndere cijfers: elk minder dan 5" in member.last.text
    await member.command("exporteer", str(graded))
    rows = list(csv.reader(io.StringIO(member.last.file.decode("utf-8-sig")), delimiter=";"))
    assert any(row[-7:-4] == ["8", "5", "71"] for row in rows), rows


async def test_a_closed_polls_old_buttons_thank_only_who_answered_on_both_channels(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    member = api.user(1410)
    await sign_up(member, await make_invite(wabot.db, role=Role.council))
    code = await make_invite(wabot.db)
    channels = ("telegram", "telegram", "whatsapp", "whatsapp")
    families = [family_on(channel, api, wa, 1411 + n) for n, channel in enumerate(channels)]
    for family in families:
        await join(family, code)
    poll_id = await open_poll_now(wabot.db, questions=QUESTION, title=TITLE)
    await wabot.deliver()
    answered, silent = families[::2], families[1::2]
    for family in answered:
        await family.press("Goed")
    await member.command("sluiten", str(poll_id))

    for family in families:
        edited = family in answered and isinstance(family, OnTelegram)  # WhatsApp can't edit
        await family.press("Antwoord veranderen" if edited else "Goed")  # an old button
        said = family.toasts[-1] if isinstance(family, OnTelegram) else family.text
        expected = (
            "Deze peiling is gesloten. Dank je wel voor je antwoord!"
            if family in answered
            else "Deze peiling is gesloten."
        )
        assert said == expected, (family.channel, family in silent)

    await member.command("terugkoppeling", str(poll_id))
    await member.send("We bellen voortaan binnen twee dagen terug.")
    await member.press("✅ Versturen")
    await wabot.deliver()
    assert member.last.text == f"✅ De terugkoppeling over “{TITLE}” ging naar 4 van de 4 mensen."
    assert all("We bellen voortaan" in family.text for family in families), "both channels"
