"""The help lines' data: how many open answers got them (a count per poll, linked to nobody),
the staff a family's own request to be contacted goes to, and the open-answer draft held back
while the family types how to reach them. Nothing here stores what the family typed."""

from __future__ import annotations

from sqlalchemy import and_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    TELEGRAM,
    Address,
    Council,
    Draft,
    Membership,
    MembershipStatus,
    Person,
    Poll,
    Role,
)


async def count_help_reply(session: AsyncSession, *, poll_id: int) -> None:
    """One more open answer of this poll got the help lines (one UPDATE, no row of its own)."""
    await session.execute(
        update(Poll).where(Poll.id == poll_id).values(help_replies=Poll.help_replies + 1)
    )


async def council_of_member(
    session: AsyncSession, *, person_id: int, council_id: int
) -> Council | None:
    """The council, when this person is a member of it (a forged council id finds nothing)."""
    return await session.scalar(
        select(Council)
        .join(Membership, Membership.council_id == Council.id)
        .where(Council.id == council_id, Membership.person_id == person_id)
    )


async def council_staff(session: AsyncSession, *, council_id: int) -> list[tuple[Address, str]]:
    """(address, language) of the council's active staff on Telegram."""
    rows = await session.execute(
        select(Person.address, Person.language)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.council_id == council_id,
            Membership.role == Role.staff,
            Membership.status == MembershipStatus.active,
            Person.channel == TELEGRAM,
        )
        .order_by(Person.id)
    )
    return [(Address(TELEGRAM, address), language) for address, language in rows]


async def move_draft_step(
    session: AsyncSession, *, address: Address, kind: str, step: str, to: str
) -> None:
    """A draft of `kind` at `step` moves to step `to` (nothing else of it changes)."""
    await session.execute(
        update(Draft)
        .where(
            and_(
                Draft.channel == address.channel,
                Draft.address == address.id,
                Draft.kind == kind,
                Draft.step == step,
            )
        )
        .values(step=to)
    )
