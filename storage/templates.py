"""Templates: polls saved to start from, optionally shared with every council on the bot."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Council, Template

KEPT = ("questions", "language", "languages", "voices")
"""What a template keeps of a poll: its questions (with their voice notes) in every language."""


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
