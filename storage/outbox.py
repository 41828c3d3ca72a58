"""The delivery outbox: claiming rows (SKIP LOCKED on PostgreSQL), recording results, backlog."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    TELEGRAM,
    Address,
    Council,
    Delivery,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Person,
    Poll,
    PollStatus,
    Respondent,
    Round,
    RoundFill,
    RoundKind,
)

OPEN = (DeliveryStatus.pending, DeliveryStatus.claimed)
AFTER_CLOSING = (RoundKind.followup, RoundKind.summary, RoundKind.invitation)
"""Rounds that still go once their poll closed (an invitation on its own has no poll)."""


@dataclass(frozen=True)
class Claimed:
    """One claimed outbox row with what sending it needs."""

    delivery_id: int
    round_id: int
    kind: RoundKind
    poll_id: int | None
    """None for an invitation to join the council sent on its own."""
    followup_id: int | None
    address: Address
    language: str
    attempts: int
    timezone: str
    quiet: tuple[str, str]
    reachable: bool
    """Still subscribed (active) and, for questions and reminders, the poll still open."""
    council_id: int = 0
    queued_at: datetime | None = None
    """When its round was made: a row that could not get through for too long is given up."""
    council: str = ""
    council_language: str = "nl"
    """The council's first language: a template missing in the person's goes in this one."""
    window_at: datetime | None = None
    """WhatsApp: when the person last wrote to us (a free-form message only within 24 h)."""
    template: bool = False
    """WhatsApp: this row already went as a template once (its Start tap was never made)."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row."""

    delivery_id: int
    status: DeliveryStatus
    attempts: int
    message_id: int | None = None
    error: str | None = None
    not_before: datetime | None = None
    sent_at: datetime | None = None
    external_id: str | None = None
    template: bool = False
    receipt: int = 0


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    claimer: str,
    channel: str = TELEGRAM,
) -> list[Claimed]:
    """Claim up to `limit` due rows of one channel for `claimer`; other processes skip rows
    this one holds."""
    rows = (
        await session.execute(
            select(Delivery, Round, Person, Council, Poll.status, Membership.status)
            .join(Round, Round.id == Delivery.round_id)
            .outerjoin(Poll, Poll.id == Round.poll_id)  # none for an invitation on its own
            .join(Council, Council.id == func.coalesce(Poll.council_id, Round.council_id))
            .join(Person, Person.id == Delivery.person_id)
            .outerjoin(
                Membership,
                (Membership.person_id == Person.id) & (Membership.council_id == Council.id),
            )
            .where(
                Delivery.status == DeliveryStatus.pending,
                (Delivery.not_before.is_(None)) | (Delivery.not_before <= now),
                Delivery.channel == channel,
            )
            .order_by(Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
        )
    ).all()
    ids = [row[0].id for row in rows]
    if ids:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(status=DeliveryStatus.claimed, claimed_at=now, claimed_by=claimer)
        )
    return [
        Claimed(
            delivery_id=delivery.id,
            round_id=sending.id,
            council_id=council.id,
            kind=sending.kind,
            poll_id=sending.poll_id,
            followup_id=sending.followup_id,
            address=person.contact,
            language=person.language,
            attempts=delivery.attempts,
            timezone=council.timezone,
            quiet=(council.quiet_start, council.quiet_end),
            reachable=membership is MembershipStatus.active
            and (sending.kind in AFTER_CLOSING or poll_status is PollStatus.open),
            queued_at=sending.created_at,
            council=council.name,
            council_language=council.languages.split(",")[0],
            window_at=person.window_at,
            template=delivery.template,
        )
        for delivery, sending, person, council, poll_status, membership in rows
    ]


async def record(session: AsyncSession, *, outcomes: list[Outcome], claimer: str) -> None:
    """Store outcomes in one statement (only of rows `claimer` still holds)."""
    if not outcomes:
        return
    table = Delivery.__table__
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            table.c.status == DeliveryStatus.claimed.value,  # not if released meanwhile
            table.c.claimed_by == claimer,
        )
        .values(
            status=bindparam("new_status"),
            attempts=bindparam("new_attempts"),
            message_id=bindparam("new_message_id"),
            error=bindparam("new_error"),
            not_before=bindparam("new_not_before"),
            sent_at=bindparam("new_sent_at"),
            external_id=bindparam("new_external_id"),
            template=bindparam("new_template"),
            receipt=bindparam("new_receipt"),
        )
    )
    connection = await session.connection()
    await connection.execute(
        statement,
        [
            {
                "row_id": outcome.delivery_id,
                "new_status": outcome.status.value,
                "new_attempts": outcome.attempts,
                "new_message_id": outcome.message_id,
                "new_error": outcome.error,
                "new_not_before": outcome.not_before,
                "new_sent_at": outcome.sent_at,
                "new_external_id": outcome.external_id,
                "new_template": outcome.template,
                "new_receipt": outcome.receipt,
            }
            for outcome in outcomes
        ],
    )


async def answered(session: AsyncSession, *, pseudonyms: dict[int, list[str]]) -> set[str]:
    """Which of these pseudonyms (per poll id) answered that poll: they have a respondent."""
    if not pseudonyms:
        return set()
    found = await session.scalars(
        select(Respondent.pseudonym).where(
            or_(
                *(
                    and_(Respondent.poll_id == poll_id, Respondent.pseudonym.in_(keys))
                    for poll_id, keys in pseudonyms.items()
                )
            )
        )
    )
    return set(found)


async def forget_finished_reminders(session: AsyncSession, *, round_ids: set[int]) -> None:
    """A finished reminder round's rows say who had not answered yet: keep only its total."""
    finished = (
        select(Round.id)
        .where(Round.id.in_(round_ids), Round.kind == RoundKind.reminder)
        .where(~Round.id.in_(select(Delivery.round_id).where(Delivery.status.in_(OPEN))))
        .where(~Round.id.in_(select(RoundFill.round_id)))  # still being written: not finished
    )
    await session.execute(delete(Delivery).where(Delivery.round_id.in_(finished)))


async def release_own(session: AsyncSession, *, claimer: str, keep: set[int]) -> int:
    """Rows `claimer` claimed and does not hold in hand any more go back to pending at once
    (after a database fault, a claim whose answer was lost may have been stored)."""
    statement = update(Delivery).where(
        Delivery.status == DeliveryStatus.claimed, Delivery.claimed_by == claimer
    )
    if keep:
        statement = statement.where(Delivery.id.not_in(keep))
    result = await session.execute(statement.values(status=DeliveryStatus.pending))
    return result.rowcount or 0


async def reasons(session: AsyncSession, *, round_id: int, status: DeliveryStatus) -> Counter[str]:
    """Why this round's rows with `status` failed, or were tried and wait to be tried again."""
    rows = await session.execute(
        select(Delivery.error, func.count())
        .where(
            Delivery.round_id == round_id,
            Delivery.status == status,
            Delivery.error.is_not(None),
        )
        .group_by(Delivery.error)
    )
    return Counter({error: count for error, count in rows})


async def release_stale(
    session: AsyncSession, *, claimed_before: datetime, unmarked_only: bool = True
) -> int:
    """Claimed rows whose process died go back to pending (their send may be repeated); with
    `unmarked_only`, only rows that no process marked as its own."""
    statement = update(Delivery).where(
        Delivery.status == DeliveryStatus.claimed, Delivery.claimed_at < claimed_before
    )
    if unmarked_only:
        statement = statement.where(Delivery.claimed_by.is_(None))
    result = await session.execute(statement.values(status=DeliveryStatus.pending))
    return result.rowcount or 0


async def held_back(
    session: AsyncSession, *, round_id: int | None = None, reason: str
) -> tuple[int, datetime | None]:
    """Rows (of one round, or all) waiting for `reason` (e.g. a daily limit), and when the
    first of them goes on."""
    statement = select(func.count(Delivery.id), func.min(Delivery.not_before)).where(
        Delivery.status == DeliveryStatus.pending, Delivery.error == reason
    )
    if round_id is not None:
        statement = statement.where(Delivery.round_id == round_id)
    count, first = (await session.execute(statement)).one()
    return int(count or 0), first


async def round_counts(session: AsyncSession, *, round_id: int) -> Counter[DeliveryStatus]:
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.round_id == round_id)
        .group_by(Delivery.status)
    )
    return Counter({status: count for status, count in rows})


async def backlog(session: AsyncSession, *, now: datetime) -> tuple[int, float | None]:
    """How many rows wait to be sent, and how old (seconds) the round of the oldest is."""
    count, oldest = (
        await session.execute(
            select(func.count(Delivery.id), func.min(Round.created_at))
            .join(Round, Round.id == Delivery.round_id)
            .where(Delivery.status.in_(OPEN))
        )
    ).one()
    if not count or oldest is None:
        return 0, None
    return count, (now - oldest).total_seconds()


async def rounds_in_progress(
    session: AsyncSession, *, council_ids: list[int]
) -> list[tuple[Round, Poll, Counter[DeliveryStatus]]]:
    """Rounds of these councils with rows still to send, and their counts."""
    open_rounds = (
        select(Delivery.round_id).where(Delivery.status.in_(OPEN)).distinct().scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Round, Poll)
            .join(Poll, Poll.id == Round.poll_id)
            .where(Round.id.in_(open_rounds), Poll.council_id.in_(council_ids))
            .order_by(Round.id)
        )
    ).all()
    return [
        (sending, poll, await round_counts(session, round_id=sending.id)) for sending, poll in rows
    ]
