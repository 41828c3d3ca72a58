"""One scheduler at a time: on PostgreSQL the process holding an advisory lock; on SQLite the
only process (a second one is told so at start-up)."""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text

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
                "process: stop the other one, or use PostgreSQL to run several"
            )
            return False
        return True

    async def held(self) -> bool:
        if self.db.is_sqlite:
            return True
        if self._held:
            return True
        if self._connection is None:
            self._connection = await self.db.engine.connect()
        result = await self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
        )
        self._held = bool(result.scalar())
        await self._connection.commit()
        if self._held:
            log.info("this process now runs the scheduled jobs")
        return self._held

    async def release(self) -> None:
        if self._connection is not None:
            if self._held:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._connection.commit()
            await self._connection.close()  # back to the pool; a dead process's lock ends with it
            self._connection, self._held = None, False
        if self._file is not None:
            self._file.close()
            self._file = None
