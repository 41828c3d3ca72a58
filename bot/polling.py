"""Polling that loses nothing: an update is confirmed to Telegram only after it was handled.

python-telegram-bot's own Updater moves the getUpdates offset as soon as a batch is fetched,
so a hard kill could lose answers. Here the offset moves only after the whole batch went
through the handlers. Updates of one user are handled in order; different users in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)
LONG_POLL_SECONDS = 30
MAX_BACKOFF = 30.0


async def poll_until(
    app: Application[Any, Any, Any, Any, Any, Any],
    stop: asyncio.Event,
    *,
    long_poll: int = LONG_POLL_SECONDS,
) -> None:
    """Fetch, handle and confirm updates until `stop` is set."""
    offset, backoff = 0, 1.0
    while not stop.is_set():
        try:
            updates = await _fetch_or_stop(app, stop, offset=offset, long_poll=long_poll)
        except RetryAfter as error:
            await _sleep_or_stop(stop, _seconds(error.retry_after))
            continue
        except Conflict:
            log.error("another process polls with this token; waiting")
            await _sleep_or_stop(stop, 5.0)
            continue
        except (NetworkError, TelegramError) as error:
            log.warning("getUpdates failed (%s); retrying in %.0fs", type(error).__name__, backoff)
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        if updates:
            await handle_batch(app, updates)
            offset = updates[-1].update_id + 1
    if offset:
        with suppress(TelegramError):
            await app.bot.get_updates(offset=offset, timeout=0, limit=1)


async def handle_batch(
    app: Application[Any, Any, Any, Any, Any, Any], updates: Sequence[Update]
) -> None:
    """Handle a batch: each user's updates in order, users side by side."""
    lanes: defaultdict[int, list[Update]] = defaultdict(list)
    for update in updates:
        user = update.effective_user
        lanes[user.id if user else -update.update_id].append(update)
    await asyncio.gather(*(_handle_in_order(app, lane) for lane in lanes.values()))
    if app.persistence is not None:
        await app.update_persistence()  # conversation states stored before the batch is confirmed


async def _handle_in_order(
    app: Application[Any, Any, Any, Any, Any, Any], lane: list[Update]
) -> None:
    for update in lane:
        await app.process_update(update)


async def _fetch_or_stop(
    app: Application[Any, Any, Any, Any, Any, Any],
    stop: asyncio.Event,
    *,
    offset: int,
    long_poll: int,
) -> tuple[Update, ...]:
    fetch = asyncio.ensure_future(
        app.bot.get_updates(offset=offset, timeout=long_poll, allowed_updates=Update.ALL_TYPES)
    )
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not fetch.done():
        fetch.cancel()
        with suppress(asyncio.CancelledError, TelegramError):
            await fetch
        return ()
    return fetch.result()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
