"""The inbox's rules: one person's rows one at a time and in order, people side by side, a
row stored once, and handled rows gone after a day (pending ones kept)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage import inbox
from storage.db import Database
from storage.inbox import Arrival
from storage.models import Inbox, utcnow

A, B = "a" * 16, "b" * 16


async def test_rows_go_one_per_person_in_order_and_old_handled_ones_go(db: Database) -> None:
    now = utcnow()
    arrivals = [Arrival(key=str(n), person=who, body="{}") for n, who in enumerate("xxyx")]
    async with db.begin() as session:
        assert await inbox.put(session, channel="telegram", arrivals=arrivals, now=now) == {
            "0",
            "1",
            "2",
            "3",
        }
        again = await inbox.put(session, channel="telegram", arrivals=arrivals[:1], now=now)
        assert again == set(), "a webhook retry is not stored twice"
    async with db.begin() as session:
        first = await inbox.take(session, taker=A, limit=10, now=now)
    assert [(row.key, row.person, row.before) for row in first] == [("0", "x", 0), ("2", "y", 0)]
    async with db.begin() as session:
        assert await inbox.take(session, taker=B, limit=10, now=now) == [], "x and y are busy"
        inbox.CURRENT.set(first[0].id)
        await inbox.handled(session)  # x's answer stored: done, but x is still A's
        inbox.CURRENT.set(None)
    async with db.begin() as session:
        assert await inbox.take(session, taker=B, limit=10, now=now) == [], "x waits for A"
        after = await inbox.take(session, taker=A, limit=10, done=[first[0].id], now=now)
    assert [(row.key, row.before) for row in after] == [("1", 1)], "x's next, after one"
    async with db.begin() as session:  # A died: its rows go back (claims decides when)
        assert await inbox.takers(session, besides=B) == [A]
        assert await inbox.give_back(session, taker=A) == 2
        taken = await inbox.take(session, taker=B, limit=10, now=now)
    assert [row.key for row in taken] == ["1", "2"]

    async with db.begin() as session:
        await inbox.finish(session, ids=[row.id for row in taken], now=now)
        assert await inbox.forget_old(session, now=now + timedelta(hours=23)) == 0
        assert await inbox.forget_old(session, now=now + timedelta(days=1, seconds=1)) == 3
        left = (await session.execute(select(Inbox.key, Inbox.body))).all()
        assert left == [("3", "{}")], "a row not handled yet stays, with its body"
        bodies = await session.scalar(select(func.count()).where(Inbox.body.is_not(None)))
        assert bodies == 1
