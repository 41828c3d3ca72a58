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
from storage.segments import NO_VALUE, SEVERAL, kept_groups


@dataclass
class Groups:
    """One tag kind of one poll: `asked[segment]` and `answered[segment]`."""

    asked: dict[str, int] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)


async def groups_of(session: AsyncSession, *, poll_id: int) -> dict[str, Groups]:
    """Per tag kind (sorted): who was asked and who answered, per segment (kept at closing,
    else counted now)."""
    kept = await kept_groups(session, poll_id=poll_id)
    if kept is not None:
        return {
            kind: Groups(asked=dict(counts["asked"]), answered=dict(counts["answered"]))
            for kind, counts in sorted(kept.items())
        }
    return await live_groups_of(session, poll_id=poll_id)


async def live_groups_of(session: AsyncSession, *, poll_id: int) -> dict[str, Groups]:
    """`groups_of` counted from the outbox rows and the respondents: per side one pass over
    the tags of those asked (or who answered), every kind at once."""
    poll = await session.get(Poll, poll_id)
    if poll is None:
        return {}
    asked = _asked_members(poll)
    respondents = select(Respondent.id).where(Respondent.poll_id == poll_id)
    sides = (
        (
            await session.scalar(select(func.count()).select_from(asked)) or 0,
            MembershipTag.membership_id,
            MembershipTag.tag,
            select(asked.c.membership_id),
        ),
        (
            await session.scalar(select(func.count()).select_from(respondents.subquery())) or 0,
            RespondentTag.respondent_id,
            RespondentTag.tag,
            respondents,
        ),
    )
    counted: list[dict[str, dict[str, int]]] = []
    kinds: set[str] = set()
    for total, owner, tag, owners in sides:
        by_kind = await _by_kind(session, owner, tag, owners)
        plain = await session.scalars(  # a tag without a colon: a kind without values
            select(distinct(tag)).where(owner.in_(owners), _colon(session, tag) == 0)
        )
        by_kind.update({name: {} for name in plain if name not in by_kind})
        for counts in by_kind.values():
            untagged = total - sum(counts.values())
            if untagged > 0:
                counts[NO_VALUE] = counts.get(NO_VALUE, 0) + untagged
        counted.append(by_kind)
        kinds |= set(by_kind)
    total_asked = sides[0][0]
    total_answered = sides[1][0]
    return {
        kind: Groups(
            asked=counted[0].get(kind, {NO_VALUE: total_asked} if total_asked else {}),
            answered=counted[1].get(kind, {NO_VALUE: total_answered} if total_answered else {}),
        )
        for kind in sorted(kinds)
    }


def _colon(session: AsyncSession, tag: Any) -> Any:
    """Where the first colon of a tag is (0: none)."""
    return (func.instr if session.bind.dialect.name == "sqlite" else func.strpos)(tag, ":")


async def _by_kind(
    session: AsyncSession, owner: Any, tag: Any, owners: Any
) -> dict[str, dict[str, int]]:
    """Per kind and segment how many of `owners` (memberships or respondents) have it, for
    those with a tag of that kind; one query for every kind."""
    colon = _colon(session, tag)
    kind = func.substr(tag, 1, colon - 1)
    tagged = (
        select(
            kind.label("kind"),
            case(
                (func.count() > 1, literal(SEVERAL)), else_=func.min(func.substr(tag, colon + 1))
            ).label("segment"),
        )
        .where(owner.in_(owners), colon > 0)
        .group_by(owner, kind)
        .subquery()
    )
    rows = await session.execute(
        select(tagged.c.kind, tagged.c.segment, func.count()).group_by(
            tagged.c.kind, tagged.c.segment
        )
    )
    found: dict[str, dict[str, int]] = {}
    for name, segment, count in rows:
        found.setdefault(name, {})[segment] = count
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
