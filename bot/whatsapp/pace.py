"""The WhatsApp number's own rate: at most `per_second` messages arrive at Meta in any second
(Meta allows 80 per number), replies to people first, broadcasts evenly spaced just below the
rate in what is left, and never more than one broadcast message a second to the same person
(Meta's pair rate is about one per six seconds on average, with bursts allowed: a round sends
each person one message).

As for Telegram (`bot.delivery.rate`), a call holds its slot from the moment it starts until
one second after its answer came back, so however the network bunches the calls together on
the way, no second at Meta's end can see more of them than the limit."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

PER_PERSON = 1.0
"""Seconds between two broadcast messages to one person."""
HEADROOM = 0.97
"""Broadcasts are spaced at this share of the rate, so replies always find a slot."""


class Pace:
    """Waits until a message may go, and holds its slot while it is under way."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.limit = max(1, math.floor(per_second))
        self.interval = 1.0 / (per_second * HEADROOM)
        self._in_flight = 0
        self._ended: deque[float] = deque()
        self._next_bulk = 0.0
        self._replies_waiting = 0
        self._people: dict[Hashable, float] = {}

    @asynccontextmanager
    async def slot(self, *, bulk: bool, person: Hashable | None = None) -> AsyncIterator[None]:
        """A reply waits for the next free slot, a broadcast for its turn; the slot is held
        until a second after the call's answer."""
        await self._take(bulk=bulk, person=person)
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._ended.append(time.monotonic())

    async def _take(self, *, bulk: bool, person: Hashable | None) -> None:
        if not bulk:
            self._replies_waiting += 1
        try:
            if bulk:
                await self._turn(person)
            while True:
                now = time.monotonic()
                while self._ended and now - self._ended[0] >= 1.0:
                    self._ended.popleft()
                full = self._in_flight + len(self._ended) >= self.limit
                if not full and not (bulk and self._replies_waiting):
                    return
                wait = self._ended[0] + 1.0 - now if full and self._ended else self.interval / 4
                await asyncio.sleep(max(wait, 0.001))
        finally:
            if not bulk:
                self._replies_waiting -= 1

    async def _turn(self, person: Hashable | None) -> None:
        """A broadcast message's place in the even spacing (and its person's pause)."""
        now = time.monotonic()
        earliest = now if person is None else self._people.get(person, now)
        slot = max(now, self._next_bulk, earliest)
        self._next_bulk = slot + self.interval
        if person is not None:
            if len(self._people) > 10_000:
                self._people = {k: v for k, v in self._people.items() if v > now}
            self._people[person] = slot + PER_PERSON
        if slot > now:
            await asyncio.sleep(slot - now)
