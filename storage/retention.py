"""Retention: a set number of days after a poll closed, its answer-level data is deleted.

What goes: respondents with their pseudonyms and tags, every answer (open texts too), the
outbox rows that say who was sent the poll, and the poll's voice notes (a voice can tell who a
council member is; WhatsApp drops its copy within 30 days). What stays: the counts, as the
results showed them, in `Poll.summary` (kept since the poll closed), so results, charts and
the table export still work.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit, polls
from storage.models import Delivery, Poll, PollStatus, Respondent, Round, Voice


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
    if poll.summary is None:  # closed before summaries were kept
        await polls.summarize(session, poll=poll)
    poll.purged_at = now
    rounds = select(Round.id).where(Round.poll_id == poll.id)
    await session.execute(delete(Delivery).where(Delivery.round_id.in_(rounds)))
    await session.execute(delete(Respondent).where(Respondent.poll_id == poll.id))
    await session.execute(delete(Voice).where(Voice.poll_id == poll.id))
    audit.record(session, action="retention", council_id=poll.council_id, detail=f"poll {poll.id}")
