"""The scheduler's work: recurring rounds from schedules, and reminders to non-responders.

Both are safe to run twice, in two processes, or after a restart at the very moment: each
round has a unique key (schedule + period, or poll + "reminder-N"), so a second attempt
fails on the key and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.scheduling.recurrence import latest, period_key
from storage import polls, schedules
from storage.db import Database
from storage.models import Address, Person, Poll, PollStatus, Respondent, Round, RoundKind
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
CATCH_UP = timedelta(days=2)
MAX_REMINDERS = 2
DAYS_OPEN = 7


async def run_schedules(db: Database, *, now: datetime) -> int:
    """Start every scheduled round whose moment came (once); returns how many started."""
    async with db.begin() as session:
        due = await schedules.active_schedules(session)
    started = 0
    for schedule, template, council in due:
        since = max(schedule.active_since, now - CATCH_UP)
        moment = latest(schedule.rule, timezone=council.timezone, after=since, now=now)
        if moment is None:
            continue
        key = period_key(moment, timezone=council.timezone)
        try:
            async with db.begin() as session:
                if await schedules.has_round(session, schedule_id=schedule.id, period_key=key):
                    continue
                body = dict(template.body) | {
                    "title": template.title,
                    "template_id": template.id,
                    "schedule_id": schedule.id,
                    "opens_at": moment.isoformat(),
                    "closes_at": (
                        moment + timedelta(days=int(schedule.rule.get("days_open", DAYS_OPEN)))
                    ).isoformat(),
                }
                poll = await polls.create_poll(
                    session, council_id=council.id, body=body, created_by=None, now=now
                )
                await polls.start_round(
                    session,
                    poll=poll,
                    kind=RoundKind.questions,
                    recipients=polls.audience(council.id, []),
                    period_key=key,
                    schedule_id=schedule.id,
                )
            started += 1
        except IntegrityError:
            log.info("scheduled round %s/%s was started elsewhere", schedule.id, key)
    return started


async def send_reminders(db: Database, *, pseudonym_key: str, now: datetime) -> int:
    """The automatic reminder of every open poll whose reminder moment came (once each)."""
    async with db.begin() as session:
        due = list(
            await session.scalars(
                select(Poll).where(
                    Poll.status == PollStatus.open,
                    Poll.reminder_hours.is_not(None),
                    Poll.closes_at > now,
                )
            )
        )
    sent = 0
    for poll in due:
        if poll.closes_at - timedelta(hours=poll.reminder_hours) > now:
            continue
        if poll.opens_at and poll.closes_at - poll.opens_at <= timedelta(hours=poll.reminder_hours):
            continue  # a poll shorter than its reminder time gets no automatic reminder
        try:
            async with db.begin() as session:
                if await _reminders_sent(session, poll_id=poll.id):
                    continue
                sent += await remind(session, poll=poll, pseudonym_key=pseudonym_key) is not None
        except IntegrityError:
            continue
    return sent


async def remind(session: AsyncSession, *, poll: Poll, pseudonym_key: str) -> Round | None:
    """A reminder round to everyone asked who has not answered yet; None after two."""
    number = await _reminders_sent(session, poll_id=poll.id) + 1
    if number > MAX_REMINDERS:
        return None
    asked = await session.execute(
        select(Person.id, Person.channel, Person.address).where(Person.id.in_(polls.asked(poll.id)))
    )
    answered = set(
        await session.scalars(select(Respondent.pseudonym).where(Respondent.poll_id == poll.id))
    )
    waiting = [
        person_id
        for person_id, channel, address in asked
        if pseudonym(pseudonym_key, poll_id=poll.id, address=Address(channel, address))
        not in answered
    ]
    reminder = Round(poll_id=poll.id, kind=RoundKind.reminder, period_key=f"reminder-{number}")
    return await polls.fill_round_with(session, reminder, waiting)


async def _reminders_sent(session: AsyncSession, *, poll_id: int) -> int:
    rows = await session.scalars(
        select(Round.id).where(Round.poll_id == poll_id, Round.kind == RoundKind.reminder)
    )
    return len(list(rows))
