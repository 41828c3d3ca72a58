"""The outbox worker: sends pending deliveries (one row per recipient) and records the result.

Rounds write their rows in the same transaction as the round. This worker claims a batch
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work without
overlap), composes every message in one transaction, sends outside any transaction, and
stores the batch's results in one statement: sent (with message id), blocked (403: the
subscription is marked blocked, no retry), failed (after retries), uncertain (a timeout after
the request went out: it may have arrived, so it is not sent again), or pending again later
(429, 5xx, a lost connection: with backoff; quiet hours: until they end).

The worker spaces its sends evenly at the configured rate (30 per second by default) and at
most one per second per chat; python-telegram-bot's AIORateLimiter additionally caps every
request the bot makes, and waits out a 429 before going on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.asking import next_question
from bot.progress import Progress
from bot.questions import closes_on
from bot.quiet import quiet_until
from bot.texts import texts_for
from storage import outbox, people, polls
from storage.db import Database
from storage.models import DeliveryStatus, FollowUp, RoundKind, utcnow
from storage.outbox import Claimed, Outcome
from storage.polls import PollView
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
BATCH = 50
MAX_ATTEMPTS = 5
IDLE_SECONDS = 1.0
LEASE = timedelta(minutes=10)  # longer than any batch, 429 waits included
PER_CHAT_SECONDS = 1.0
Message = tuple[str, InlineKeyboardMarkup | None]


class Outbox:
    """One background task that drains the outbox; `kick()` wakes it when rows were added."""

    def __init__(
        self,
        *,
        bot: Bot,
        db: Database,
        pseudonym_key: str,
        messages_per_second: float = 30.0,
        paid: bool = False,
    ) -> None:
        self.bot = bot
        self.db = db
        self.pseudonym_key = pseudonym_key
        self.paid = paid
        self.interval = 1.0 / messages_per_second
        self._next_slot = 0.0
        self.progress = Progress(bot=bot, db=db)
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()
        self._last_sent: dict[int, float] = {}
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wake.set()

    async def start(self, *, only_process: bool) -> None:
        """Release rows claimed by a process that died, then start the worker.

        The only process (SQLite) releases every claimed row at once; with several processes
        (PostgreSQL) only rows older than the lease, which no live process still holds."""
        await self.release_stale(now=utcnow() + (LEASE if only_process else timedelta(0)))
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self, *, grace: float = 30.0) -> None:
        """Let the batch in hand finish and be recorded (so a normal restart sends nothing
        twice), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self._task, self._stopping = None, False

    async def release_stale(self, *, now: datetime) -> int:
        async with self.db.begin() as session:
            return await outbox.release_stale(session, claimed_before=now - LEASE)

    async def drain(self) -> int:
        """Send everything that is due now (after any drain already running in this process);
        returns how many rows this call handled."""
        handled = 0
        async with self._draining:
            while not self._stopping:
                async with self.db.begin() as session:
                    jobs = await outbox.claim(session, now=utcnow(), limit=BATCH)
                if not jobs:
                    return handled
                await self._send_batch(jobs)
                handled += len(jobs)
        return handled

    async def _run(self) -> None:
        released_at = time.monotonic()
        while not self._stopping:
            try:
                await self.drain()
                if time.monotonic() - released_at > LEASE.total_seconds() / 2:
                    await self.release_stale(now=utcnow())
                    released_at = time.monotonic()
            except Exception as error:
                log.error("outbox round failed (%s); trying again shortly", type(error).__name__)
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)

    async def _send_batch(self, jobs: list[Claimed]) -> None:
        now = utcnow()
        outcomes: list[Outcome] = []
        to_send: list[tuple[Claimed, Message]] = []
        async with self.db.begin() as session:
            views: dict[int, PollView] = {}
            for job in jobs:
                later = quiet_until(
                    now, timezone=job.timezone, start=job.quiet[0], end=job.quiet[1]
                )
                if later is not None:
                    outcomes.append(_again(job, later, attempts=job.attempts))
                    continue
                message = await self._compose_safely(session, job, views)
                if message is None:
                    outcomes.append(Outcome(job.delivery_id, DeliveryStatus.skipped, job.attempts))
                else:
                    to_send.append((job, message))
        outcomes += await asyncio.gather(
            *(self._send_safely(job, message) for job, message in to_send)
        )
        blocked = [
            job.telegram_id
            for job, _ in to_send
            if _status(outcomes, job) is DeliveryStatus.blocked
        ]
        async with self.db.begin() as session:
            await outbox.record(session, outcomes=outcomes)
            for telegram_id in blocked:
                await people.mark_blocked(session, telegram_id=telegram_id, blocked=True)
        rounds = {job.round_id for job in jobs}
        await self.progress.report(rounds)
        async with self.db.begin() as session:
            await outbox.forget_finished_reminders(session, round_ids=rounds)

    async def _compose_safely(
        self, session: Any, job: Claimed, views: dict[int, PollView]
    ) -> Message | None:
        """The message for one row; None (skipped) for who stopped, or a poll that closed."""
        if not job.reachable:
            return None
        try:
            async with session.begin_nested():
                return await self._compose(session, job, views)
        except Exception as error:
            log.error("could not compose delivery %s (%s)", job.delivery_id, type(error).__name__)
            return None

    async def _send_safely(self, job: Claimed, message: Message) -> Outcome:
        """Send one row; whatever goes wrong, the row gets an outcome (the batch is recorded)."""
        try:
            return await self._send(job, message)
        except Exception as error:
            log.error("delivery %s failed (%s)", job.delivery_id, type(error).__name__)
            return Outcome(
                job.delivery_id, DeliveryStatus.failed, job.attempts + 1, error=_short(error)
            )

    async def _compose(
        self, session: Any, job: Claimed, views: dict[int, PollView]
    ) -> Message | None:
        t = texts_for(job.language)
        if job.poll_id not in views:
            views[job.poll_id] = await polls.load_poll(session, poll_id=job.poll_id)
        view = views[job.poll_id]
        if job.kind is RoundKind.followup:
            followup = await session.get(FollowUp, job.followup_id)
            return t("followup.message", title=view.poll.title, text=followup.text), None
        key = pseudonym(self.pseudonym_key, poll_id=job.poll_id, telegram_id=job.telegram_id)
        question = await next_question(
            session, t, view=view, pseudonym=key, telegram_id=job.telegram_id
        )
        if job.kind is RoundKind.reminder and question is not None:
            text, markup = question
            return f"{t('reminder.intro', closes=closes_on(view))}\n\n{text}", markup
        return question

    async def _send(self, job: Claimed, message: Message) -> Outcome:
        text, markup = message
        await self._pace(job.telegram_id)
        attempts = job.attempts + 1
        try:
            sent = await self.bot.send_message(
                job.telegram_id,
                text,
                reply_markup=markup,
                api_kwargs={"allow_paid_broadcast": True} if self.paid else None,
            )
        except Forbidden:
            return Outcome(job.delivery_id, DeliveryStatus.blocked, attempts, error="blocked")
        except TimedOut as error:
            if isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
                return _again(
                    job, utcnow() + timedelta(seconds=2**attempts), attempts=attempts, error=error
                )
            return Outcome(job.delivery_id, DeliveryStatus.uncertain, attempts, error="timed out")
        except BadRequest as error:
            return Outcome(job.delivery_id, DeliveryStatus.failed, attempts, error=_short(error))
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            return _again(
                job, utcnow() + timedelta(seconds=wait), attempts=job.attempts, error=error
            )
        except NetworkError as error:
            if attempts >= MAX_ATTEMPTS:
                return Outcome(
                    job.delivery_id, DeliveryStatus.failed, attempts, error=_short(error)
                )
            return _again(
                job, utcnow() + timedelta(seconds=2**attempts), attempts=attempts, error=error
            )
        return Outcome(
            job.delivery_id,
            DeliveryStatus.sent,
            attempts,
            message_id=sent.message_id,
            sent_at=utcnow(),
        )

    async def _pace(self, chat_id: int) -> None:
        """Evenly spaced sends at the configured rate, and at most one per second per chat.

        Each send takes the next free slot before it waits, so sends running side by side
        never burst above the rate."""
        now = time.monotonic()
        slot = max(
            now, self._next_slot, self._last_sent.get(chat_id, -PER_CHAT_SECONDS) + PER_CHAT_SECONDS
        )
        self._next_slot = max(self._next_slot, now) + self.interval
        self._last_sent[chat_id] = slot
        if len(self._last_sent) > 100_000:
            self._last_sent.clear()
        if slot > now:
            await asyncio.sleep(slot - now)


def _again(
    job: Claimed, when: datetime, *, attempts: int, error: Exception | None = None
) -> Outcome:
    return Outcome(
        job.delivery_id,
        DeliveryStatus.pending,
        attempts,
        error=_short(error) if error else None,
        not_before=when,
    )


def _status(outcomes: list[Outcome], job: Claimed) -> DeliveryStatus | None:
    return next((o.status for o in outcomes if o.delivery_id == job.delivery_id), None)


def _short(error: Exception) -> str:
    return type(error).__name__[:64]


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
