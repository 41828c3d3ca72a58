"""Every text at its limit, and one over; every button's data within Telegram's 64 bytes.

At its maximum length, in Dutch with é, ë and ĳ or in Arabic, a poll title, a question, an
option, an open answer and a follow-up are taken and shown in full. One character more gets
the friendly "too long" answer, and the step stays where it was, so the person simply tries
again. Meanwhile every keyboard the bot sends or edits (collected from the server) keeps its
callback data within 64 bytes of UTF-8, with the longest inputs and with ids near the largest
an INTEGER column holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.botapi import LocalBotApi, SimUser
from bot.botapi.markup import inline_buttons
from bot.botapi.state import StoredMessage
from bot.chat.keyboards import MAX_ID, MAX_LABEL
from bot.config import Settings
from bot.polls.checking import MAX_FOLLOWUP, MAX_QUESTION, MAX_TITLE
from bot.polls.questions import OPEN_TEXT_LIMIT
from handlers.gate import FLOOD
from storage.db import Database
from storage.models import (
    Council,
    Invite,
    Option,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Role,
    Schedule,
    Template,
    utcnow,
)
from tests.builders import COUNCILS, make_invite, poll_button, sign_up
from tests.e2e.conftest import RunningBot, polling_bot

DUTCH = "ĳsbeer één reünie café ëxtra "
ARABIC = "مرحبا بكم في مجلس الشباب "
TOO_LONG = "Dat is te lang: maximaal {} tekens graag."
BIG = MAX_ID - 100_000
KIND = "ĳé" * 12
"""The longest tag kind (before the colon) an invite takes: 24 letters, 48 bytes, as it
travels in the data of the results' "Per ..." button."""


def sized(pattern: str, length: int, start: str = "") -> str:
    """`start`, then `pattern` over and over, exactly `length` characters, no space at the end."""
    text = (start + pattern * (length // len(pattern) + 1))[:length]
    return text if not text.endswith(" ") else text[:-1] + "ë"


@pytest.fixture
async def keyboards(api: LocalBotApi) -> list[tuple[str, str]]:
    """(label, callback data) of every button the bot sends or edits in, from the server."""
    seen: list[tuple[str, str]] = []
    noted = api.note_bot_message

    def note(message: StoredMessage, action: str) -> None:
        seen.extend(
            (button.text, button.callback_data)
            for row in inline_buttons(message.reply_markup)
            for button in row
            if button.callback_data is not None
        )
        noted(message, action)

    api.note_bot_message = note  # type: ignore[method-assign]
    return seen


@pytest.fixture
async def big(settings: Settings, db_url: str) -> AsyncIterator[RunningBot]:
    """The bot on a database whose councils, polls, questions, options, templates, schedules
    and invites all get ids near MAX_ID (the flood limit off: one person walks every step)."""
    db = Database(db_url)
    await ids_near_the_maximum(db)
    await db.dispose()
    async with polling_bot(settings) as running:
        running.app.bot_data[FLOOD] = 1000
        yield running


async def ids_near_the_maximum(db: Database) -> None:
    async with db.begin() as session:
        for offset, council in enumerate(COUNCILS):
            session.add(Council(id=BIG + offset, slug=council.slug, name=council.name))
        await session.flush()
        if not db.is_sqlite:
            for table in ("template", "poll", "question", "option", "schedule", "invite"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                await session.execute(text(f"SELECT setval({sequence}, {BIG})"))
            return
        # SQLite gives the largest id so far + 1: one unused row at BIG per table, in "west"
        west = BIG + 2
        session.add(Template(id=BIG, council_id=west, title="-", body={"questions": []}))
        session.add(Poll(id=BIG, council_id=west, title="-", status=PollStatus.closed))
        await session.flush()
        session.add(Question(id=BIG, poll_id=BIG, position=1, kind=QuestionKind.single, text="-"))
        session.add(Schedule(id=BIG, council_id=west, template_id=BIG, rule={}, paused=True))
        session.add(
            Invite(
                id=BIG,
                council_id=west,
                code_hash="0" * 64,
                role=Role.family,
                expires_at=utcnow(),
            )
        )
        await session.flush()
        session.add(Option(id=BIG, question_id=BIG, position=1, label="-"))


async def over_then_at(user: SimUser, limit: int, at_limit: str, over: str) -> None:
    """One character too many is refused kindly; then the longest text is taken."""
    assert len(over) == limit + 1 and len(at_limit) == limit
    await user.send(over)
    assert user.last.text == TOO_LONG.format(limit)
    await user.send(at_limit)


async def test_texts_at_their_limit_are_taken_and_shown_and_one_more_is_refused_kindly(
    api: LocalBotApi, big: RunningBot, keyboards: list[tuple[str, str]]
) -> None:
    staff, families = await _people(api, big)
    title = sized(DUTCH, MAX_TITLE)
    question = sized(ARABIC, MAX_QUESTION)
    options = [sized(DUTCH if n % 2 else ARABIC, MAX_LABEL, f"{n} ") for n in range(10)]

    await staff.command("nieuw")
    await over_then_at(staff, MAX_TITLE, title, sized(ARABIC, MAX_TITLE + 1))
    await staff.press("Eén keuze")
    await over_then_at(staff, MAX_QUESTION, question, sized(DUTCH, MAX_QUESTION + 1))
    await staff.send("\n".join([*options[:9], options[9] + "ĳ"]))
    assert staff.last.text == f"“{options[9]}…” is te lang voor een knop: maximaal 40 tekens."
    await staff.send("\n".join(options))
    for kind in ("Meerdere keuzes", "Top 3 van belangrijke punten"):
        await staff.press(kind)
        await staff.send(question)
        await staff.send("\n".join(options))
    await staff.press("Open antwoord")
    await staff.send(question)
    await staff.press("Gezichtjes 😞 tot 😄")
    await staff.send(question)
    await _settings_and_preview(staff, title, question, options)
    await big.deliver()

    answer = sized(ARABIC, OPEN_TEXT_LIMIT)
    for family in families:
        await _answer_everything(family, options, answer)
    await families[0].command("gegevens")
    own = "\n".join(message.text for message in families[0].messages[-2:])
    assert title in own and question in own and answer in own

    await staff.command("sluiten")
    await staff.press(poll_button(staff, title))
    closed = "\n".join(message.text for message in staff.messages[-3:])
    assert title in closed and question in closed and options[9] in closed

    followup = sized(DUTCH + ARABIC, MAX_FOLLOWUP)
    await staff.command("terugkoppeling")
    await staff.press(poll_button(staff, title))
    await over_then_at(staff, MAX_FOLLOWUP, followup, sized(ARABIC, MAX_FOLLOWUP + 1))
    assert followup in staff.last.text
    await staff.press("✅ Versturen")
    await big.deliver()
    assert all(followup in family.last.text for family in families)

    await _every_other_keyboard(staff, families[0], title)
    assert_every_button_fits(keyboards)


async def _people(api: LocalBotApi, bot: RunningBot) -> tuple[SimUser, list[SimUser]]:
    """A staff member of zuid, and three families who joined with an invite they made."""
    staff = api.user(850)
    await sign_up(staff, await make_invite(bot.db, council="zuid", role=Role.staff))
    await staff.command("uitnodigen")
    await staff.press("Gezinnen en jongeren")
    tags = f"{KIND}:{'é' * 30} wijk:{'ĳ' * 30} zorg:ambulant"
    await staff.send(tags + " a:b c:d e:f")
    assert staff.last.text == "Maximaal 5 labels graag."
    await staff.send(tags.replace(KIND, KIND + "é"))
    assert "is te lang voor een knop" in staff.last.text
    await staff.send(tags)
    await staff.press("30 dagen")
    await staff.press("100 mensen")
    code = staff.last.text.split("?start=")[1].split()[0]
    families = [api.user(851 + n) for n in range(3)]  # zuid shows results from 3 answers
    for family in families:
        await sign_up(family, code, language="English" if family.id % 2 else "Nederlands")
    return staff, families


async def _settings_and_preview(
    staff: SimUser, title: str, question: str, options: list[str]
) -> None:
    await staff.press("Iedereen van Jongerenraad Zuid")
    await staff.press("Anoniem (beste keuze)")
    await staff.press("Kies een datum en tijd")
    await staff.send("31-12-2098 10:00")
    await staff.press("Na 14 dagen")
    await staff.press("Ja, dat mag")
    preview = [message.text for message in staff.messages[-7:]]
    assert title in preview[1] and question in preview[1]
    assert staff.messages[-6].labels == [*options, "Overslaan"]
    assert f"Titel: {title}" in preview[-1]
    await staff.press("✏️ Iets veranderen")
    await staff.press("Wie, wanneer en anoniem")
    await staff.press("Iedereen van Jongerenraad Zuid")
    await staff.press("Anoniem (beste keuze)")
    await staff.press("Meteen")
    await staff.press("Na 3 dagen")
    await staff.press("Ja, dat mag")
    await staff.press("💾 Bewaren als sjabloon")
    await staff.press("✅ Versturen")


async def _answer_everything(family: SimUser, options: list[str], answer: str) -> None:
    """Question by question; the open answer one character too long first."""
    await family.press(options[9])
    for option in options:
        await family.press(f"☐ {option}")
    await family.press("Klaar ✓" if family.id % 2 == 0 else "Done ✓")
    for option in options[:3]:
        await family.press(option)
    too_long = "That is too long: at most 500 characters, please."
    await family.send(answer + "ë")
    assert family.last.text in (TOO_LONG.format(OPEN_TEXT_LIMIT), too_long)
    await family.send(answer)
    assert f"«{answer}»" in family.messages[-2].text
    await family.press("😄")


async def _every_other_keyboard(staff: SimUser, family: SimUser, title: str) -> None:
    """Results and their buttons, a reminder, templates, a schedule, language and forget."""
    await staff.command("uitslag")
    await staff.press(poll_button(staff, title))
    await staff.press(f"Per {KIND}")
    await staff.press("📄 Als bestand (Excel)")
    await staff.press("📄 Ook elk antwoord op een eigen rij")
    await staff.command("sjablonen")
    await staff.press(f"🔒 {title[:30]} (tik om te delen)")
    await staff.command("planning")
    await staff.press("➕ Nieuwe vaste ronde")
    await staff.press(title[:40])
    await staff.press("Elke maand")
    await staff.press("Zondag")
    await staff.press("De laatste")
    await staff.press("20:00")
    await staff.press("14 dagen")
    await staff.command("planning")
    await staff.press(f"⏸ {title[:25]} pauzeren")
    await staff.command("peilingen")
    await family.command("taal")
    await family.press("English")
    await family.command("forget")
    await family.press("No, keep it")


def assert_every_button_fits(keyboards: list[tuple[str, str]]) -> None:
    assert len(keyboards) > 150, "every flow showed its buttons"
    prefixes = {data.split(":")[0] for _, data in keyboards}
    assert prefixes >= {"su", "inv", "np", "qa", "qm", "qd", "qp", "qs", "qo", "qc", "pl"}
    assert prefixes >= {"rs", "tp", "sc", "lang", "fg"}
    assert any(str(BIG)[:5] in data for _, data in keyboards), "ids near the maximum were used"
    too_long = [data for _, data in keyboards if len(data.encode()) > 64]
    assert too_long == []
    assert max(len(data.encode()) for _, data in keyboards) > 40
