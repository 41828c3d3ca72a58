"""Whose outbox claims are still alive (PostgreSQL): each process holds an advisory lock named
after its claimer token for as long as it lives, so the rows of a process that died (SIGKILL,
a lost machine) go back to pending within seconds, not after the ten-minute lease.

PostgreSQL ends a session's advisory locks when the session ends, and a killed process's
sessions end when its connections close. A process whose own lock connection was lost (a
database restart) takes the lock again before it claims anything more. With SQLite there is
one process, which gives back every claimed row when it starts.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from sqlalchemy import select, text, update

from storage.db import Database
from storage.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)


def lock_key(claimer: str) -> int:
    """The claimer token (16 hex digits) as a signed 64-bit advisory lock key."""
    return int(claimer, 16) - 2**63


class Claims:
    """This process's advisory lock, and the release of dead processes' claims."""

    def __init__(self, db: Database, claimer: str) -> None:
        self.db = db
        self.claimer = claimer
        self._connection: Any = None

    async def hold(self) -> None:
        """Take (or check) this process's lock; a lost connection takes it again."""
        if self.db.is_sqlite:
            return
        try:
            if self._connection is not None:
                await self._connection.execute(text("SELECT 1"))
                return
        except Exception:
            await self.close()
        self._connection = await self.db.engine.connect()
        await self._connection.execute(
            text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(self.claimer)}
        )
        await self._connection.commit()

    async def release_dead(self) -> int:
        """Rows claimed by processes that hold no lock any more go back to pending."""
        if self.db.is_sqlite:
            return 0
        await self.hold()
        released = 0
        async with self.db.begin() as session:
            claimers = await session.scalars(
                select(Delivery.claimed_by)
                .where(
                    Delivery.status == DeliveryStatus.claimed,
                    Delivery.claimed_by.is_not(None),
                    Delivery.claimed_by != self.claimer,
                )
                .distinct()
            )
            for claimer in list(claimers):
                key = {"key": lock_key(claimer)}
                if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), key):
                    continue  # alive
                result = await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.status == DeliveryStatus.claimed, Delivery.claimed_by == claimer
                    )
                    .values(status=DeliveryStatus.pending)
                )
                released += result.rowcount or 0
        if released:
            log.info("%s rows of a process that stopped went back to the queue", released)
        return released

    async def close(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                await self._connection.close()  # the lock ends with the session
        self._connection = None
