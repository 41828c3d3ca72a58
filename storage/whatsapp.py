"""What the WhatsApp channel keeps: inbound message ids (each handled once), the 24-hour
window per person, statuses of what we sent (never backwards), the daily count of new
conversations, and a person moving to a new number. Functions take a session, never commit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    RECEIPTS,
    WHATSAPP,
    Address,
    Council,
    Delivery,
    DeliveryStatus,
    Draft,
    Inbound,
    Person,
    Poll,
    PollStatus,
    Respondent,
    Round,
    RoundKind,
)
from storage.pseudonyms import pseudonym

KEEP_INBOUND = timedelta(days=8)
"""Meta retries a webhook for up to 7 days: an id older than that cannot come again."""
UNDELIVERABLE = 131026
WINDOW_CLOSED = 131047


def message_key(message_id: str) -> str:
    """What is stored of a WhatsApp message id: its SHA-256. A wamid encodes the phone
    number, so the id itself is never stored (not even for a number that did not join)."""
    return hashlib.sha256(message_id.encode()).hexdigest()


async def first_time(session: AsyncSession, *, message_ids: list[str]) -> set[str]:
    """Note these inbound message ids; the ones not seen before (a retried webhook, or one
    delivered to two processes, finds its ids taken)."""
    if not message_ids:
        return set()
    keys = {message_key(message_id): message_id for message_id in message_ids}
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    rows = [{"channel": WHATSAPP, "message_id": key} for key in keys]
    statement = (
        dialect.insert(Inbound)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["channel", "message_id"])
        .returning(Inbound.message_id)
    )
    return {keys[key] for key in (await session.execute(statement)).scalars()}


async def forget_old_inbound(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(Inbound).where(Inbound.received_at < now - KEEP_INBOUND))
    return result.rowcount or 0


async def opened_window(session: AsyncSession, *, address: Address, at: datetime) -> None:
    """The person wrote to us: free-form messages may go for 24 hours from now."""
    await session.execute(
        update(Person)
        .where(Person.channel == address.channel, Person.address == address.id)
        .values(window_at=at)
    )


async def move(session: AsyncSession, *, old: Address, new: Address, pseudonym_key: str) -> bool:
    """The same person under a new address (a new number, or a BSUID for a wa_id): the
    person, their drafts and conversation steps move, and so do their pseudonyms in every
    poll they were sent (so they cannot answer twice, and `forget` still finds them);
    nothing is duplicated. False when there was nobody at `old`, or somebody at `new`."""
    taken = await session.scalar(
        select(Person.id).where(Person.channel == new.channel, Person.address == new.id)
    )
    found = await session.scalar(
        select(Person.id).where(Person.channel == old.channel, Person.address == old.id)
    )
    if found is None or taken is not None:
        return False
    for table in (Person, Draft):
        await session.execute(
            update(table)
            .where(table.channel == old.channel, table.address == old.id)
            .values(channel=new.channel, address=new.id)
        )
    sent = select(Round.poll_id).join(Delivery, Delivery.round_id == Round.id)
    for poll_id in set(await session.scalars(sent.where(Delivery.person_id == found))):
        await session.execute(
            update(Respondent)
            .where(
                Respondent.poll_id == poll_id,
                Respondent.pseudonym == pseudonym(pseudonym_key, poll_id=poll_id, address=old),
            )
            .values(pseudonym=pseudonym(pseudonym_key, poll_id=poll_id, address=new))
        )
    return True


@dataclass(frozen=True)
class Receipt:
    """What a status did to a delivery: the row moved forward, failed, or must go again as a
    template (the window had closed)."""

    delivery_id: int
    round_id: int
    failed: bool = False


async def record_status(
    session: AsyncSession, *, message_id: str, status: str, codes: tuple[int, ...]
) -> Receipt | None:
    """Apply one status; a late, repeated or out-of-order one never moves a row backwards:
    `delivered` after `read` changes nothing, and `failed` only counts before delivery.
    None when no delivery has this message id (yet)."""
    row = (
        await session.execute(
            select(Delivery.id, Delivery.round_id, Delivery.receipt).where(
                Delivery.external_id == message_key(message_id)
            )
        )
    ).first()
    if row is None:
        return None
    delivery_id, round_id, receipt = row
    if status in RECEIPTS:
        rank = RECEIPTS[status]
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.receipt < rank)
            .values(receipt=rank)
        )
        return Receipt(delivery_id, round_id)
    if status != "failed" or receipt >= RECEIPTS["delivered"]:
        return Receipt(delivery_id, round_id)  # ours, and nothing to change
    code = codes[0] if codes else 0
    values: dict[str, object]
    if code == WINDOW_CLOSED:  # it went free-form just as the window closed: a template now
        values = {"status": DeliveryStatus.pending, "template": True, "not_before": None}
    else:
        reason = "undeliverable" if code == UNDELIVERABLE else f"WhatsApp error {code}"
        values = {"status": DeliveryStatus.failed, "error": reason}
    await session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.sent)
        .values(**values)
    )
    return Receipt(delivery_id, round_id, failed=True)


async def new_conversations(
    session: AsyncSession, *, since: datetime
) -> tuple[int, datetime | None]:
    """People who got a template (a conversation the business started) since `since`, and
    when the first of those went (a place frees up 24 hours after it)."""
    count, first = (
        await session.execute(
            select(func.count(func.distinct(Delivery.person_id)), func.min(Delivery.sent_at)).where(
                Delivery.template.is_(True), Delivery.sent_at >= since
            )
        )
    ).one()
    return int(count or 0), first


@dataclass(frozen=True)
class Waiting:
    """A delivery whose template was sent: what the Start tap sends now."""

    delivery_id: int
    kind: RoundKind
    poll_id: int
    followup_id: int | None
    council: str


async def started(session: AsyncSession, *, delivery_id: int, person_id: int) -> Waiting | None:
    """The round behind a template's Start tap, if it was this person's."""
    row = (
        await session.execute(
            select(Delivery.id, Round.kind, Round.poll_id, Round.followup_id, Council.name)
            .join(Round, Round.id == Delivery.round_id)
            .join(Poll, Poll.id == Round.poll_id)
            .join(Council, Council.id == Poll.council_id)
            .where(Delivery.id == delivery_id, Delivery.person_id == person_id)
        )
    ).first()
    return Waiting(*row) if row else None


async def open_polls_sent_to(session: AsyncSession, *, person_id: int) -> list[int]:
    """Open polls this person was sent (newest first): where "questions" picks up."""
    rows = await session.execute(
        select(Round.poll_id)
        .join(Delivery, Delivery.round_id == Round.id)
        .join(Poll, Poll.id == Round.poll_id)
        .where(
            Delivery.person_id == person_id,
            Delivery.status == DeliveryStatus.sent,
            Round.kind != RoundKind.followup,
            Poll.status == PollStatus.open,
        )
        .order_by(Round.id.desc())
        .limit(20)
    )
    return list(dict.fromkeys(rows.scalars()))
