"""People, their memberships and their choices. Functions take the session and never commit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Address,
    AgeBand,
    Council,
    Membership,
    MembershipStatus,
    MembershipTag,
    Person,
    Role,
)

RANK = {Role.family: 0, Role.council: 1, Role.staff: 2}


@dataclass
class Profile:
    """What handlers know about the user of an update: person (after consent) and councils."""

    address: Address
    person: Person | None = None
    memberships: list[tuple[Membership, Council]] = field(default_factory=list)
    is_admin: bool = False

    @property
    def role(self) -> Role | None:
        """The highest role anywhere; admins from the config are staff everywhere."""
        if self.is_admin:
            return Role.staff
        roles = [membership.role for membership, _ in self.memberships]
        return max(roles, key=RANK.__getitem__, default=None)

    def councils_with(self, role: Role, everything: Iterable[Council] = ()) -> list[Council]:
        """Councils where this user has at least `role` (admins: `everything`)."""
        if self.is_admin:
            return list(everything)
        return [
            council
            for membership, council in self.memberships
            if RANK[membership.role] >= RANK[role]
        ]


async def load_profile(session: AsyncSession, *, address: Address, is_admin: bool) -> Profile:
    """The profile of whoever is at `address`, with memberships and councils in one query."""
    rows = await session.execute(
        select(Person, Membership, Council)
        .outerjoin(Membership, Membership.person_id == Person.id)
        .outerjoin(Council, Council.id == Membership.council_id)
        .where(_at(address))
        .order_by(Council.name)
    )
    profile = Profile(address=address, is_admin=is_admin)
    for person, membership, council in rows:
        profile.person = person
        if membership is not None:
            profile.memberships.append((membership, council))
    return profile


async def create_person(
    session: AsyncSession,
    *,
    address: Address,
    language: str,
    age_band: AgeBand,
) -> Person:
    """A person who just agreed (with a guardian's consent when under 16)."""
    person = Person(
        channel=address.channel,
        address=address.id,
        language=language,
        age_band=age_band,
        guardian_consent=age_band is AgeBand.under16,
    )
    session.add(person)
    await session.flush()
    return person


async def join_council(
    session: AsyncSession,
    *,
    person: Person,
    council_id: int,
    role: Role,
    tags: list[str],
) -> tuple[Membership, Role | None]:
    """Add or update the person's membership; returns it and the role it had before (if any)."""
    membership = await session.scalar(
        select(Membership).where(
            Membership.person_id == person.id, Membership.council_id == council_id
        )
    )
    before = membership.role if membership is not None else None
    if membership is None:
        membership = Membership(person_id=person.id, council_id=council_id, role=role)
        session.add(membership)
    else:
        membership.role = max(membership.role, role, key=RANK.__getitem__)
        membership.status = MembershipStatus.active
    await session.flush()
    await session.execute(delete(MembershipTag).where(MembershipTag.membership_id == membership.id))
    session.add_all(MembershipTag(membership_id=membership.id, tag=tag) for tag in set(tags))
    return membership, before


async def membership_tags(session: AsyncSession, *, membership_id: int) -> list[str]:
    rows = await session.scalars(
        select(MembershipTag.tag)
        .where(MembershipTag.membership_id == membership_id)
        .order_by(MembershipTag.tag)
    )
    return list(rows)


async def set_status(
    session: AsyncSession,
    *,
    person_id: int,
    new: MembershipStatus,
    only_from: Iterable[MembershipStatus],
) -> int:
    """Move the person's memberships in one of `only_from` to `new`; returns how many moved."""
    result = await session.execute(
        update(Membership)
        .where(Membership.person_id == person_id, Membership.status.in_(list(only_from)))
        .values(status=new)
    )
    return result.rowcount or 0


async def mark_blocked(session: AsyncSession, *, address: Address, blocked: bool) -> int:
    """The user blocked (or unblocked) the bot: no sending to them until they come back."""
    person_id = select(Person.id).where(_at(address)).scalar_subquery()
    if blocked:  # only active subscriptions: a paused or stopped one keeps its choice
        before, after = [MembershipStatus.active], MembershipStatus.blocked
    else:
        before, after = [MembershipStatus.blocked], MembershipStatus.active
    result = await session.execute(
        update(Membership)
        .where(Membership.person_id == person_id, Membership.status.in_(before))
        .values(status=after)
    )
    return result.rowcount or 0


async def set_language(session: AsyncSession, *, person: Person, language: str) -> None:
    person.language = language
    session.add(person)


async def menu_holders(
    session: AsyncSession, *, admins: Iterable[Address]
) -> list[tuple[Address, Role, str]]:
    """(address, highest role, language) of everyone whose menu is more than a family's."""
    rows = await session.execute(
        select(Person.channel, Person.address, Membership.role, Person.language)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.role != Role.family)
    )
    best: dict[Address, tuple[Role, str]] = {}
    for channel, address, role, language in rows:
        known = best.get(Address(channel, address))
        if known is None or RANK[role] > RANK[known[0]]:
            best[Address(channel, address)] = (role, language)
    for admin in admins:
        best[admin] = (Role.staff, best.get(admin, (Role.staff, "nl"))[1])
    return [(address, role, language) for address, (role, language) in best.items()]


async def council_tags(session: AsyncSession, *, council_id: int) -> set[str]:
    """Every segment tag in use among the council's members."""
    rows = await session.scalars(
        select(MembershipTag.tag)
        .join(Membership, Membership.id == MembershipTag.membership_id)
        .where(Membership.council_id == council_id)
        .distinct()
    )
    return set(rows)


async def council_team(session: AsyncSession, *, council_id: int) -> list[tuple[Address, str]]:
    """(address, language) of the council members and staff of a council, still active."""
    rows = await session.execute(
        select(Person.channel, Person.address, Person.language)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.council_id == council_id,
            Membership.role != Role.family,
            Membership.status == MembershipStatus.active,
        )
    )
    return [(Address(channel, address), language) for channel, address, language in rows]


def _at(address: Address) -> ColumnElement[bool]:
    return and_(Person.channel == address.channel, Person.address == address.id)
