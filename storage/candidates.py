"""Families who said yes to hearing about joining the council, and how to reach them.

A candidate row is linked to the person (so /forget removes it, by the foreign key's cascade)
and to the council, never to a poll, an answer or a respondent. It goes after 90 days, or at
the next hourly clean-up once staff marked it handled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Address,
    Candidate,
    Council,
    Delivery,
    DeliveryStatus,
    Person,
    Poll,
    Round,
    RoundKind,
)
from storage.polls import audience, fill_round

KEPT = timedelta(days=90)


async def add_candidate(
    session: AsyncSession, *, council_id: int, person_id: int, contact: str, now: datetime
) -> Candidate:
    candidate = Candidate(
        council_id=council_id, person_id=person_id, contact=contact, created_at=now
    )
    session.add(candidate)
    await session.flush()
    return candidate


async def open_candidates(
    session: AsyncSession, *, council_ids: list[int]
) -> list[tuple[Candidate, Council]]:
    """Requests of these councils that staff did not mark handled yet, oldest first."""
    rows = await session.execute(
        select(Candidate, Council)
        .join(Council, Council.id == Candidate.council_id)
        .where(Candidate.council_id.in_(council_ids), Candidate.handled_at.is_(None))
        .order_by(Council.name, Candidate.created_at, Candidate.id)
    )
    return [(candidate, council) for candidate, council in rows]


async def candidate_of(
    session: AsyncSession, *, candidate_id: int, council_ids: list[int]
) -> tuple[Candidate, Council, Address | None] | None:
    """An open request of one of these councils, its council and the family's address
    (None if the person is gone); a forged or handled id finds nothing."""
    row = (
        await session.execute(
            select(Candidate, Council, Person)
            .join(Council, Council.id == Candidate.council_id)
            .outerjoin(Person, Person.id == Candidate.person_id)
            .where(
                Candidate.id == candidate_id,
                Candidate.council_id.in_(council_ids),
                Candidate.handled_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    candidate, council, person = row
    return candidate, council, person.contact if person is not None else None


async def forget_old_candidates(session: AsyncSession, *, now: datetime) -> int:
    """Requests older than 90 days, and those staff handled, are deleted."""
    result = await session.execute(
        delete(Candidate).where(
            or_(Candidate.created_at < now - KEPT, Candidate.handled_at.is_not(None))
        )
    )
    return result.rowcount or 0


async def start_invitation(session: AsyncSession, *, council_id: int, tags: list[str]) -> Round:
    """The invitation on its own: a round without a poll, one outbox row per active family of
    the council (with tags: of those groups, as /newpoll picks them)."""
    sending = Round(poll_id=None, council_id=council_id, kind=RoundKind.invitation)
    return await fill_round(session, sending, audience(council_id, tags))


async def was_invited(session: AsyncSession, *, person_id: int, council_id: int) -> bool:
    """Whether this person was sent the council's invitation: on its own, or a poll that ends
    with it (a tap forged by someone who never got one finds nothing)."""
    sent = (
        select(Delivery.id)
        .join(Round, Round.id == Delivery.round_id)
        .outerjoin(Poll, Poll.id == Round.poll_id)
        .where(
            Delivery.person_id == person_id,
            Delivery.status == DeliveryStatus.sent,
            or_(
                (Round.kind == RoundKind.invitation) & (Round.council_id == council_id),
                (Round.kind == RoundKind.questions)
                & (Poll.council_id == council_id)
                & Poll.recruit.is_(True),
            ),
        )
        .limit(1)
    )
    return await session.scalar(sent) is not None
