"""Every family flow on both channels: joining, all seven question kinds, skip and change,
rounds, reminders and follow-ups, and the account (privacy, pause, resume, stop, forget).
The bot runs with Telegram and WhatsApp on at once; each test runs once per channel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from bot.scheduling.rounds import send_reminders
from bot.wasim import LocalWhatsApp
from storage import polls
from storage.models import Answer, Delivery, Person, Poll, Question, Respondent
from tests.builders import LANGUAGE_NAMES, PSEUDONYM_KEY, make_invite, open_poll_now
from tests.e2e.conftest import RunningBot
from tests.e2e.families import CHANNELS, Family, family_on, join
from tests.e2e.test_poll_answering import ALL_KINDS, MORE_KINDS

SEVEN_KINDS = ALL_KINDS + MORE_KINDS
pytestmark = pytest.mark.parametrize("channel", CHANNELS)


@pytest.fixture
def newcomer(channel: str, api: LocalBotApi, wa: LocalWhatsApp) -> Family:
    return family_on(channel, api, wa, 801)


async def joined(bot: RunningBot, family: Family, *, language: str = "Nederlands") -> Family:
    await join(family, await make_invite(bot.db, tags=("locatie:noord",)), language=language)
    return family


async def stored(bot: RunningBot) -> list[tuple[int, int | None, int | None, str | None, bool]]:
    async with bot.db.read() as session:
        rows = await session.execute(
            select(Question.position, Answer.slot, Answer.value, Answer.text, Answer.skipped)
            .join(Question, Question.id == Answer.question_id)
            .order_by(Question.position, Answer.slot)
        )
        return [tuple(row) for row in rows]


async def people(bot: RunningBot) -> list[tuple[str, str, str]]:
    async with bot.db.read() as session:
        rows = await session.execute(select(Person.channel, Person.address, Person.language))
        return [tuple(row) for row in rows]


async def test_joining_in_dutch_stores_nothing_before_consent(
    channel: str, wabot: RunningBot, newcomer: Family
) -> None:
    await newcomer.join(await make_invite(wabot.db))
    assert newcomer.labels == LANGUAGE_NAMES
    await newcomer.press("Nederlands")
    assert ("telefoonnummer" if channel == "whatsapp" else "Telegram-ID") in newcomer.text
    assert await people(wabot) == [], "nothing is stored before consent"
    await newcomer.press("Ja, ik ga akkoord")
    await newcomer.press("16 of ouder")
    assert "Je doet nu mee met" in newcomer.text
    assert await people(wabot) == [(channel, newcomer.address.id, "nl")]


async def test_a_young_person_joins_in_english_with_a_guardian_or_not_at_all(
    channel: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot, newcomer: Family
) -> None:
    code = await make_invite(wabot.db)
    await join(newcomer, code, language="English", adult=False)
    assert "You are signed up with" in newcomer.text
    noor = family_on(channel, api, wa, 802)
    await noor.join(code)
    await noor.press("Nederlands")
    await noor.press("Ja, ik ga akkoord")
    await noor.press("Jonger dan 16")
    assert "ouder of voogd" in noor.text
    await noor.press("Nog niet")
    assert "Vraag het eerst aan je ouder of voogd" in noor.text
    assert [language for _, _, language in await people(wabot)] == ["en"]


async def test_all_seven_kinds_with_a_typed_answer(wabot: RunningBot, newcomer: Family) -> None:
    family = await joined(wabot, newcomer)
    await open_poll_now(wabot.db, questions=SEVEN_KINDS)
    await wabot.deliver()
    assert "Vraag 1 van 7" in family.text

    await family.press("Goed")
    assert "Vraag 2 van 7" in family.text
    await family.press("☐ Uitleg")
    await family.press("☐ Koffie")
    await family.press("Klaar ✓")
    await family.press("🙂")
    await family.press("8")
    await family.press("Weet ik niet")
    assert "Vraag 6 van 7" in family.text
    await family.send("Minder <b>wachten</b> & meer uitleg")
    assert "Vraag 7 van 7" in family.text
    for pick in ("Kosten", "Wachttijd", "Uitleg"):
        await family.press(pick)
    assert family.text.startswith("Dank je wel! Dat was de laatste vraag.")

    assert await stored(wabot) == [
        (1, 0, None, None, False),
        (2, 1, None, None, False),
        (2, 3, None, None, False),
        (3, 0, 4, None, False),
        (4, 0, 8, None, False),
        (5, 0, 3, None, False),
        (6, 0, None, "Minder <b>wachten</b> & meer uitleg", False),
        (7, 1, None, None, False),
        (7, 2, None, None, False),
        (7, 3, None, None, False),
    ]
    async with wabot.db.read() as session:
        respondent = await session.scalar(select(Respondent))
    assert respondent.person_id is None, "anonymous: no person id"
    assert family.address.id not in respondent.pseudonym


async def test_a_skip_then_a_change(channel: str, wabot: RunningBot, newcomer: Family) -> None:
    family = await joined(wabot, newcomer)
    await open_poll_now(wabot.db, questions=SEVEN_KINDS[:2])
    await wabot.deliver()
    await family.press("Overslaan")
    assert "Vraag 2 van 2" in family.text
    if channel == "telegram":  # the answered message shows a Change button; WhatsApp's
        await family.press("Antwoord veranderen")  # old message keeps its choices
    await family.press("Matig")
    async with wabot.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
    assert await stored(wabot) == [(1, 0, None, None, False)]
    assert sum("Vraag 2 van 2" in text for text in family.texts) == 1, "asked once"


async def test_a_round_a_reminder_and_a_follow_up_reach_the_family(
    wabot: RunningBot, newcomer: Family
) -> None:
    family = await joined(wabot, newcomer)
    poll_id = await open_poll_now(wabot.db, questions=SEVEN_KINDS[4:5], title="Avond")
    await wabot.deliver()
    assert "Kom je terug?" in family.text
    async with wabot.db.read() as session:
        closes = (await session.get(Poll, poll_id)).closes_at
    await send_reminders(wabot.db, pseudonym_key=PSEUDONYM_KEY, now=closes - timedelta(hours=23))
    await wabot.deliver()
    assert family.text.startswith("⏰ Een vriendelijke herinnering")
    await family.press("Ja")
    async with wabot.db.begin() as session:
        poll = await session.get(Poll, poll_id)
        await polls.add_followup(
            session, poll=poll, text="We zetten koffie klaar.", created_by=None
        )
    await wabot.deliver()
    assert "We zetten koffie klaar." in family.text
    async with wabot.db.read() as session:
        statuses = set(await session.scalars(select(Delivery.status)))
    assert {status.value for status in statuses} == {"sent"}


async def test_privacy_pause_resume_stop_and_forget(
    channel: str, wabot: RunningBot, newcomer: Family
) -> None:
    family = await joined(wabot, newcomer)
    await family.command("privacy")
    assert ("telefoonnummer" if channel == "whatsapp" else "Telegram-ID") in family.text
    await family.command("pause")
    assert family.text.startswith("Gepauzeerd.")
    await open_poll_now(wabot.db, questions=SEVEN_KINDS[:1])
    await wabot.deliver()
    assert "Vraag 1" not in family.text, "paused: no questions"
    await family.command("resume")
    assert family.text.startswith("Welkom terug!")
    await family.command("stop")
    assert family.text.startswith("Je krijgt geen berichten meer van ons.")
    await family.command("forget")
    assert family.labels == ["Ja, wis alles", "Nee, bewaar het"]
    await family.press("Ja, wis alles")
    assert "We hebben alles over jou gewist" in family.text
    assert await people(wabot) == [], "the address is gone with the person"


async def test_stop_works_in_the_middle_of_a_poll(
    channel: str, wabot: RunningBot, newcomer: Family
) -> None:
    family = await joined(wabot, newcomer)
    await open_poll_now(wabot.db, questions=SEVEN_KINDS[5:6] + SEVEN_KINDS[:1])
    await wabot.deliver()
    assert "Wat kan beter?" in family.text, "an open question waits for typed text"
    await family.command("stop")
    assert family.text.startswith("Je krijgt geen berichten meer van ons.")
    assert await stored(wabot) == [], "the STOP-word is not taken as the answer"
