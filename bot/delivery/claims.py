"""Whose outbox claims are still alive (PostgreSQL): each process holds an advisory lock named
after its claimer token for as long as it lives, so the rows of a process that died (SIGKILL,
a lost machine) go back to pending within half a minute, not after the ten-minute lease: when
another process finds the lock free twice, `patience` seconds apart.

PostgreSQL ends a session's advisory locks when the session ends, and a killed process's
sessions end when its connections close. A process whose own lock connection was lost (a
database restart) takes the lock again before it claims anything more. With SQLite there is
one process, which gives back every claimed row when it starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
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

    def __init__(self, db: Database, claimer: str, *, patience: float) -> None:
        self.db = db
        self.claimer = claimer
        self.patience = patience
        """Seconds a claimer's lock must have been free before its rows are taken back: a
        live process whose lock went with a database restart takes it again before then."""
        self._connection: Any = None
        self._free_since: dict[str, float] = {}
        self._holding = asyncio.Lock()
        """One check at a time: two at once would each open a connection and the second
        would wait for ever on the lock the first one took."""

    async def hold(self) -> None:
        """Take (or check) this process's lock, before every claim; a lost connection takes
        it again."""
        if self.db.is_sqlite:
            return
        async with self._holding:
            await self._hold()

    async def _hold(self) -> None:
        try:
            if self._connection is not None:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return
        except Exception:
            await self._drop()
        connection = await self.db.engine.connect()
        try:
            taken = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.claimer)}
            )
            await connection.commit()
            if not taken:  # an earlier connection of ours that PostgreSQL has not ended yet
                raise ConnectionError("this process's lock is still held by a lost connection")
        except BaseException:
            with suppress(Exception):
                await connection.invalidate()
            raise
        self._connection = connection

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
            for claimer in await self.dead(session, list(claimers)):
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

    async def dead(self, session: Any, found: list[str]) -> list[str]:
        """The claimers among `found` whose lock has been free for `patience` seconds (checked
        in `session`'s transaction, with PostgreSQL)."""
        now = time.monotonic()
        self._free_since = {c: t for c, t in self._free_since.items() if c in found}
        dead = []
        for claimer in found:
            key = {"key": lock_key(claimer)}
            if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), key):
                self._free_since.pop(claimer, None)  # alive
                continue
            if now - self._free_since.setdefault(claimer, now) >= self.patience:
                dead.append(claimer)  # free now; taken back only if it stays free
        return dead

    async def close(self) -> None:
        """Let go of the lock (a process that stops has given back its rows)."""
        if self._connection is not None:
            with suppress(Exception):
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.claimer)}
                )
                await self._connection.commit()
        await self._drop()

    async def _drop(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                await self._connection.invalidate()  # not back to the pool with a lock
            with suppress(Exception):
                await self._connection.close()
        self._connection = None
