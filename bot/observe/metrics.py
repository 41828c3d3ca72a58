"""The process's Prometheus metrics: one registry, and small functions the rest calls.

Nothing personal goes in: labels are a channel, an outcome or an exception class name, and
values are counts, ages and durations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

from storage import observe
from storage.db import Database
from storage.models import CHANNELS, DeliveryStatus, utcnow
from storage.observe import Backlog

CONTENT_TYPE = CONTENT_TYPE_LATEST
READ_TIMEOUT = 5.0
"""Seconds the backlog read may take before the database counts as down."""
OUTCOMES = tuple(status.value for status in DeliveryStatus if status is not DeliveryStatus.claimed)
"""A row's outcome as the outbox records it (pending: to be tried again later)."""

disable_created_metrics()  # no *_created series beside every counter and histogram
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # resident memory, CPU seconds, open files

INBOX_PENDING = Gauge(
    "achterban_inbox_pending", "Updates in the inbox not handled yet", registry=REGISTRY
)
INBOX_OLDEST = Gauge(
    "achterban_inbox_oldest_seconds",
    "Age of the oldest update not handled yet (0 when none)",
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "achterban_outbox_pending",
    "Outbox rows still to send (pending or claimed)",
    ["channel"],
    registry=REGISTRY,
)
OUTBOX_OLDEST = Gauge(
    "achterban_outbox_oldest_seconds",
    "Age of the round of the oldest outbox row still to send (0 when none)",
    ["channel"],
    registry=REGISTRY,
)
SENDS = Counter(
    "achterban_sends",
    "Outcomes of outbox rows recorded by this process",
    ["channel", "outcome"],
    registry=REGISTRY,
)
TAPS = Histogram(
    "achterban_tap_seconds",
    "From an update's arrival to its handling done",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
ERRORS = Counter(
    "achterban_errors", "Errors while handling, by exception class", ["type"], registry=REGISTRY
)
LEADER = Gauge(
    "achterban_leader", "1 while this process runs the scheduled jobs", registry=REGISTRY
)
DATABASE_UP = Gauge(
    "achterban_database_up", "1 when the database answered the last read", registry=REGISTRY
)
for _channel in CHANNELS:
    OUTBOX_PENDING.labels(_channel)
    OUTBOX_OLDEST.labels(_channel)
    for _outcome in OUTCOMES:
        SENDS.labels(_channel, _outcome)


def observe_tap(seconds: float) -> None:
    """An update was handled `seconds` after it arrived."""
    TAPS.observe(max(seconds, 0.0))


def count_error(error: BaseException) -> None:
    """An error while handling something (only its class name is kept)."""
    ERRORS.labels(type(error).__name__).inc()


def count_send(channel: str, outcome: str) -> None:
    """The outcome of one outbox row (a DeliveryStatus value) on `channel`."""
    SENDS.labels(channel, outcome).inc()


def set_leader(leading: bool) -> None:
    """Whether this process runs the scheduled jobs now."""
    LEADER.set(1 if leading else 0)


@dataclass(frozen=True)
class Backlogs:
    """The inbox's backlog and the outbox's per channel, as read from the database."""

    inbox: Backlog
    outbox: dict[str, Backlog] = field(default_factory=dict)


async def refresh(db: Database) -> Backlogs | None:
    """Read the backlogs in one read unit of work and set their gauges; None (and
    database_up 0) when the database does not answer."""
    try:
        backlogs = await asyncio.wait_for(_read(db), timeout=READ_TIMEOUT)
    except Exception:
        DATABASE_UP.set(0)
        return None
    DATABASE_UP.set(1)
    INBOX_PENDING.set(backlogs.inbox.pending)
    INBOX_OLDEST.set(backlogs.inbox.oldest_seconds)
    for channel, backlog in backlogs.outbox.items():
        OUTBOX_PENDING.labels(channel).set(backlog.pending)
        OUTBOX_OLDEST.labels(channel).set(backlog.oldest_seconds)
    return backlogs


async def _read(db: Database) -> Backlogs:
    now = utcnow()
    async with db.read() as session:
        inbox = await observe.inbox_backlog(session, now=now)
        outbox = await observe.outbox_backlog(session, now=now)
    return Backlogs(inbox, {channel: outbox.get(channel, Backlog()) for channel in CHANNELS})


def render() -> bytes:
    """Every series of this process in the Prometheus text format."""
    return generate_latest(REGISTRY)
