"""Bot API methods that hand updates to the bot: getUpdates and the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.botapi.errors import bad_request, conflict
from bot.botapi.params import Params

if TYPE_CHECKING:
    from bot.botapi.server import LocalBotApi

# How long a new getUpdates waits for a previous, abandoned long poll to go away.
POLLER_GRACE = 0.3
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@contextlib.asynccontextmanager
async def sole_poller(api: LocalBotApi) -> AsyncIterator[None]:
    """Hold the single getUpdates slot, or fail with Telegram's Conflict."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLLER_GRACE
    while api.queue.poller_busy:
        if loop.time() >= deadline:
            raise conflict(
                "terminated by other getUpdates request;"
                " make sure that only one bot instance is running"
            )
        await asyncio.sleep(0.01)
    api.queue.poller_busy = True
    try:
        yield
    finally:
        api.queue.poller_busy = False


async def get_updates(api: LocalBotApi, p: Params) -> object:
    """getUpdates: confirm below offset, then long-poll up to timeout seconds."""
    if api.webhook.active:
        raise conflict(
            "can't use getUpdates method while webhook is active;"
            " use deleteWebhook to delete the webhook first"
        )
    async with sole_poller(api):
        offset = p.opt_int("offset")
        if offset:
            api.queue.confirm_below(offset)
        api.queue.set_allowed(p.raw("allowed_updates"))
        limit = min(max(p.opt_int("limit") or 100, 1), 100)
        timeout = p.raw("timeout")
        seconds = float(timeout) if isinstance(timeout, int | float | str) and timeout else 0.0
        if seconds > 0:
            await api.queue.wait_for_pending(seconds)
        return api.queue.hand_out(limit)


def drop_pending_if_asked(api: LocalBotApi, p: Params) -> None:
    """Honour drop_pending_updates and remember that the bot asked for it."""
    if p.flag("drop_pending_updates"):
        api.drop_pending_requested = True
        api.queue.drop(list(api.queue.pending), "the bot asked to drop_pending_updates")


async def set_webhook(api: LocalBotApi, p: Params) -> object:
    """setWebhook: deliver updates by POST from now on (an empty url removes it)."""
    url = p.opt_str("url") or ""
    secret = p.opt_str("secret_token")
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    drop_pending_if_asked(api, p)
    api.queue.set_allowed(p.raw("allowed_updates"))
    if url:
        await api.webhook.set(url, secret, p.opt_int("max_connections") or 40)
    else:
        await api.webhook.clear()
    return True


async def delete_webhook(api: LocalBotApi, p: Params) -> object:
    """deleteWebhook: back to getUpdates."""
    drop_pending_if_asked(api, p)
    await api.webhook.clear()
    return True


async def get_webhook_info(api: LocalBotApi, p: Params) -> object:
    """getWebhookInfo."""
    return api.webhook.info()
