"""A big round is written in chunks: the first with the caller's transaction, the rest each in
its own, and a restart in the middle goes on without writing anyone twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select

from storage import polls
from storage.db import Database
from storage.models import (
    AgeBand,
    Council,
    Delivery,
    Membership,
    MembershipStatus,
    Person,
    Role,
    Round,
    RoundFill,
    RoundKind,
    RoundRecipient,
    utcnow,
)

FAMILIES = 12


async def _families(db: Database) -> int:
    now = utcnow()
    async with db.begin() as session:
        council = Council(slug="groot", name="Grote raad")
        session.add(council)
        await session.flush()
        people = [
            {"id": n, "address": str(900 + n), "age_band": AgeBand.adult, "consented_at": now}
            for n in range(1, FAMILIES + 1)
        ]
        await session.execute(insert(Person), people)
        members = [
            {
                "person_id": n,
                "council_id": council.id,
                "role": Role.family,
                "status": MembershipStatus.active,
                "joined_at": now,
            }
            for n in range(1, FAMILIES + 1)
        ]
        await session.execute(insert(Membership), members)
        return council.id


async def _rows(db: Database) -> tuple[int, int, int]:
    async with db.read() as session:
        rows = await session.scalar(select(func.count()).select_from(Delivery))
        people = await session.scalar(select(func.count(func.distinct(Delivery.person_id))))
        left = await session.scalar(select(func.count()).select_from(RoundFill))
    return rows or 0, people or 0, left or 0


async def test_a_round_is_written_in_chunks_and_a_restart_goes_on(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db.upgrade()
    council_id = await _families(db)
    monkeypatch.setattr(polls, "CHUNK", 5)
    monkeypatch.setattr(polls, "_go_on_after_commit", lambda *_: None)  # as if it stopped here
    async with db.begin() as session:
        sending = await polls.fill_round(
            session,
            Round(council_id=council_id, kind=RoundKind.invitation),
            polls.audience(council_id, []),
        )
    assert sending.total == FAMILIES
    assert await _rows(db) == (5, 5, 1)  # the first chunk came with the round

    async with db.begin() as session:  # the chunk after it was written, its progress lost
        fill = await session.get(RoundFill, sending.id)
        await polls._fill_chunk(session, fill)
        fill.after = 0
    await asyncio.gather(  # after the restart: the scheduler's tick, twice at once
        polls.finish_rounds(db.engine), polls.fill_rest(db.engine, round_id=sending.id)
    )
    assert await _rows(db) == (FAMILIES, FAMILIES, 0)


async def test_a_round_to_worked_out_people_reads_them_from_a_table_not_an_in_list(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reminder's recipients (who has not answered: only the bot can tell) go into
    `round_recipient` and out again as their outbox rows are written."""
    await db.upgrade()
    council_id = await _families(db)
    monkeypatch.setattr(polls, "CHUNK", 5)
    monkeypatch.setattr(polls, "_go_on_after_commit", lambda *_: None)
    waiting = [n for n in range(1, FAMILIES + 1) if n not in (3, 7)]
    async with db.begin() as session:
        sending = await polls.fill_round_with(
            session, Round(council_id=council_id, kind=RoundKind.reminder), waiting
        )
        fill = await session.get(RoundFill, sending.id)
        assert "round_recipient" in fill.recipients and "IN (" not in fill.recipients.upper()
    assert sending.total == len(waiting)
    async with db.read() as session:
        left = list(await session.scalars(select(RoundRecipient.person_id)))
    assert left == waiting[5:], "those with an outbox row are gone from it"
    await polls.finish_rounds(db.engine)
    async with db.read() as session:
        sent_to = sorted(await session.scalars(select(Delivery.person_id)))
        gone = await session.scalar(select(func.count()).select_from(RoundRecipient))
    assert (sent_to, gone) == (waiting, 0)
