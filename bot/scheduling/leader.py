"""One scheduler at a time: on PostgreSQL the process holding an advisory lock; on SQLite the
only process (a second one is told so at start-up)."""

from __future__ import annotations

import fcntl
import logging
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

from bot.observe.metrics import set_leader
from storage.db import Database

log = logging.getLogger(__name__)
LOCK_KEY = 7_261_001  # any fixed number; the same in every achterban process


class Leadership:
    """`await leadership.held()` says whether this process may run scheduled jobs."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._connection: Any = None
        self._held = False
        self._file: IO[str] | None = None

    def claim_sqlite(self) -> bool:
        """Hold a lock file beside the SQLite database; False if another process holds it."""
        if not self.db.is_sqlite:
            return True
        path = Path(self.db.engine.url.database or "achterban.sqlite3").with_suffix(".lock")
        self._file = path.open("a")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning(
                "another achterban process uses this SQLite database; SQLite supports one "
                "process: this one will not send or schedule. Stop the other one, or use "
                "PostgreSQL to run several"
            )
            self._file.close()
            self._file = None
            return False
        set_leader(True)
        return True

    async def held(self) -> bool:
        """Whether this process runs the scheduled jobs now (checked on every tick)."""
        if self.db.is_sqlite:
            return self._file is not None
        try:
            return await self._hold()
        except Exception as error:  # a lost connection loses the lock too: start over
            log.warning("scheduler lock connection lost (%s)", type(error).__name__)
            await self._drop_connection()
            return False

    async def _hold(self) -> bool:
        if self._connection is None:
            self._connection = await self.db.engine.connect()
        if self._held:
            await self._connection.execute(text("SELECT 1"))
            return True
        result = await self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
        )
        self._held = bool(result.scalar())
        await self._connection.commit()
        set_leader(self._held)
        if self._held:
            log.info("this process now runs the scheduled jobs")
        return self._held

    async def release(self) -> None:
        if self._connection is not None and self._held:
            with suppress(Exception):
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._connection.commit()
        await self._drop_connection()
        if self._file is not None:
            self._file.close()
            self._file = None
        set_leader(False)

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            with suppress(Exception):
                await self._connection.close()  # a dead process's lock ends with its session
        self._connection, self._held = None, False
        set_leader(False)
