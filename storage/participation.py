"""How many families take part, by status, overall and per segment of each tag kind (counted
in the database). As with answers, every family lands in one segment per kind: its value,
none, or several. And over the last closed polls, whom the council heard (`past_rounds`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, select
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


SEPARATOR = "\x1f"
"""Between the tags of one family in one row (a tag never holds it: typed tags are words)."""


async def participation(session: AsyncSession, *, council_id: int) -> Participation:
    """The council's families by status, overall and per segment of every tag kind: one pass
    over its families (their tags looked up by the primary key) gives each combination of
    tags and status with how many families have it; the segments are worked out from those
    few rows."""
    joined = func.group_concat if session.bind.dialect.name == "sqlite" else func.string_agg
    tags = (  # per family, from the tags' primary key alone
        select(joined(MembershipTag.tag, literal(SEPARATOR)))
        .where(MembershipTag.membership_id == Membership.id)
        .scalar_subquery()
    )
    per_family = (  # SQLite would otherwise look the tags up twice per family
        select(Membership.status.label("status"), tags.label("tags"))
        .where(Membership.council_id == council_id, Membership.role == Role.family)
        .cte("per_family")
        .prefix_with("MATERIALIZED", dialect="sqlite")
    )
    rows = await session.execute(
        select(per_family.c.tags, per_family.c.status, func.count()).group_by(
            per_family.c.tags, per_family.c.status
        )
    )
    result = Participation()
    statuses: Counter[MembershipStatus] = Counter()
    combinations = []
    for tags, status, count in rows:
        statuses[MembershipStatus(status)] += count
        combinations.append(
            (tags.split(SEPARATOR) if tags else [], MembershipStatus(status), count)
        )
    result.statuses = dict(statuses)
    kinds = {tag.split(":", 1)[0] for tags, _, _ in combinations for tag in tags}
    for kind in sorted(kinds):
        prefix = f"{kind}:"
        counts: dict[tuple[str, MembershipStatus], int] = {}
        for tags, status, count in combinations:
            values = [tag[len(prefix) :] for tag in tags if tag.startswith(prefix)]
            segment = SEVERAL if len(values) > 1 else values[0] if values else NO_VALUE
            counts[(segment, status)] = counts.get((segment, status), 0) + count
        result.by_kind[kind] = counts
    return result


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
