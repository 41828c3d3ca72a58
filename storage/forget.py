"""/forget: erase a person so that nothing in any table points back to them."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit, inbox
from storage.drafts import drop_drafts
from storage.models import (
    Answer,
    Delivery,
    DeliveryStatus,
    Person,
    Poll,
    Respondent,
    Round,
)
from storage.pseudonyms import pseudonym


async def forget_person(session: AsyncSession, *, person: Person, pseudonym_key: str) -> None:
    """Delete the person; their choice answers stay only as counts that link to nobody.

    Memberships, tags and outbox rows go with the person (ON DELETE CASCADE); references
    from polls, invites and the audit log are set to NULL. Respondent rows get a fresh random
    pseudonym, so even someone holding the key cannot find them again. Open-text answers are
    deleted, because free text can reveal who wrote it.
    """
    poll_ids = list(await session.scalars(select(Poll.id)))
    mine = {pseudonym(pseudonym_key, poll_id=p, address=person.contact) for p in poll_ids}
    respondents = select(Respondent.id).where(
        (Respondent.pseudonym.in_(mine)) | (Respondent.person_id == person.id)
    )
    respondent_ids = list(await session.scalars(respondents))
    if respondent_ids:
        await session.execute(
            delete(Answer).where(Answer.respondent_id.in_(respondent_ids), Answer.text.is_not(None))
        )
        for respondent_id in respondent_ids:
            await session.execute(
                update(Respondent)
                .where(Respondent.id == respondent_id)
                .values(pseudonym=f"gone-{secrets.token_hex(24)}", person_id=None)
            )
    reached = select(Delivery.round_id).where(
        Delivery.person_id == person.id, Delivery.status == DeliveryStatus.sent
    )
    await session.execute(
        update(Round).where(Round.id.in_(reached)).values(forgotten=Round.forgotten + 1)
    )
    await drop_drafts(session, address=person.contact)
    await inbox.forget_person(session, channel=person.channel, person=person.address)
    await session.delete(person)
    audit.record(session, action="forget")
