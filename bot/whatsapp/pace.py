"""The WhatsApp number's own rate: at most `per_second` messages in any second (Meta allows
80 per number), replies to people first, broadcasts evenly spaced in what is left, and never
more than one broadcast message a second to the same person (Meta's pair rate is about one
per six seconds on average, with bursts allowed: a round sends each person one message)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable

PER_PERSON = 1.0
"""Seconds between two broadcast messages to one person."""


class Pace:
    """Waits until a message may go."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.interval = 1.0 / per_second
        self._starts: deque[float] = deque()
        self._next_bulk = 0.0
        self._replies_waiting = 0
        self._people: dict[Hashable, float] = {}

    async def take(self, *, bulk: bool, person: Hashable | None = None) -> None:
        """Wait for a free slot: a reply for the next one, a broadcast for its turn."""
        if not bulk:
            self._replies_waiting += 1
        try:
            if bulk:
                await self._turn(person)
            while True:
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= 1.0:
                    self._starts.popleft()
                full = len(self._starts) >= self.per_second
                if not full and not (bulk and self._replies_waiting):
                    self._starts.append(now)
                    return
                wait = self._starts[0] + 1.0 - now if full else self.interval / 4
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
