"""Councils: kept in step with the configuration file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Council


class CouncilConfig(Protocol):
    slug: str
    name: str
    timezone: str
    languages: tuple[str, ...]
    privacy_threshold: int
    quiet_hours: tuple[str, str]
    recruit_text: str | None


async def sync_councils(session: AsyncSession, *, configured: Iterable[CouncilConfig]) -> None:
    """Create or update the councils named in the configuration (matched by slug)."""
    existing = {council.slug: council for council in await session.scalars(select(Council))}
    for config in configured:
        council = existing.get(config.slug) or Council(slug=config.slug, name=config.name)
        council.name = config.name
        council.timezone = config.timezone
        council.languages = ",".join(config.languages)
        council.privacy_threshold = config.privacy_threshold
        council.quiet_start, council.quiet_end = config.quiet_hours
        council.recruit_text = config.recruit_text
        session.add(council)


async def all_councils(session: AsyncSession) -> list[Council]:
    return list(await session.scalars(select(Council).order_by(Council.name)))


async def get_council(session: AsyncSession, *, council_id: int) -> Council | None:
    return await session.get(Council, council_id)
