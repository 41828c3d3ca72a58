"""Invite codes kept in memory for an hour, so a poster can still be drawn after the invite was
made. Never in the database: there an invite is only the SHA-256 of its code, so a leak reveals
no codes.

One process takes the updates, so the one that made the invite is the one that gets the tap on
"Make a poster"; after a restart the codes are gone and the tap is answered "too late".
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

LIFETIME = 3600.0
"""Seconds a code is kept for its poster."""
LIMIT = 1000
"""Codes kept at most; beyond that the oldest go first."""


@dataclass(frozen=True, slots=True)
class _Kept:
    code: str
    owner: Hashable
    until: float


class KeptCodes:
    """Codes of invites by invite id, each for `lifetime` seconds, at most `limit` of them, and
    only for the one who made the invite (`owner`: anything that compares, e.g. an address)."""

    def __init__(
        self,
        *,
        lifetime: float = LIFETIME,
        limit: int = LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lifetime, self._limit, self._clock = lifetime, limit, clock
        self._kept: OrderedDict[int, _Kept] = OrderedDict()

    def keep(self, invite_id: int, *, code: str, owner: Hashable) -> None:
        """Keep the code of a new invite; the oldest one goes when there are too many."""
        self._drop_expired()
        self._kept.pop(invite_id, None)
        self._kept[invite_id] = _Kept(code, owner, self._clock() + self._lifetime)
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)

    def code(self, invite_id: int, *, owner: Hashable) -> str | None:
        """The code of the invite, while it is kept and only for its owner; else None."""
        self._drop_expired()
        kept = self._kept.get(invite_id)
        return kept.code if kept is not None and kept.owner == owner else None

    def forget(self, invite_id: int) -> None:
        self._kept.pop(invite_id, None)

    def __len__(self) -> int:
        self._drop_expired()
        return len(self._kept)

    def _drop_expired(self) -> None:
        """Codes are kept in the order they expire, so the expired ones are at the front."""
        now = self._clock()
        while self._kept and next(iter(self._kept.values())).until <= now:
            self._kept.popitem(last=False)
