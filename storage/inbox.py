"""The inbox: every update stored as it comes in, taken by any process, one person at a time.

An update is written here before it is confirmed to the platform (the getUpdates offset, the
webhook's 200), so a process that dies loses nothing. A process takes only the oldest pending
row of each person, and only while none of that person's rows is taken by another: one
person's updates go in order and never two at once, people side by side and over any number
of processes (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one process). A row's body,
which holds what the person typed, is cleared when it is done; the row, which then says only
that someone sent something at a time, goes after a day (`forget_old`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Inbox, utcnow

KEEP = timedelta(days=1)
WINDOW = timedelta(seconds=60)
"""How far back `Taken.before` counts a person's updates (the flood limit's window)."""


@dataclass(frozen=True)
class Arrival:
    """An update to store: the platform's id for it, whose it is, and its body (JSON)."""

    key: str
    person: str
    body: str


@dataclass(frozen=True)
class Taken:
    """A row this process now handles."""

    id: int
    channel: str
    key: str
    person: str
    body: str | None
    received_at: datetime
    before: int
    """How many updates the same person sent in the minute before this one."""


async def put(
    session: AsyncSession, *, channel: str, arrivals: Sequence[Arrival], now: datetime
) -> set[str]:
    """Store these updates; the keys that were new (one that came before is not stored
    again: a webhook retried, a getUpdates batch fetched twice, a POST to two processes)."""
    if not arrivals:
        return set()
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    rows = [
        {
            "channel": channel,
            "key": arrival.key,
            "person": arrival.person,
            "body": arrival.body,
            "received_at": now,
        }
        for arrival in {arrival.key: arrival for arrival in arrivals}.values()
    ]
    statement = (
        dialect.insert(Inbox)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "key"])
        .returning(Inbox.key)
    )
    return set((await session.execute(statement)).scalars())


def _heads(limit: int) -> Select[tuple[int]]:
    """The oldest pending row of each person none of whose earlier rows is pending or still
    held by a process (one marked done by its answer's unit of work is held until the process
    sent its replies: `handled`)."""
    earlier = Inbox.__table__.alias("earlier")
    return (
        select(Inbox.id)
        .where(
            Inbox.done_at.is_(None),
            Inbox.taken_by.is_(None),
            ~select(earlier.c.id)
            .where(
                earlier.c.channel == Inbox.channel,
                earlier.c.person == Inbox.person,
                earlier.c.id < Inbox.id,
                or_(earlier.c.done_at.is_(None), earlier.c.taken_by.is_not(None)),
            )
            .exists(),
        )
        .order_by(Inbox.id)
        .limit(limit)
    )


async def take(
    session: AsyncSession, *, taker: str, limit: int, done: Sequence[int] = (), now: datetime
) -> list[Taken]:
    """Mark `done` rows done, then take up to `limit` rows for `taker` (in one unit of work,
    so a person's next row is free to take the moment the last one is done): one statement
    each."""
    if done:
        await finish(session, ids=done, now=now)
    if limit <= 0:
        return []
    heads = _heads(limit)
    if session.bind.dialect.name == "postgresql":
        heads = heads.with_for_update(skip_locked=True)
    before = literal_column(_before(session.bind.dialect.name))
    rows = await session.execute(
        update(Inbox)
        .where(Inbox.id.in_(heads.scalar_subquery()))
        .values(taken_by=taker)
        .returning(
            Inbox.id,
            Inbox.channel,
            Inbox.key,
            Inbox.person,
            Inbox.body,
            Inbox.received_at,
            before,
        )
    )
    return sorted((Taken(*row) for row in rows), key=lambda taken: taken.id)


def _before(dialect: str) -> str:
    """How many rows the same person sent in the minute before a row (RETURNING names the
    updated row `inbox`; SQLAlchemy would not qualify the columns there)."""
    seconds = int(WINDOW.total_seconds())
    if dialect == "postgresql":
        since = f"inbox.received_at - interval '{seconds} seconds'"
    else:  # SQLite keeps datetimes as ISO text: the same text, a minute earlier
        since = f"strftime('%Y-%m-%d %H:%M:%f', inbox.received_at, '-{seconds} seconds')"
    return (
        "(SELECT count(*) FROM inbox AS earlier WHERE earlier.channel = inbox.channel"
        " AND earlier.person = inbox.person AND earlier.id < inbox.id"
        f" AND earlier.received_at > {since})"
    )


async def waiting(session: AsyncSession) -> bool:
    """Whether a row waits to be taken (one indexed read)."""
    found = await session.scalar(
        select(Inbox.id).where(Inbox.done_at.is_(None), Inbox.taken_by.is_(None)).limit(1)
    )
    return found is not None


async def finish(session: AsyncSession, *, ids: Sequence[int], now: datetime) -> None:
    """These rows are handled: done, their bodies gone, the person free for the next."""
    await session.execute(
        update(Inbox)
        .where(Inbox.id.in_(list(ids)))
        .values(done_at=func.coalesce(Inbox.done_at, now), body=None, taken_by=None)
    )


CURRENT: ContextVar[int | None] = ContextVar("inbox_row", default=None)
"""The inbox row the running task handles (set by the taker, `bot.run.inbox`)."""


async def handled(session: AsyncSession) -> None:
    """Mark the row being handled done in this unit of work, the one that stores what it
    brought (an answer): a process that dies after the commit, before its replies went, does
    not leave the row to be handled again, so a typed answer never lands on the next question.
    The row stays held by its process until it finishes, so the person's next row waits."""
    row = CURRENT.get()
    if row is not None:
        await session.execute(
            update(Inbox).where(Inbox.id == row).values(done_at=utcnow(), body=None)
        )


async def give_back(session: AsyncSession, *, taker: str, ids: Sequence[int] | None = None) -> int:
    """Rows `taker` holds go back (all of them, or `ids`): pending ones to be taken again,
    done ones (their answer stored) to free the person."""
    query = update(Inbox).where(Inbox.taken_by == taker)
    if ids is not None:
        query = query.where(Inbox.id.in_(list(ids)))
    result = await session.execute(query.values(taken_by=None))
    return result.rowcount or 0


async def takers(session: AsyncSession, *, besides: str) -> list[str]:
    """The processes that hold unfinished rows, other than `besides`."""
    rows = await session.scalars(
        select(Inbox.taken_by)
        .where(Inbox.taken_by.is_not(None), Inbox.taken_by != besides)
        .distinct()
    )
    return [row for row in rows if row]


async def forget_old(session: AsyncSession, *, now: datetime) -> int:
    """Handled rows go after a day (pending ones stay until they are handled)."""
    result = await session.execute(
        delete(Inbox).where(Inbox.done_at.is_not(None), Inbox.received_at < now - KEEP)
    )
    return result.rowcount or 0


async def forget_person(session: AsyncSession, *, channel: str, person: str) -> None:
    """A person who asked to be forgotten: their handled rows go at once (those still to
    be handled, sent after the request, are new and stay)."""
    await session.execute(
        delete(Inbox).where(
            Inbox.channel == channel, Inbox.person == person, Inbox.done_at.is_not(None)
        )
    )
