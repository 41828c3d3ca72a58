"""Slow down repeated failures (wrong invite codes) and floods, per user, in memory."""

from __future__ import annotations

from collections import defaultdict, deque


class Throttle:
    """Allows `limit` events per `window` seconds per key; says how long to wait after that."""

    def __init__(self, *, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: defaultdict[int, deque[float]] = defaultdict(deque)

    def wait_seconds(self, key: int, *, now: float) -> float:
        """0 when `key` may go on; otherwise the seconds until its oldest event expires."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now

    def note(self, key: int, *, now: float) -> None:
        self._events[key].append(now)

    def forget(self, key: int) -> None:
        self._events.pop(key, None)
