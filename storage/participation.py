"""How many families take part, by status, overall and per segment of each tag kind (counted
in the database). As with answers, every family lands in one segment per kind: its value,
none, or several. And over the last closed polls, whom the council heard (`past_rounds`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, distinct, func, literal, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hearing, tallies
from storage.models import Council, Membership, MembershipStatus, MembershipTag, Role
from storage.segments import NO_VALUE, SEVERAL


@dataclass
class Participation:
    statuses: dict[MembershipStatus, int] = field(default_factory=dict)
    by_kind: dict[str, dict[tuple[str, MembershipStatus], int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


async def participation(session: AsyncSession, *, council_id: int) -> Participation:
    families = (Membership.council_id == council_id, Membership.role == Role.family)
    result = Participation()
    rows = await session.execute(
        select(Membership.status, func.count()).where(*families).group_by(Membership.status)
    )
    result.statuses = {MembershipStatus(status): count for status, count in rows}
    tags = await session.scalars(
        select(distinct(MembershipTag.tag))
        .join(Membership, Membership.id == MembershipTag.membership_id)
        .where(*families)
    )
    for kind in sorted({tag.split(":", 1)[0] for tag in tags}):
        result.by_kind[kind] = await _by_segment(session, families, kind)
    return result


async def _by_segment(
    session: AsyncSession, families: tuple[object, ...], kind: str
) -> dict[tuple[str, MembershipStatus], int]:
    prefix = f"{kind}:"
    tagged = (
        select(
            MembershipTag.membership_id.label("membership_id"),
            case(
                (func.count() > 1, literal(SEVERAL)),
                else_=func.substr(func.min(MembershipTag.tag), len(prefix) + 1),
            ).label("segment"),
        )
        .where(func.substr(MembershipTag.tag, 1, len(prefix)) == prefix)
        .group_by(MembershipTag.membership_id)
        .subquery()
    )
    segment = func.coalesce(tagged.c.segment, literal(NO_VALUE))
    rows = await session.execute(
        select(segment, Membership.status, func.count())
        .select_from(Membership)
        .outerjoin(tagged, tagged.c.membership_id == Membership.id)
        .where(*families)
        .group_by(segment, Membership.status)
    )
    return {(value, MembershipStatus(status)): count for value, status, count in rows}


@dataclass(frozen=True)
class PastRound:
    """One closed poll: its number, title, when it closed, how many answered, and who was
    asked and who answered per group of each tag kind."""

    number: int
    title: str
    closed_at: datetime
    respondents: int
    by_kind: dict[str, hearing.Groups]


async def past_rounds(
    session: AsyncSession, *, council: Council, limit: int = 6
) -> list[PastRound]:
    """The council's last closed polls (oldest first) with their groups."""
    found = []
    for poll in await hearing.last_closed_polls(session, council_id=council.id, limit=limit):
        found.append(
            PastRound(
                number=poll.id,
                title=poll.title,
                closed_at=poll.closed_at or poll.created_at,
                respondents=await tallies.respondents(session, poll_id=poll.id),
                by_kind=await hearing.groups_of(session, poll_id=poll.id),
            )
        )
    return found
