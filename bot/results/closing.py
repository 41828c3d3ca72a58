"""Closing a poll (at its deadline or by /close), telling the council the results, and queueing
what others said for every family that was asked (`bot.results.shared`), when the council
shares it and at least k answered."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Bot
from telegram.error import TelegramError

from bot.results.publish import split_long
from bot.results.report import results_text
from bot.results.shared import worth_sharing
from bot.texts import texts_for
from storage import people, polls
from storage.db import Database
from storage.models import TELEGRAM

log = logging.getLogger(__name__)


async def close_and_report(bot: Bot, db: Database, *, poll_id: int, now: datetime) -> bool:
    """Close the poll (once) and send its results to the council's members and staff."""
    async with db.begin() as session:
        closed = await polls.close_poll(session, poll_id=poll_id, now=now)
        view = await polls.load_poll(session, poll_id=poll_id)
        team = await people.council_team(session, council_id=view.council.id) if closed else []
        if (
            closed
            and view.poll.share_results
            and worth_sharing(view.poll.summary, k=view.council.privacy_threshold)
        ):
            await polls.add_summary(session, poll=view.poll)  # the outbox sends it
    for address, language in team:
        if address.channel != TELEGRAM:
            continue
        text = await results_text(db, poll_id=poll_id, language=language)
        header = texts_for(language)(
            "results.closed_header", title=view.in_language(language).poll.title
        )
        try:
            for part in split_long(f"{header}\n\n{text}"):
                await bot.send_message(int(address.id), part)
        except TelegramError as error:
            log.warning("results not delivered to a council member (%s)", type(error).__name__)
    return closed


async def close_due_polls(bot: Bot, db: Database, *, now: datetime) -> int:
    """Close every open poll whose deadline passed; returns how many closed."""
    async with db.begin() as session:
        due = await polls.polls_to_close(session, now=now)
    closed = 0
    for poll in due:
        closed += await close_and_report(bot, db, poll_id=poll.id, now=now)
    return closed


async def open_due_polls(db: Database, *, now: datetime) -> int:
    """Open every planned poll whose moment came: a round to its audience; returns the rounds.
    First, rounds whose outbox rows were not all written (a restart while filling) are
    finished."""
    await polls.finish_rounds(db.engine)
    async with db.read() as session:
        due = await polls.polls_to_open(session, now=now)
    opened = 0
    for poll in due:  # each in a transaction of its own, as its round's first rows are
        async with db.begin() as session:
            opened += await polls.open_poll(session, poll=poll) is not None
    return opened
