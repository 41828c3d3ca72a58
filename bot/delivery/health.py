"""Is Telegram reachable, is the database? One `Outage` per dependency, as this process sees it.

Everything that talks to a dependency reports to its `Outage`: a failure that may pass (5xx,
a timeout, a lost connection, a database that restarts) with `failed`, a success with `ok`.
The outage is what a person reads in the log: one WARNING when it starts, a short one now and
then while it lasts, one when it ends with what was retried; never a traceback per request.
The progress message and /status show `since`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime

log = logging.getLogger("achterban.health")
STILL_EVERY = 60.0
"""Seconds between the short "still not reachable" lines."""
PROBE_BACKOFF = (1.0, 2.0, 4.0, 5.0)
"""Seconds between tries while a dependency is away: capped, so it is never tried less often
than every 5 s and an outage that ends is noticed within 5 s."""


class Outage:
    """Reachability of one dependency (Telegram, the database) in this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: datetime | None = None
        """When the current outage started (UTC); None while reachable."""
        self.reason = ""
        self.retried: Counter[str] = Counter()
        self._started = 0.0
        self._said = 0.0
        self._tries = 0
        self._ok_at = 0.0
        self._up = asyncio.Event()
        self._up.set()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException, *, began: float | None = None) -> None:
        """A call failed in a way that may pass: start the outage, or say it lasts. A call
        that `began` (monotonic) before the last success says nothing new (it hung through
        an outage that has ended since)."""
        now = time.monotonic()
        if began is not None and began < self._ok_at:
            return
        self._tries += 1
        self.reason = describe(error)
        if self.since is None:
            self.since, self._started, self._said = datetime.now(UTC), now, now
            self._up.clear()
            log.warning("%s is not reachable (%s); trying again every few seconds", *self._what())
        elif now - self._said >= STILL_EVERY:
            self._said = now
            log.warning(
                "%s is still not reachable after %s (%s)",
                self.name,
                _duration(now - self._started),
                self.reason,
            )

    def ok(self) -> None:
        """A call went through: end the outage (saying how long and what was retried)."""
        self._ok_at = time.monotonic()
        if self.since is None:
            return
        lasted = _duration(time.monotonic() - self._started)
        retried = ", ".join(f"{count} {what}" for what, count in sorted(self.retried.items()))
        log.warning(
            "%s is reachable again after %s%s",
            self.name,
            lasted,
            f"; retried: {retried}" if retried else "",
        )
        self.since, self.reason, self._tries = None, "", 0
        self.retried.clear()
        self._up.set()

    def retry(self, what: str, count: int = 1) -> None:
        """Count what waits for the outage to end (told when it ends)."""
        self.retried[what] += count

    def backoff(self) -> float:
        """Seconds to wait before the next try."""
        return PROBE_BACKOFF[min(max(self._tries - 1, 0), len(PROBE_BACKOFF) - 1)]

    async def wait(self, seconds: float | None = None) -> None:
        """Until the outage ends, or `seconds` (default: the backoff) passed."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), self.backoff() if seconds is None else seconds)

    def _what(self) -> tuple[str, str]:
        return self.name, self.reason


def describe(error: BaseException) -> str:
    """A short reason, without the text of a server's page or of any message."""
    status = getattr(error, "message", "") or ""
    for phrase in ("Bad Gateway", "Service Unavailable", "Gateway Timeout", "Internal Server"):
        if phrase in status:
            return phrase
    return type(error).__name__


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


class Health:
    """What this process knows about its dependencies."""

    def __init__(self) -> None:
        self.telegram = Outage("Telegram")
        self.database = Outage("The database")


class _NoServerPages(logging.Filter):
    """python-telegram-bot logs every body that is not JSON (a proxy's 502 page) with a
    traceback and the page itself; the outage says it once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Can not load invalid JSON data")


def quiet_server_pages() -> None:
    """Install the filter once on python-telegram-bot's request logger."""
    logger = logging.getLogger("telegram.request.BaseRequest")
    if not any(isinstance(f, _NoServerPages) for f in logger.filters):
        logger.addFilter(_NoServerPages())
