"""Templates: polls saved to start from, optionally shared with every council on the bot."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import polls
from storage.models import Council, Poll, PollStatus, Respondent, Template

KEPT = ("questions", "language", "languages", "voices", "share_results", "recruit")
"""What a template keeps of a poll: its questions (with their voice notes) in every language,
and whether families get the results and the invitation to join (not the council's own line:
a shared template goes to other councils)."""


async def save_template(
    session: AsyncSession, *, council_id: int, title: str, body: dict[str, Any]
) -> Template:
    kept = {key: body[key] for key in KEPT if key in body}
    template = Template(council_id=council_id, title=title, body=kept)
    session.add(template)
    await session.flush()
    return template


async def usable_templates(
    session: AsyncSession, *, council_id: int
) -> list[tuple[Template, Council]]:
    """The council's own templates, then those other councils shared."""
    rows = await session.execute(
        select(Template, Council)
        .join(Council, Council.id == Template.council_id)
        .where(or_(Template.council_id == council_id, Template.shared.is_(True)))
        .order_by(Template.council_id != council_id, Template.title)
    )
    return [(template, council) for template, council in rows]


async def shared_templates(session: AsyncSession) -> list[tuple[Template, Council]]:
    """Every template shared with all councils, with the council that made it."""
    rows = await session.execute(
        select(Template, Council)
        .join(Council, Council.id == Template.council_id)
        .where(Template.shared.is_(True))
        .order_by(Template.title, Template.id)
    )
    return [(template, council) for template, council in rows]


async def usable_template(
    session: AsyncSession, *, template_id: int, council_id: int
) -> Template | None:
    """A template this council may use (its own, or shared), else None."""
    template = await session.get(Template, template_id)
    if template is None or not (template.council_id == council_id or template.shared):
        return None
    return template


async def own_templates(session: AsyncSession, *, council_ids: list[int]) -> list[Template]:
    return list(
        await session.scalars(
            select(Template).where(Template.council_id.in_(council_ids)).order_by(Template.title)
        )
    )


async def set_shared(session: AsyncSession, *, template: Template, shared: bool) -> None:
    template.shared = shared
    session.add(template)


@dataclass(frozen=True)
class TemplateUse:
    """How a template worked: how many councils ran a poll from it, and the median response
    rate (0-100) of those polls once closed (None before any closed with someone asked)."""

    councils: int
    median_rate: float | None


async def template_use(session: AsyncSession, *, template_ids: list[int]) -> dict[int, TemplateUse]:
    """Per template: the councils that used it and the median response rate of its rounds.
    Only counts of who was asked and who answered: nothing of anyone's answers."""
    rows = (
        await session.execute(
            select(Poll.id, Poll.template_id, Poll.council_id, Poll.status, Poll.summary).where(
                Poll.template_id.in_(template_ids)
            )
        )
    ).all()
    closed = [row for row in rows if row.status == PollStatus.closed]
    asked = await polls.asked_counts(session, poll_ids=[row.id for row in closed])
    answered = dict(
        (
            await session.execute(
                select(Respondent.poll_id, func.count(Respondent.id))
                .where(Respondent.poll_id.in_([row.id for row in closed]))
                .group_by(Respondent.poll_id)
            )
        ).all()
    )
    used: dict[int, set[int]] = {}
    rates: dict[int, list[float]] = {}
    for row in rows:
        if row.status == PollStatus.draft:
            continue
        used.setdefault(row.template_id, set()).add(row.council_id)
    for row in closed:
        got = row.summary["respondents"] if row.summary else answered.get(row.id, 0)
        if asked.get(row.id):
            rates.setdefault(row.template_id, []).append(min(100.0, 100 * got / asked[row.id]))
    return {
        template_id: TemplateUse(
            len(councils),
            statistics.median(rates[template_id]) if rates.get(template_id) else None,
        )
        for template_id, councils in used.items()
    }
