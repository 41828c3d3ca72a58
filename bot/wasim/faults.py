"""Fault switches: injected error codes, asynchronous failures and the throughput limit."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class Injected:
    """A code for the next `count` sends (to one recipient, or to anyone; of one message type,
    such as "interactive", or of any)."""

    code: int
    count: int
    to: str | None
    kind: str | None = None


class Faults:
    """What the next sends run into."""

    def __init__(self) -> None:
        self.injected: list[Injected] = []
        self.failed_status: dict[str, list[int]] = {}
        self._accepted: deque[float] = deque()

    def fail_next(self, code: int, count: int, to: str | None, kind: str | None = None) -> None:
        """Queue an error code for the next sends."""
        if count > 0:
            self.injected.append(Injected(code, count, to, kind))

    def take(self, recipients: set[str], kind: str | None = None) -> int | None:
        """The injected code for a send of `kind` to one of these ids (used up), or None."""
        for item in self.injected:
            if (item.to is None or item.to in recipients) and item.kind in (None, kind):
                item.count -= 1
                if item.count <= 0:
                    self.injected.remove(item)
                return item.code
        return None

    def fail_status(self, code: int, to: str) -> None:
        """Make the next accepted send to `to` fail asynchronously with this code."""
        self.failed_status.setdefault(to, []).append(code)

    def take_status(self, recipients: set[str]) -> int | None:
        """The asynchronous failure waiting for one of these ids (used up), or None."""
        for to in recipients:
            codes = self.failed_status.get(to)
            if codes:
                code = codes.pop(0)
                if not codes:
                    del self.failed_status[to]
                return code
        return None

    def over_rate(self, now: float, per_second: float | None) -> bool:
        """Whether one more send now would exceed `per_second` accepted sends in 1 s."""
        if per_second is None:
            return False
        while self._accepted and self._accepted[0] <= now - 1.0:
            self._accepted.popleft()
        return len(self._accepted) + 1 > per_second

    def accepted(self, now: float) -> None:
        """Count an accepted send for the throughput limit."""
        self._accepted.append(now)
