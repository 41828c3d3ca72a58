"""One rate limit for every call the bot makes to Telegram, with replies to people first.

Telegram counts about 30 messages a second per bot, as they arrive. python-telegram-bot's
`AIORateLimiter` is a leaky bucket that lets a full second's worth through at once on top of
the rate (60 in one second at 30/s), and it serves a reply to a tap in the same queue as a
broadcast. `SendLimiter` replaces it:

- **Never over the rate, as the server sees arrivals.** A call that names a chat takes one of
  `limit` slots and holds it while in flight and for one window (a second) after its answer
  came. A call arrives between its start and its answer, so in any one-second window at most
  `limit` calls can arrive, however the network or a busy event loop delays them. It costs the
  round trip: at 30/s with 20 ms per call, about 29.4 calls a second get through.
- **Replies first.** Calls of people's updates wait in one queue, bulk sends (the outbox and
  its progress messages, `rate_limit_args={"bulk": True}`) in another; a free slot goes to a
  reply first, so a broadcast takes what replies leave (as RapidPro's courier does). Bulk
  sends also start evenly spaced (just below the rate) and at most one per second per chat,
  and only one waits for a slot at a time, so no burst of bulk sends can crowd a reply out.
- **A 429 pauses every call** for its retry_after; a reply is tried again (three times at
  most), a bulk send goes back to the outbox, which tries it later.
- **Telegram away** (5xx, timeouts, lost connections) is an outage (`bot.delivery.health.Outage`):
  while it lasts one call at a time tries, with capped backoff (at least every 5 s). A reply
  waits for the outage to end and is tried again, for `reply_retry` seconds; a bulk send that
  is not the one trying fails at once with `TelegramUnreachable`, without having gone out.
  getUpdates is never limited or held, and tells the outage when Telegram answers again.

Group chats are not limited separately (Telegram's 20 a minute per group): the bot sends a
group at most one pointer a minute (`handlers/gate.py`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.health import Outage

HEADROOM = 0.97
"""Bulk sends start at 97% of the rate, so replies always find a slot soon."""
PER_CHAT_SECONDS = 1.0
LATE = 0.002
"""Seconds a bulk send may start after its moment and still keep the schedule."""
REPLY_RETRY_SECONDS = 120.0
RETRY_AFTER_TRIES = 3
BULK: dict[str, Any] = {"bulk": True}
"""`rate_limit_args` of a bulk send."""
Result = bool | dict[str, Any] | list[dict[str, Any]]


class _NotNow(Exception):
    """A slot came, but Telegram went away meanwhile and this call is not the one to try."""


class TelegramUnreachable(NetworkError):
    """Telegram is away and this bulk send was not the one to try: it did not go out."""

    def __init__(self) -> None:
        super().__init__("Telegram is not reachable; not sent")


class SendLimiter(BaseRateLimiter[dict[str, Any]]):
    """Slots per second shared by replies (first) and bulk sends; see the module docstring."""

    def __init__(self, *, per_second: float, telegram: Outage, reply_retry: float = 0.0) -> None:
        self.limit = max(1, math.floor(per_second))
        self.window = max(1.0, self.limit / per_second)
        self.bulk_interval = 1.0 / (per_second * HEADROOM)
        self.telegram = telegram
        self.reply_retry = reply_retry
        """Seconds a reply is tried again while Telegram is away: none at start-up (an
        unreachable Telegram is then one clear line), `REPLY_RETRY_SECONDS` once running."""
        self._busy = 0
        self._ended: deque[float] = deque()
        self._replies: deque[asyncio.Future[None]] = deque()
        self._bulk: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._paused_until = 0.0
        self._bulk_turn = asyncio.Lock()
        self._next_bulk = 0.0
        self._chat_last: dict[int, float] = {}
        self._pruned = 0.0
        self._probing = False
        self._next_probe = 0.0

    def be_patient(self) -> None:
        """From now on replies wait for an outage to end (see `reply_retry`)."""
        self.reply_retry = REPLY_RETRY_SECONDS

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Result:
        """Run one Bot API call within the limit (see the module docstring)."""
        if endpoint.lower() == "getupdates":
            return await self._unlimited(callback, args, kwargs)
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        chat_id = _chat_id(data.get("chat_id"))
        deadline = time.monotonic() + self.reply_retry
        told, retry_afters = False, 0
        while True:
            probe = await self._reachable(bulk=bulk, deadline=deadline)
            began = time.monotonic()
            try:
                result = await self._within_limit(
                    callback, args, kwargs, chat_id, bulk=bulk, probe=probe
                )
            except _NotNow:  # Telegram went away while this call waited for its slot
                if bulk:
                    raise TelegramUnreachable from None
                continue
            except RetryAfter as error:
                self.telegram.ok()
                self._pause(_seconds(error.retry_after) + 0.1)
                retry_afters += 1
                if bulk or retry_afters > RETRY_AFTER_TRIES:
                    raise
                continue
            except BadRequest:
                self.telegram.ok()
                raise
            except NetworkError as error:  # 5xx, timeouts, lost connections
                self.telegram.failed(error, began=began)
                if bulk or time.monotonic() >= deadline:
                    raise
                if not told:
                    self.telegram.retry("replies")
                    told = True
                continue
            finally:
                if probe:
                    self._probing = False
                    self._next_probe = time.monotonic() + self.telegram.backoff()
            self.telegram.ok()
            return result

    async def _unlimited(
        self, callback: Callable[..., Coroutine[Any, Any, Result]], args: Any, kwargs: Any
    ) -> Result:
        """getUpdates: never held; its failures and successes tell the outage."""
        began = time.monotonic()
        try:
            result = await callback(*args, **kwargs)
        except BadRequest:
            raise
        except NetworkError as error:
            self.telegram.failed(error, began=began)
            raise
        self.telegram.ok()
        return result

    async def _reachable(self, *, bulk: bool, deadline: float) -> bool:
        """While Telegram is away: True when this call is the one to try now; a reply waits
        for its turn or the end of the outage, a bulk send is refused."""
        while self.telegram.down:
            now = time.monotonic()
            if not self._probing and now >= self._next_probe:
                self._probing = True
                return True
            if bulk or now >= deadline:
                raise TelegramUnreachable
            pause = 0.5 if self._probing else self._next_probe - now  # until the next try
            await self.telegram.wait(min(max(pause, 0.05), deadline - now))
        return False

    async def _within_limit(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: Any,
        chat_id: int | None,
        *,
        bulk: bool,
        probe: bool,
    ) -> Result:
        if chat_id is None:
            pause = self._paused_until - time.monotonic()
            if pause > 0:  # a 429: every call waits it out
                await asyncio.sleep(pause)
            return await callback(*args, **kwargs)
        if bulk:
            async with self._bulk_turn:  # one bulk send at a time waits for its slot
                await self._bulk_spacing(chat_id)
                await self._slot(self._bulk)
        else:
            await self._slot(self._replies)
        if self.telegram.down and not probe:
            self._busy -= 1  # not used: the slot goes to the next
            self._dispatch()
            raise _NotNow
        now = time.monotonic()
        self._chat_last[chat_id] = now
        if now - self._pruned > PER_CHAT_SECONDS:
            self._chat_last = {c: at for c, at in self._chat_last.items() if now - at < 1.0}
            self._pruned = now
        try:
            return await callback(*args, **kwargs)
        finally:
            self._busy -= 1
            self._ended.append(time.monotonic())
            self._dispatch()

    async def _bulk_spacing(self, chat_id: int) -> None:
        """Bulk sends start evenly spaced, and a second after the chat's last call."""
        now = time.monotonic()
        earliest = self._chat_last.get(chat_id, -PER_CHAT_SECONDS) + PER_CHAT_SECONDS
        ready = max(self._next_bulk, earliest)
        if ready - now > LATE:  # (a shorter wait is not worth a turn of the event loop)
            await asyncio.sleep(ready - now)
        started = time.monotonic()
        self._next_bulk = max(ready, started - LATE) + self.bulk_interval

    async def _slot(self, lane: deque[asyncio.Future[None]]) -> None:
        """Take a slot, replies before bulk sends."""
        waiting = self._replies or (lane is self._bulk and self._bulk)
        if not waiting and self._free():
            self._busy += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.append(future)
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._busy -= 1  # given a slot just as we were cancelled: hand it on
                self._ended.append(time.monotonic())
                self._dispatch()
            elif future in lane:
                lane.remove(future)
            raise

    def _free(self) -> bool:
        """A slot is free (and no 429 is being waited out)."""
        if time.monotonic() < self._paused_until:
            return False
        horizon = time.monotonic() - self.window
        while self._ended and self._ended[0] <= horizon:
            self._ended.popleft()
        return self._busy + len(self._ended) < self.limit

    def _dispatch(self) -> None:
        """Hand free slots to waiters, replies first; wake up again when the next frees."""
        while (self._replies or self._bulk) and self._free():
            future = (self._replies or self._bulk).popleft()
            if not future.done():
                self._busy += 1
                future.set_result(None)
        if not (self._replies or self._bulk) or self._timer is not None:
            return
        now = time.monotonic()
        if now < self._paused_until:
            delay = self._paused_until - now
        elif self._ended:
            delay = self._ended[0] + self.window - now
        else:
            return  # every slot is in flight: the next to end dispatches
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._wake)

    def _wake(self) -> None:
        self._timer = None
        self._dispatch()

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        if self._timer is not None:  # wake up when the pause ends, not before
            self._timer.cancel()
            self._timer = None
        self._dispatch()


def _chat_id(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return hash(value)  # an @channelname: limited like any chat


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
