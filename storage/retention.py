"""Retention: a set number of days after a poll closed, its answer-level data is deleted.

What goes: respondents with their pseudonyms and tags, every answer (open texts too), and the
outbox rows that say who was sent the poll. What stays: the counts, as the results showed them,
in `Poll.summary`, so results, charts and the table export still work.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit, polls, tallies
from storage.models import Delivery, Poll, PollStatus, Respondent, Round
from storage.tallies import QuestionTally


async def purge_due(session: AsyncSession, *, now: datetime, days: int) -> int:
    """Delete the answers of every poll closed more than `days` ago; returns how many polls."""
    due = list(
        await session.scalars(
            select(Poll).where(
                Poll.status == PollStatus.closed,
                Poll.closed_at <= now - timedelta(days=days),
                Poll.purged_at.is_(None),
            )
        )
    )
    for poll in due:
        await purge_poll(session, poll=poll, now=now)
    return len(due)


async def purge_poll(session: AsyncSession, *, poll: Poll, now: datetime) -> None:
    counts = await tallies.tally_poll(session, poll_id=poll.id)
    poll.summary = {
        "asked": await polls.asked_count(session, poll_id=poll.id),
        "respondents": await tallies.respondents(session, poll_id=poll.id),
        "questions": {str(question_id): _plain(tally) for question_id, tally in counts.items()},
    }
    poll.purged_at = now
    rounds = select(Round.id).where(Round.poll_id == poll.id)
    await session.execute(delete(Delivery).where(Delivery.round_id.in_(rounds)))
    await session.execute(delete(Respondent).where(Respondent.poll_id == poll.id))
    audit.record(session, action="retention", council_id=poll.council_id, detail=f"poll {poll.id}")


def summary_tallies(summary: dict[str, Any]) -> dict[int, QuestionTally]:
    """The counts kept in a purged poll's summary, as `tally_poll` returns them."""
    found = {}
    for question_id, kept in summary["questions"].items():
        ranks: defaultdict[int, dict[int, int]] = defaultdict(dict)
        for option_id, by_rank in kept["ranks"].items():
            ranks[int(option_id)] = {int(rank): n for rank, n in by_rank.items()}
        found[int(question_id)] = QuestionTally(
            answered=kept["answered"],
            counts={int(key): n for key, n in kept["counts"].items()},
            ranks=ranks,
        )
    return found


def _plain(tally: QuestionTally) -> dict[str, Any]:
    return {
        "answered": tally.answered,
        "counts": {str(key): n for key, n in tally.counts.items()},
        "ranks": {
            str(option_id): {str(rank): n for rank, n in by_rank.items()}
            for option_id, by_rank in tally.ranks.items()
        },
    }
