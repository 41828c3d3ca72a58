"""What the metrics and the health check read: the inbox's and the outbox's backlog, as counts
and ages only (nothing about anyone). Each is one query on an index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery, Inbox, Round
from storage.outbox import OPEN


@dataclass(frozen=True)
class Backlog:
    """How many rows wait, and how old the oldest is (seconds; 0 when none wait)."""

    pending: int = 0
    oldest_seconds: float = 0.0


async def inbox_backlog(session: AsyncSession, *, now: datetime) -> Backlog:
    """Updates not handled yet (`done_at` empty), and the age of the first that came in: the
    count and the oldest row both come from the partial index on pending rows."""
    first = (
        select(Inbox.received_at)
        .where(Inbox.done_at.is_(None))
        .order_by(Inbox.id)
        .limit(1)
        .scalar_subquery()
    )
    count, oldest = (
        await session.execute(select(func.count(Inbox.id), first).where(Inbox.done_at.is_(None)))
    ).one()
    return Backlog(int(count or 0), _age(now, oldest))


async def outbox_backlog(session: AsyncSession, *, now: datetime) -> dict[str, Backlog]:
    """Per channel: rows still to send (pending or claimed), and how old the round of the
    first of them is. The counts come from the (status, channel, id) index; only the first
    row of each channel is joined to its round."""
    waiting = (
        select(
            Delivery.channel,
            func.count(Delivery.id).label("pending"),
            func.min(Delivery.id).label("first"),
        )
        .where(Delivery.status.in_(OPEN))
        .group_by(Delivery.channel)
        .subquery()
    )
    rows = await session.execute(
        select(waiting.c.channel, waiting.c.pending, Round.created_at)
        .join(Delivery, Delivery.id == waiting.c.first)
        .join(Round, Round.id == Delivery.round_id)
    )
    return {channel: Backlog(int(count), _age(now, made)) for channel, count, made in rows}


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=now.tzinfo)
    return max((now - then).total_seconds(), 0.0)
