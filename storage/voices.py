"""Voice notes of polls: where WhatsApp keeps each one once it was uploaded (`media_id`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Voice


async def media_of(session: AsyncSession, *, voice_id: int) -> tuple[str | None, datetime | None]:
    """The WhatsApp media id of a voice note and when it was uploaded (None, None: not yet,
    or the note is gone)."""
    row = (
        await session.execute(select(Voice.media_id, Voice.media_at).where(Voice.id == voice_id))
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def set_media(
    session: AsyncSession, *, voice_id: int, media_id: str | None, at: datetime | None
) -> None:
    """Remember (or, with None, forget) the WhatsApp media id of a voice note."""
    await session.execute(
        update(Voice).where(Voice.id == voice_id).values(media_id=media_id, media_at=at)
    )
