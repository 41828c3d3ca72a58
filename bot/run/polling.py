"""Polling that loses nothing and is never held up by the slowest reply.

python-telegram-bot's own Updater moves the getUpdates offset as soon as a batch is fetched,
so a hard kill could lose answers. Here a batch is stored in the inbox first (`store`), and
only then does the next getUpdates confirm it; any process that takes updates handles them
from there (`bot.run.inbox`, `taking`), so after a crash nothing fetched is lost. When the
database refuses the batch for a reason other than an outage (a full disk), the batch is
handled at once in this process (`handle_batch`: each person's updates in a lane, people side
by side), so the person hears that something went wrong.

An update that failed because the database was away (`handlers/gate.py` and the error handler
mark it) is handled again once the database answers, so a family taps once.
While Telegram is away, getUpdates is tried at least every 5 s; the outage is logged once
(`bot.delivery.health`), not per try.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from telegram import Update
from telegram.error import Conflict, RetryAfter, TelegramError
from telegram.ext import Application

from bot.chat.context import AGAIN, BEFORE, RETRY
from bot.delivery.health import Health, Outage
from bot.run.inbox import INBOX, Handle
from storage.db import is_outage
from storage.inbox import Arrival, Taken
from storage.models import TELEGRAM

log = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]
LONG_POLL_SECONDS = 30
MAX_BACKOFF = 5.0
READ_MARGIN = 5.0  # python-telegram-bot's own read timeout on top of the long poll
BUSY_PAUSE = 0.25
"""Seconds to wait for an update to finish when getUpdates brought nothing new (while updates
are unfinished, Telegram answers at once with them again)."""
STOP_GRACE = 10.0
DATABASE_PATIENCE = 600.0
"""Seconds an update is tried again while the database is away, before polling drops it
(logged): a fault that lasts longer needs a person anyway, and the offset must move on."""
GET_UPDATES = "getupdates"
"""Method names are case-insensitive in the Bot API; this spelling gets the raw batch through
`do_api_request` without its warning that `bot.get_updates` exists (which we avoid, see
`readable`)."""


class Lanes:
    """One lane of updates per person, handled in order; the ids not finished yet."""

    def __init__(self, app: App, *, give_up_after: float, drop_given_up: bool) -> None:
        self.app = app
        self.give_up_after = give_up_after
        self.drop_given_up = drop_given_up
        """Polling drops an update given up (it would hold the offset for ever); the webhook
        keeps it unfinished, and asks Telegram to deliver it again."""
        self.unfinished: set[int] = set()
        self.finished = asyncio.Event()
        self._queues: dict[int, deque[Update]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, update: Update) -> None:
        user = update.effective_user
        key = user.id if user else -update.update_id
        self.unfinished.add(update.update_id)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(update)
            return
        self._queues[key] = deque([update])
        task = asyncio.create_task(self._drain(key), name=f"lane-{update.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update = queue[0]
                if await handle(self.app, update, give_up_after=self.give_up_after):
                    self.unfinished.discard(update.update_id)
                elif self.drop_given_up:
                    log.error(
                        "update %s dropped: the database was away for %.0f s",
                        update.update_id,
                        self.give_up_after,
                    )
                    self.unfinished.discard(update.update_id)
                queue.popleft()
                self.finished.set()
        finally:
            self._queues.pop(key, None)

    async def advanced(self, *, within: float) -> None:
        """Wait until the oldest unfinished update is done (the offset can move on) or
        `within` seconds passed: asking Telegram sooner would bring the same updates again
        (up to 100 of them, each parsed once more) and nothing new."""
        oldest = min(self.unfinished, default=None)
        deadline = asyncio.get_running_loop().time() + within
        while oldest is not None and min(self.unfinished, default=None) == oldest:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            self.finished.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.finished.wait(), left)

    async def join(self, within: float | None = None) -> None:
        """Wait for every lane (cancelling what is left after `within` seconds)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=within)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


async def handle(app: App, update: Update, *, give_up_after: float = DATABASE_PATIENCE) -> bool:
    """Handle one update; while the database is away, again and again until it answers.
    False when it was given up (after `give_up_after` seconds): it must come again."""
    retry: set[int] = app.bot_data.setdefault(RETRY, set())
    again: set[int] = app.bot_data.setdefault(AGAIN, set())
    database = _health(app).database
    waited = 0.0
    while True:
        await app.process_update(update)
        if update.update_id not in retry:
            again.discard(update.update_id)
            return True
        retry.discard(update.update_id)
        again.add(update.update_id)  # also when it comes again from Telegram (a webhook 503)
        database.retry("updates")
        if waited >= give_up_after:
            return False
        pause = database.backoff()
        await database.wait(pause)
        waited += pause


async def poll_until(app: App, stop: asyncio.Event, *, long_poll: int = LONG_POLL_SECONDS) -> None:
    """Fetch updates, store them in the inbox, and confirm them, until `stop` is set."""
    telegram = _health(app).telegram
    next_id, confirmed = 0, 0
    while not stop.is_set():
        asked = time.monotonic()
        try:
            wait = 0 if telegram.down else long_poll
            updates = await _fetch_or_stop(app, stop, offset=next_id, long_poll=wait)
        except RetryAfter as error:
            await _sleep_or_stop(stop, _seconds(error.retry_after))
            continue
        except Conflict:
            log.error("another process polls with this token; waiting")
            await _sleep_or_stop(stop, 5.0)
            continue
        except TelegramError as error:  # tried again at most 5 s after the last try began
            _failed(telegram, error, began=asked)
            spent = time.monotonic() - asked
            await _sleep_or_stop(stop, max(min(telegram.backoff(), MAX_BACKOFF) - spent, 0.0))
            continue
        confirmed = next_id  # that getUpdates carried the offset to Telegram
        fresh = [data for data in updates if _update_id(data) >= next_id]
        if fresh and await store(app, fresh, stop=stop):
            next_id = max(_update_id(data) for data in fresh) + 1
    if next_id > confirmed:  # stopped with stored updates still unconfirmed: confirm them
        with suppress(TelegramError):
            await _get_updates(app, offset=next_id, long_poll=0, limit=1)


async def store(app: App, batch: Sequence[Any], *, stop: asyncio.Event) -> bool:
    """Put a raw batch in the inbox (to be confirmed to Telegram after this); while the
    database is away, again and again (False when `stop` came first: Telegram keeps them).
    When the database refuses them for another reason (a full disk), they are handled here
    and now instead, so the person hears what went wrong."""
    arrivals, updates = [], []
    for data, update in _parsed(app, batch):
        user = update.effective_user
        person = str(user.id) if user else f"update:{update.update_id}"
        arrivals.append(Arrival(key=str(update.update_id), person=person, body=json.dumps(data)))
        updates.append(update)
    if not arrivals:
        return True
    database = _health(app).database
    while True:
        try:
            await app.bot_data[INBOX].put(TELEGRAM, arrivals)
            return True
        except Exception as error:
            if not is_outage(error):  # the handler's own failure will be the one error
                log.warning("updates not stored (%s); handled at once", type(error).__name__)
                await handle_batch(app, updates)
                return True
            database.failed(error)
            database.retry("updates", len(arrivals))
        if stop.is_set():
            return False
        await _sleep_or_stop(stop, database.backoff())


def taking(app: App) -> Handle:
    """How the inbox hands a Telegram row to the application (one update, in its lane)."""
    befores: dict[int, int] = app.bot_data.setdefault(BEFORE, {})

    async def handle_row(row: Taken) -> bool:
        found = readable(app, [json.loads(row.body or "null")])
        if not found:
            return True
        update = found[0]
        befores[update.update_id] = row.before
        try:
            return await handle(app, update)
        finally:
            befores.pop(update.update_id, None)

    return handle_row


def _failed(telegram: Outage, error: TelegramError, *, began: float) -> None:
    """getUpdates failed: the limiter has told the outage already, unless it never got there."""
    if not telegram.down:
        telegram.failed(error, began=began)


def readable(app: App, batch: Sequence[Any]) -> list[Update]:
    """The updates of a raw batch that python-telegram-bot can read. One it cannot read (a
    field it does not know yet, or a broken update) is logged by id and error type, never its
    text, and skipped; `bot.get_updates` would fail the whole batch, every time, and stop us."""
    return [update for _, update in _parsed(app, batch)]


def _parsed(app: App, batch: Sequence[Any]) -> list[tuple[Any, Update]]:
    parsed = []
    for data in batch:
        try:
            update = Update.de_json(data, app.bot)
        except Exception as error:
            update = None
            log.warning(
                "update %s is unreadable (%s); skipped", _update_id(data), type(error).__name__
            )
        if update is not None:
            parsed.append((data, update))
    return parsed


async def handle_batch(
    app: App, updates: Sequence[Update], *, give_up_after: float = DATABASE_PATIENCE
) -> bool:
    """Handle a batch: each user's updates in order, users side by side; True when every
    update was handled (False: one was given up while the database was away)."""
    lanes = Lanes(app, give_up_after=give_up_after, drop_given_up=False)
    for update in updates:
        lanes.add(update)
    await lanes.join()
    return not lanes.unfinished


def _health(app: App) -> Health:
    services = app.bot_data.get("services")
    health = getattr(services, "health", None)
    if health is None:  # an Application without our services (benchmarks' ceilings)
        health = app.bot_data.setdefault("polling_health", Health())
    return health


async def _fetch_or_stop(
    app: App, stop: asyncio.Event, *, offset: int, long_poll: int
) -> list[Any]:
    fetch = asyncio.ensure_future(_get_updates(app, offset=offset, long_poll=long_poll))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not fetch.done():
        fetch.cancel()
        with suppress(asyncio.CancelledError, TelegramError):
            await fetch
        return []
    return list(fetch.result() or [])


async def _get_updates(app: App, *, offset: int, long_poll: int, limit: int = 100) -> Any:
    """getUpdates, unparsed (see `readable`)."""
    return await app.bot.do_api_request(
        GET_UPDATES,
        api_kwargs={
            "offset": offset,
            "timeout": long_poll,
            "limit": limit,
            "allowed_updates": list(Update.ALL_TYPES),
        },
        read_timeout=long_poll + READ_MARGIN,
    )


def _update_id(data: Any) -> int:
    update_id = data.get("update_id") if isinstance(data, dict) else None
    return update_id if isinstance(update_id, int) else -1


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
