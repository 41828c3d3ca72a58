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
READ_MARGIN = 5.0  # python-telegram-bot's own read timeout on top of the long poll
GET_UPDATES = "getupdates"
"""Method names are case-insensitive in the Bot API; this spelling gets the raw batch through
`do_api_request` without its warning that `bot.get_updates` exists (which we avoid, see
`readable`)."""


async def poll_until(
    app: Application[Any, Any, Any, Any, Any, Any],
    stop: asyncio.Event,
    *,
    long_poll: int = LONG_POLL_SECONDS,
) -> None:
    """Fetch, handle and confirm updates until `stop` is set."""
    offset, confirmed, backoff = 0, 0, 1.0
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
        backoff, confirmed = 1.0, offset  # that getUpdates carried the offset to Telegram
        if updates:
            await handle_batch(app, readable(app, updates))
            offset = max(offset, *(_update_id(data) + 1 for data in updates))
    if offset > confirmed:  # stopped right after a batch: confirm it. (A stop during a long
        # poll needs no call, as that poll carried the offset; one would wait behind it.)
        with suppress(TelegramError):
            await _get_updates(app, offset=offset, long_poll=0, limit=1)


def readable(app: Application[Any, Any, Any, Any, Any, Any], batch: Sequence[Any]) -> list[Update]:
    """The updates of a raw batch that python-telegram-bot can read. One it cannot read (a
    field it does not know yet, or a broken update) is logged by id and error type, never its
    text, and skipped; `bot.get_updates` would fail the whole batch, every time, and stop us."""
    updates = []
    for data in batch:
        try:
            updates.append(Update.de_json(data, app.bot))
        except Exception as error:
            log.warning(
                "update %s is unreadable (%s); skipped", _update_id(data), type(error).__name__
            )
    return updates


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


async def _get_updates(
    app: Application[Any, Any, Any, Any, Any, Any], *, offset: int, long_poll: int, limit: int = 100
) -> Any:
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
