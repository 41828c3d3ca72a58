"""The audit log: who did what, never message text."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    action: str,
    council_id: int | None = None,
    actor_id: int | None = None,
    detail: str = "",
) -> None:
    """Add an audit entry to the current transaction."""
    session.add(AuditEntry(council_id=council_id, actor_id=actor_id, action=action, detail=detail))
