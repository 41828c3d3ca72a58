"""Half-finished conversations kept in the database, so a restart loses nothing typed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Address, Draft, utcnow

LIFETIME = timedelta(hours=24)


async def get_draft(
    session: AsyncSession, *, address: Address, kind: str | None = None, now: datetime | None = None
) -> Draft | None:
    """The user's live draft (of `kind`, or the newest of any kind)."""
    query = select(Draft).where(_of(address), Draft.expires_at > (now or utcnow()))
    if kind is not None:
        query = query.where(Draft.kind == kind)
    return await session.scalar(query.order_by(Draft.id.desc()).limit(1))


async def save_draft(
    session: AsyncSession,
    *,
    address: Address,
    kind: str,
    step: str,
    data: dict[str, Any],
    expires_at: datetime | None = None,
) -> Draft:
    """Start or move on a draft; it expires a day after its last step (or at `expires_at`)."""
    draft = await session.scalar(select(Draft).where(_of(address), Draft.kind == kind))
    draft = draft or Draft(channel=address.channel, address=address.id, kind=kind, step=step)
    draft.step, draft.data = step, dict(data)
    draft.expires_at = expires_at or utcnow() + LIFETIME
    session.add(draft)
    await session.flush()
    return draft


async def set_step(session: AsyncSession, *, address: Address, kind: str, step: str) -> None:
    """Move a draft to `step`, keeping what it holds."""
    await session.execute(update(Draft).where(_of(address), Draft.kind == kind).values(step=step))


async def steps(session: AsyncSession, *, address: Address) -> dict[str, str]:
    """The step of each of the person's drafts, by kind (expired ones too, until the clean-up:
    a flow's steps say "too late" themselves)."""
    rows = await session.execute(select(Draft.kind, Draft.step).where(_of(address)))
    return {kind: step for kind, step in rows}


async def drop_drafts(session: AsyncSession, *, address: Address, kind: str | None = None) -> int:
    query = delete(Draft).where(_of(address))
    if kind is not None:
        query = query.where(Draft.kind == kind)
    result = await session.execute(query)
    return result.rowcount or 0


def _of(address: Address) -> ColumnElement[bool]:
    return and_(Draft.channel == address.channel, Draft.address == address.id)


async def drop_expired_drafts(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(Draft).where(Draft.expires_at <= now))
    return result.rowcount or 0
