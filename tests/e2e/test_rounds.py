"""Scheduled rounds, quiet hours and reminders, with a controlled clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.botapi import LocalBotApi, SimUser
from bot.chat.context import SERVICES
from bot.config import Settings
from bot.scheduling.jobs import run_due
from bot.scheduling.recurrence import upcoming
from bot.scheduling.rounds import run_schedules, send_reminders
from storage import templates
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Poll, Role, Round, RoundKind, Schedule, utcnow
from tests.builders import PSEUDONYM_KEY, make_invite, open_poll_now, poll_button, sign_up
from tests.e2e.conftest import RunningBot, polling_bot

QUESTION = [{"kind": "yes_no", "text": "Kom je naar de avond?"}]
FIRST_MONDAY_19 = {"every": "month", "nth": 1, "weekday": 0, "hour": 19}


async def people(api: LocalBotApi, bot: RunningBot, count: int, first: int = 1200) -> list[SimUser]:
    code = await make_invite(bot.db, uses=100)
    found = [api.user(first + n) for n in range(count)]
    for person in found:
        await sign_up(person, code)
    return found


async def test_schedule_made_in_taps_fires_once_per_period(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = api.user(1100)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    families = await people(api, bot, 2)
    async with bot.db.begin() as session:
        await templates.save_template(
            session, council_id=1, title="Maandvraag", body={"questions": QUESTION}
        )

    await member.command("planning")
    assert member.last.text == "Er zijn nog geen vaste rondes."
    await member.press("➕ Nieuwe vaste ronde")
    await member.press("Maandvraag")
    await member.press("Elke maand")
    await member.press("Maandag")
    await member.press("De eerste")
    await member.press("19:00")
    await member.press("7 dagen")
    assert member.last.text.startswith(
        "Gepland: Maandvraag, de eerste maandag van de maand om 19:00."
    )

    async with bot.db.begin() as session:
        schedule = await session.scalar(select(Schedule))
        schedule.active_since = datetime(2026, 9, 1, tzinfo=UTC)
        session.add(schedule)
    first_monday = datetime(2026, 10, 5, 17, tzinfo=UTC)  # 19:00 in Amsterdam (summer time)
    assert await run_schedules(bot.db, now=first_monday - timedelta(minutes=1)) == 0
    results = await asyncio.gather(
        run_schedules(bot.db, now=first_monday),
        run_schedules(Database(bot.settings.database_url), now=first_monday + timedelta(seconds=1)),
    )
    assert sum(results) == 1, "two schedulers at the same moment start one round"
    assert await run_schedules(bot.db, now=first_monday + timedelta(hours=5)) == 0
    await bot.deliver()
    for family in families:
        assert "Maandvraag" in family.last.text and family.last.labels[:3] == [
            "Ja",
            "Nee",
            "Weet ik niet",
        ]

    await member.command("planning")
    assert "Volgende:" in member.last.text
    await member.press("⏸ Maandvraag pauzeren")
    next_monday = datetime(2026, 11, 2, 18, tzinfo=UTC)  # 19:00 in winter time
    assert await run_schedules(bot.db, now=next_monday) == 0, "paused"
    await member.command("planning")
    await member.press("▶️ Maandvraag hervatten")
    resumed = utcnow()
    assert await run_schedules(bot.db, now=resumed) == 0, (
        "no catching up on what was missed while paused"
    )
    coming = upcoming(FIRST_MONDAY_19, timezone="Europe/Amsterdam", now=resumed)
    assert await run_schedules(bot.db, now=coming) == 1


async def test_a_restart_at_the_moment_gives_one_round(
    api: LocalBotApi, settings: Settings
) -> None:
    async with polling_bot(settings) as bot:
        await people(api, bot, 1)
        async with bot.db.begin() as session:
            template = await templates.save_template(
                session, council_id=1, title="Week", body={"questions": QUESTION}
            )
            session.add(
                Schedule(
                    council_id=1,
                    template_id=template.id,
                    rule={"every": "weeks", "weeks": 1, "weekday": 2, "hour": 19},
                    active_since=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
        moment = datetime(2026, 11, 25, 18, tzinfo=UTC)
        assert await run_schedules(bot.db, now=moment) == 1
    async with polling_bot(settings) as bot:  # restarted right at that moment
        assert await run_schedules(bot.db, now=moment + timedelta(seconds=30)) == 0
        async with bot.db.begin() as session:
            assert await session.scalar(select(func.count()).select_from(Round)) == 1


async def test_quiet_hours_hold_messages_until_morning(
    api: LocalBotApi, settings: Settings
) -> None:
    local = utcnow().astimezone(ZoneInfo("Europe/Amsterdam"))
    start, end = (
        (local - timedelta(hours=1)).strftime("%H:00"),
        (local + timedelta(hours=2)).strftime("%H:00"),
    )
    quiet = tuple(
        replace(c, quiet_hours=(start, end)) if c.slug == "noord" else c for c in settings.councils
    )
    async with polling_bot(replace(settings, councils=quiet)) as bot:
        (family,) = await people(api, bot, 1)
        await open_poll_now(bot.db, questions=QUESTION)
        await bot.deliver()
        assert not any("Kom je naar de avond?" in m.text for m in family.messages)
        async with bot.db.begin() as session:
            delivery = await session.scalar(select(Delivery))
        assert delivery.status is DeliveryStatus.pending
        assert delivery.not_before > utcnow() + timedelta(minutes=55)


async def test_reminders_go_only_to_who_has_not_answered(api: LocalBotApi, bot: RunningBot) -> None:
    member = api.user(1101)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    answered, waiting, stopped = await people(api, bot, 3)
    poll_id = await open_poll_now(bot.db, questions=QUESTION, title="Avond")
    await bot.deliver()
    await answered.press("Ja")
    await stopped.command("stoppen")
    async with bot.db.begin() as session:
        closes = (await session.get(Poll, poll_id)).closes_at

    assert (
        await send_reminders(bot.db, pseudonym_key=PSEUDONYM_KEY, now=closes - timedelta(hours=25))
        == 0
    )
    assert (
        await send_reminders(bot.db, pseudonym_key=PSEUDONYM_KEY, now=closes - timedelta(hours=23))
        == 1
    )
    assert (
        await send_reminders(bot.db, pseudonym_key=PSEUDONYM_KEY, now=closes - timedelta(hours=22))
        == 0
    )
    await bot.deliver()
    assert waiting.last.text.startswith("⏰ Een vriendelijke herinnering")
    assert not answered.last.text.startswith("⏰"), "who answered gets no reminder"
    assert not stopped.last.text.startswith("⏰"), "who stopped gets nothing"

    await member.command("herinner")
    await member.press(poll_button(member, "Avond"))
    sent = "Er gaat een herinnering naar 1 mensen die nog niet antwoordden."
    assert any(m.text == sent for m in member.messages)
    await member.command("herinner")
    await member.press(poll_button(member, "Avond"))
    assert any(
        m.text == "Deze peiling had al twee herinneringen. Meer wordt te veel."
        for m in member.messages
    )
    async with bot.db.begin() as session:
        kinds = list(
            await session.scalars(select(Round.kind).where(Round.kind == RoundKind.reminder))
        )
    assert len(kinds) == 2


async def test_run_due_opens_and_closes_on_the_clock(api: LocalBotApi, bot: RunningBot) -> None:
    await people(api, bot, 1)
    poll_id = await open_poll_now(bot.db, questions=QUESTION)
    await bot.deliver()
    async with bot.db.begin() as session:
        closes = (await session.get(Poll, poll_id)).closes_at
    await run_due(
        bot.app.bot, bot.db, pseudonym_key=PSEUDONYM_KEY, now=closes + timedelta(minutes=1)
    )
    async with bot.db.begin() as session:
        assert (await session.get(Poll, poll_id)).status.value == "closed"


async def test_status_shows_what_is_being_sent(api: LocalBotApi, bot: RunningBot) -> None:
    member = api.user(1102)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    await bot.app.bot_data[SERVICES].outbox.stop()  # hold the queue still while we look at it
    await member.command("status")
    assert member.last.text == "Er wordt nu niets verstuurd. Wachtrij: leeg."
    await people(api, bot, 2)
    await open_poll_now(bot.db, questions=QUESTION, title="Bezig")
    await member.command("status")
    assert "Bezig (vragen): 0 van 2 gedaan, 2 wachten nog" in member.last.text

    async with bot.db.begin() as session:  # one row was tried during an outage of the database
        await session.execute(update(Delivery).where(Delivery.id == 1).values(error="Bad Gateway"))
    database = bot.app.bot_data[SERVICES].health.database
    database.failed(ConnectionRefusedError())
    await member.command("status")
    database.ok()
    lines = member.last.text.splitlines()
    assert "wordt zo opnieuw geprobeerd: 1 (Bad Gateway)" in lines[2]
    assert lines[3].startswith("⏳ De database is niet bereikbaar (sinds ")
    assert "Er gaat niets verloren" in lines[3]


async def test_forged_schedule_buttons_are_refused(api: LocalBotApi, bot: RunningBot) -> None:
    member = api.user(1103)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    await member.command("planning")
    stale = "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."
    for forged in (
        "sc:s:x:m:0:1:19:7",
        "sc:e",
        "sc:s:1:m:9:1:19:7",
        "sc:s:1:w3:0:0:19:7",
        "sc:p:99",
    ):
        assert await member.press_data(forged) == stale, forged
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Schedule)) == 0
