"""Taking updates from the inbox: any process, one person's updates in order, never two at once.

The poller, the Telegram webhook and the WhatsApp webhook store what arrives (`Inbox.put`) and
only then confirm it to the platform. Every process that takes updates (`achterban run` and
`achterban worker`; with SQLite the one process) runs `Inbox`: it takes the oldest pending row
of each free person (`storage.inbox.take`), handles each person's row in a task of its own
(people side by side, at most `IN_FLIGHT` at once per process, so several processes share a
burst), and marks it done in the same unit of work that takes the next ones. A row of a
process that died goes back once its advisory lock stayed free for a while
(`bot.delivery.claims`), so another process handles it; the answer it may have stored already
is stored once (`storage.answers.store_answer` checks), so nothing is counted twice.

The process that stored a row is told at once (`kick`); the others look every `IDLE` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from bot.delivery.claims import Claims
from bot.delivery.health import Health
from storage import inbox
from storage.db import Database, is_outage
from storage.models import TELEGRAM, utcnow

log = logging.getLogger(__name__)
INBOX = "inbox"
"""bot_data: this process's `Inbox`."""
IN_FLIGHT = 100
"""Rows one process handles at once (the rest is left for other processes)."""
IDLE = 0.2
"""Seconds between looks at the inbox when nothing was stored by this process."""
DEAD_EVERY = 5.0
DEAD_PATIENCE = 10.0
"""Seconds a taker's lock must stay free before its rows are handled by others."""
LINGER = 0.02
"""Seconds finished rows gather while others are still being handled, so a burst costs a few
transactions a second, not one per update (a person's next update waits at most this)."""
IDLE_SQLITE = 5.0
"""With SQLite this process stored every row and was told; it looks anyway now and then."""
STOP_GRACE = 10.0
WAIT_HANDLED = 30.0
WATCHED = False
"""Whether the takers note the keys they stored, to be waited for (`attach`: tests and the
demo; in production another process may handle them, so nothing is noted)."""
LIVE: set[Inbox] = set()
"""The takers running in this process (the local Bot API server of tests and the demo waits
for them: `attach`)."""

Handle = Callable[[inbox.Taken], Awaitable[bool]]
"""Handles one row of a channel: True when done, False to give it back for later (the
database was away for too long)."""
Observe = Callable[[float], None]


class Inbox:
    """This process's taker of inbox rows."""

    def __init__(
        self,
        db: Database,
        health: Health,
        *,
        observe: Observe | None = None,
        in_flight: int = IN_FLIGHT,
        idle: float = IDLE,
    ) -> None:
        self.db = db
        self.health = health
        self.handlers: dict[str, Handle] = {}
        self.taker = secrets.token_hex(8)
        self.claims = Claims(db, self.taker, patience=DEAD_PATIENCE)
        self.in_flight = in_flight
        self.idle = idle
        self._observe = observe
        self._kicked = asyncio.Event()
        self._done: list[inbox.Taken] = []
        self._back: list[int] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._expected: set[tuple[str, str]] = set()
        self._waiters: dict[tuple[str, str], asyncio.Event] = {}
        self._taking = False
        self._storing = 0

    def handle(self, channel: str, handler: Handle) -> None:
        self.handlers[channel] = handler

    async def put(self, channel: str, arrivals: Sequence[inbox.Arrival]) -> set[str]:
        """Store what arrived (raises when the database cannot take it); the keys that were
        new. This process is told at once, so a single process adds no wait."""
        self._storing += 1
        try:
            async with self.db.begin() as session:
                new = await inbox.put(session, channel=channel, arrivals=arrivals, now=utcnow())
        finally:
            self._storing -= 1
        if new:
            if WATCHED:
                self._expected.update((channel, key) for key in new)
            self.kick()
        return new

    def kick(self) -> None:
        self._kicked.set()

    @property
    def busy(self) -> bool:
        """True while something stored here may still be waiting or being handled (tests)."""
        return bool(
            self._storing
            or self._running
            or self._taking
            or self._kicked.is_set()
            or self._done
            or self._back
        )

    async def finished(self, channel: str, key: str, *, within: float) -> None:
        """Wait until the row of `key`, stored by this process, was handled (tests and the
        demo: the local Bot API server waits for it after the confirmation)."""
        wanted = (channel, key)
        if wanted not in self._expected:
            return
        event = self._waiters.setdefault(wanted, asyncio.Event())
        with suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), within)
        self._waiters.pop(wanted, None)

    async def start(self, *, only_process: bool) -> None:
        if only_process:  # SQLite: rows taken before a restart are this process's own
            async with self.db.begin() as session:
                for taker in await inbox.takers(session, besides=self.taker):
                    await inbox.give_back(session, taker=taker)
        self._task = asyncio.create_task(self._loop(), name="inbox")
        LIVE.add(self)

    async def stop(self) -> None:
        LIVE.discard(self)
        self._stopping = True
        self.kick()
        if self._running:
            _, pending = await asyncio.wait(set(self._running.values()), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with suppress(Exception):
            async with self.db.begin() as session:
                await inbox.finish(session, ids=[row.id for row in self._done], now=utcnow())
                await inbox.give_back(session, taker=self.taker)
        await self.claims.close()

    async def _loop(self) -> None:
        next_dead = 0.0
        failing = False
        look = True  # at start: rows stored before may wait
        while not self._stopping:
            if self._running and not self._stopping:
                await asyncio.sleep(LINGER)  # a burst: what finishes meanwhile goes together
            told = self._kicked.is_set()
            self._kicked.clear()
            try:
                self._taking = True
                if not self.db.is_sqlite and time.monotonic() >= next_dead:
                    await self.claims.hold()  # well within the patience others give it
                    await self._release_dead()
                    next_dead = time.monotonic() + DEAD_EVERY
                taken = await self._take(told=told, look=look)
            except Exception as error:
                if not is_outage(error):
                    log.error("inbox: %s while taking updates", type(error).__name__)
                else:
                    self.health.database.failed(error)
                    failing = True
                await self._wait(self.health.database.backoff())
                continue
            finally:
                self._taking = False
            if failing:  # the database answers again (as far as this loop can tell)
                self.health.database.ok()
                failing = False
            for row in taken:
                task = asyncio.create_task(self._one(row), name=f"inbox-{row.id}")
                self._running[row.id] = task
            if not taken and not self._kicked.is_set():
                # With SQLite every row is stored by this process, which is told (`kick`);
                # with PostgreSQL other processes store rows too: look now and then
                await self._wait(IDLE_SQLITE if self.db.is_sqlite else self.idle)
                look = not self.db.is_sqlite and not self._kicked.is_set()
            else:
                look = False

    async def _take(self, *, told: bool, look: bool) -> list[inbox.Taken]:
        """Mark what finished; take more when told of new rows or of a finished row (the
        person's next may wait), or when it is time to look and a cheap read finds some."""
        done, back = self._done[:], self._back[:]
        room = 0 if self._stopping else self.in_flight - len(self._running)
        if not (told or look):
            room = 0
        if not done and not back and room <= 0:
            return []
        if not told and not done and not back and not await self._waiting():
            return []
        async with self.db.begin() as session:
            if back:
                await inbox.give_back(session, taker=self.taker, ids=back)
            taken = await inbox.take(
                session, taker=self.taker, limit=room, done=[row.id for row in done], now=utcnow()
            )
        del self._done[: len(done)]
        del self._back[: len(back)]
        for row in done:  # committed: done for everyone now
            self._seen(row)
        return taken

    async def _waiting(self) -> bool:
        """A cheap read first: is any row free to take? (A take is a write.)"""
        async with self.db.read() as session:
            return await inbox.waiting(session)

    async def _release_dead(self) -> None:
        async with self.db.begin() as session:
            found = await inbox.takers(session, besides=self.taker)
            if not found:
                return
            released = 0
            for taker in await self.claims.dead(session, found):
                released += await inbox.give_back(session, taker=taker)
        if released:
            log.info("%s updates of a process that stopped are handled by this one", released)

    async def _wait(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._kicked.wait(), seconds)

    async def _one(self, row: inbox.Taken) -> None:
        done = False
        try:
            handler = self.handlers.get(row.channel)
            if handler is None:
                log.error("inbox: no handler for channel %s; row %s left", row.channel, row.id)
            elif row.body is None:
                done = True  # nothing to handle (should not happen: bodies go when done)
            else:
                inbox.CURRENT.set(row.id)  # this task's own context
                done = await handler(row)
        except Exception as error:  # a handler's own errors are reported where they happen
            log.error("inbox: row %s failed (%s)", row.id, type(error).__name__)
            done = True
        finally:
            self._running.pop(row.id, None)
            if done:
                self._done.append(row)
            else:
                self._back.append(row.id)
            self.kick()

    def _seen(self, row: inbox.Taken) -> None:
        if self._observe is not None:
            self._observe(_age(row.received_at))
        key = (row.channel, row.key)
        self._expected.discard(key)
        event = self._waiters.get(key)
        if event is not None:
            event.set()


def attach(queue: Any) -> None:
    """Make a local Bot API server's update queue (`bot.botapi`) wait, after an update was
    confirmed, until the takers of this process handled it, as Telegram's users would see."""

    async def settled(update_id: int) -> None:
        for taker in list(LIVE):
            await taker.finished(TELEGRAM, str(update_id), within=WAIT_HANDLED)

    global WATCHED
    WATCHED = True
    queue.settled = settled
    queue.busy = lambda: any(taker.busy for taker in LIVE)


def _age(received_at: datetime) -> float:
    now = utcnow()
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=now.tzinfo)
    return max((now - received_at).total_seconds(), 0.0)
