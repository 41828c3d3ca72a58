"""Slow down floods and repeated failures (wrong invite codes) per user, and drop an update
that comes twice; all in memory."""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque

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


class Seen:
    """The last `size` update ids, to drop an update delivered twice (a webhook retry)."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time an id comes; remembers it (forgetting the oldest beyond `size`)."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
