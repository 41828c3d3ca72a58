"""Invite codes: at least 128 bits random, stored only as a hash, expiring, limited use."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Invite, Role

CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


class CodeProblem(enum.StrEnum):
    unknown = "unknown"
    expired = "expired"
    used = "used"


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    *,
    council_id: int,
    role: Role,
    tags: list[str],
    expires_at: datetime,
    max_uses: int | None,
    created_by: int | None,
) -> tuple[Invite, str]:
    """A new invite and its code (the code itself is shown once and never stored)."""
    code = secrets.token_urlsafe(16)
    invite = Invite(
        council_id=council_id,
        code_hash=code_hash(code),
        role=role,
        tags=sorted(set(tags)),
        max_uses=max_uses,
        expires_at=expires_at,
        created_by=created_by,
    )
    session.add(invite)
    await session.flush()
    return invite, code


def end_of_day(now: datetime, *, days: int, timezone: str) -> datetime:
    """The last moment of the day `days` from now, in the council's timezone."""
    local = now.astimezone(ZoneInfo(timezone)).date() + timedelta(days=days)
    return datetime.combine(local, time(23, 59, 59), tzinfo=ZoneInfo(timezone))


async def by_code(session: AsyncSession, *, code: str) -> Invite | None:
    """The invite behind `code`, whatever its state."""
    if not CODE_SHAPE.match(code):
        return None
    return await session.scalar(select(Invite).where(Invite.code_hash == code_hash(code)))


async def check_code(session: AsyncSession, *, code: str, now: datetime) -> Invite | CodeProblem:
    """The invite behind `code`, or why it cannot be used."""
    if not CODE_SHAPE.match(code):
        return CodeProblem.unknown
    invite = await session.scalar(select(Invite).where(Invite.code_hash == code_hash(code)))
    if invite is None or invite.revoked:
        return CodeProblem.unknown
    if invite.expires_at <= now:
        return CodeProblem.expired
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return CodeProblem.used
    return invite


async def redeem(session: AsyncSession, *, invite_id: int) -> bool:
    """Use up one place on the invite; False when another sign-up took the last one."""
    result = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite_id,
            (Invite.max_uses.is_(None)) | (Invite.uses < Invite.max_uses),  # type: ignore[union-attr]
        )
        .values(uses=Invite.uses + 1)
    )
    return bool(result.rowcount)
