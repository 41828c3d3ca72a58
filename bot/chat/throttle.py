"""Slow down repeated failures (wrong invite codes) per user, and group chats' pointers; in
memory, per process (a flood is counted in the inbox, over every process: handlers/gate.py)."""

from __future__ import annotations

from collections import defaultdict, deque

FLOOD_LIMIT = 40
FLOOD_WINDOW = 60.0
"""Updates one person may have handled per window, on any channel (see handlers/gate.py)."""


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
        if not events:
            del self._events[key]  # keys come and go, so memory stays small
            return 0.0
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window - now

    def note(self, key: int, *, now: float) -> None:
        self._events[key].append(now)

    def admit(self, key: int, *, now: float) -> bool:
        """Note an event and say True while `key` is within its limit; False (noting nothing,
        so a flood does not lengthen its own wait) once it had `limit` events in the window."""
        if self.wait_seconds(key, now=now) > 0:
            return False
        self.note(key, now=now)
        return True

    def forget(self, key: int) -> None:
        self._events.pop(key, None)
