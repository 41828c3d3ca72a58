"""Whom a council hears: per segment of each tag kind, how many families were asked (the
distinct recipients of the poll's questions rounds) and how many answered (its respondents).

Counts are unique families per poll, never sends or taps. A respondent's segment comes from
the tags kept with them when they answered (`RespondentTag`); a recipient's from the tags of
their membership in the poll's council (the outbox row keeps none). As in `storage.segments`,
everyone lands in one segment per kind: its value, `NO_VALUE` or `SEVERAL`. After the
retention period the outbox rows and respondents are gone, and so are these counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, distinct, func, literal, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Delivery,
    DeliveryStatus,
    Membership,
    MembershipTag,
    Poll,
    PollStatus,
    Respondent,
    RespondentTag,
    Round,
    RoundKind,
)
from storage.segments import NO_VALUE, SEVERAL


@dataclass
class Groups:
    """One tag kind of one poll: `asked[segment]` and `answered[segment]`."""

    asked: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)


async def groups_of(session: AsyncSession, *, poll_id: int) -> dict[str, Groups]:
    """Per tag kind (sorted): who was asked and who answered, per segment."""
    poll = await session.get(Poll, poll_id)
    if poll is None:
        return {}
    asked = _asked_members(poll)
    tags = set(
        await session.scalars(
            select(distinct(MembershipTag.tag)).where(
                MembershipTag.membership_id.in_(select(asked.c.membership_id))
            )
        )
    )
    tags |= set(
        await session.scalars(
            select(distinct(RespondentTag.tag))
            .join(Respondent, Respondent.id == RespondentTag.respondent_id)
            .where(Respondent.poll_id == poll_id)
        )
    )
    found = {}
    for kind in sorted({tag.split(":", 1)[0] for tag in tags}):
        found[kind] = Groups(
            asked=await _asked(session, asked, kind), answered=await _answered(session, poll, kind)
        )
    return found


async def last_closed_polls(
    session: AsyncSession, *, council_id: int, limit: int = 6
) -> list[Poll]:
    """The council's newest closed polls whose answers are still kept, oldest first."""
    newest = await session.scalars(
        select(Poll)
        .where(
            Poll.council_id == council_id,
            Poll.status == PollStatus.closed,
            Poll.purged_at.is_(None),
        )
        .order_by(Poll.closed_at.desc(), Poll.id.desc())
        .limit(limit)
    )
    return list(reversed(list(newest)))


def _asked_members(poll: Poll) -> Any:
    """The memberships (in the poll's council) of everyone its questions reached, once each."""
    rounds = select(Round.id).where(Round.poll_id == poll.id, Round.kind == RoundKind.questions)
    return (
        select(distinct(Membership.id).label("membership_id"))
        .join(Delivery, Delivery.person_id == Membership.person_id)
        .where(
            Delivery.round_id.in_(rounds),
            Delivery.status == DeliveryStatus.sent,
            Membership.council_id == poll.council_id,
        )
        .subquery()
    )


def _segment_of(owner: Any, tag: Any, kind: str) -> Any:
    """Per owner (a membership or respondent id) the segment of `kind`, for those tagged."""
    prefix = f"{kind}:"
    return (
        select(
            owner.label("owner"),
            case(
                (func.count() > 1, literal(SEVERAL)),
                else_=func.substr(func.min(tag), len(prefix) + 1),
            ).label("segment"),
        )
        .where(func.substr(tag, 1, len(prefix)) == prefix)
        .group_by(owner)
    )


async def _asked(session: AsyncSession, asked: Any, kind: str) -> dict[str, int]:
    tagged = _segment_of(MembershipTag.membership_id, MembershipTag.tag, kind).subquery()
    segment = func.coalesce(tagged.c.segment, literal(NO_VALUE))
    rows = await session.execute(
        select(segment, func.count())
        .select_from(asked)
        .outerjoin(tagged, tagged.c.owner == asked.c.membership_id)
        .group_by(segment)
    )
    return {value: count for value, count in rows}


async def _answered(session: AsyncSession, poll: Poll, kind: str) -> dict[str, int]:
    tagged = (
        _segment_of(RespondentTag.respondent_id, RespondentTag.tag, kind)
        .join(Respondent, Respondent.id == RespondentTag.respondent_id)
        .where(Respondent.poll_id == poll.id)
        .subquery()
    )
    segment = func.coalesce(tagged.c.segment, literal(NO_VALUE))
    rows = await session.execute(
        select(segment, func.count())
        .select_from(Respondent)
        .outerjoin(tagged, tagged.c.owner == Respondent.id)
        .where(Respondent.poll_id == poll.id)
        .group_by(segment)
    )
    return {value: count for value, count in rows}
