"""Scheduled clean-up, run with a fixed clock."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.scheduling.jobs import clean_up
from storage import drafts
from storage.db import Database
from storage.models import Address, Draft, utcnow


async def test_clean_up_removes_only_expired_drafts(db: Database) -> None:
    async with db.begin() as session:
        one, two = Address.telegram(1), Address.telegram(2)
        await drafts.save_draft(session, address=one, kind="invite", step="role", data={})
        await drafts.save_draft(session, address=two, kind="invite", step="tags", data={"x": 1})

    assert await clean_up(db, now=utcnow()) == 0
    assert await clean_up(db, now=utcnow() + drafts.LIFETIME + timedelta(seconds=1)) == 2
    async with db.begin() as session:
        assert list(await session.scalars(select(Draft))) == []
