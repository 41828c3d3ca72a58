"""Recurring rounds: a template sent on a rule, in the council's timezone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Council, Round, Schedule, Template, utcnow


async def add_schedule(
    session: AsyncSession, *, council_id: int, template_id: int, rule: dict[str, Any]
) -> Schedule:
    schedule = Schedule(council_id=council_id, template_id=template_id, rule=rule)
    session.add(schedule)
    await session.flush()
    return schedule


async def schedules_of(
    session: AsyncSession, *, council_ids: list[int]
) -> list[tuple[Schedule, Template, Council]]:
    rows = await session.execute(
        select(Schedule, Template, Council)
        .join(Template, Template.id == Schedule.template_id)
        .join(Council, Council.id == Schedule.council_id)
        .where(Schedule.council_id.in_(council_ids))
        .order_by(Schedule.id)
    )
    return [(schedule, template, council) for schedule, template, council in rows]


async def active_schedules(session: AsyncSession) -> list[tuple[Schedule, Template, Council]]:
    rows = await session.execute(
        select(Schedule, Template, Council)
        .join(Template, Template.id == Schedule.template_id)
        .join(Council, Council.id == Schedule.council_id)
        .where(Schedule.paused.is_(False))
    )
    return [(schedule, template, council) for schedule, template, council in rows]


async def has_round(session: AsyncSession, *, schedule_id: int, period_key: str) -> bool:
    found = await session.scalar(
        select(Round.id).where(Round.schedule_id == schedule_id, Round.period_key == period_key)
    )
    return found is not None


async def set_paused(session: AsyncSession, *, schedule: Schedule, paused: bool) -> None:
    """Pause or resume; a resumed schedule does not catch up on moments missed while paused."""
    if schedule.paused and not paused:
        schedule.active_since = utcnow()
    schedule.paused = paused
    session.add(schedule)


async def remove_schedule(session: AsyncSession, *, schedule_id: int) -> None:
    await session.execute(delete(Schedule).where(Schedule.id == schedule_id))
