"""The outbox worker: sends pending deliveries (one row per recipient) and records the result.

Rounds write their rows in the same transaction as the round. This worker claims a batch
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work without
overlap), composes every message in one transaction, sends outside any transaction, and
stores the batch's results in one statement: sent (with message id), blocked (403: the
subscription is marked blocked, no retry), failed (after retries), uncertain (a timeout after
the request went out: it may have arrived, so it is not sent again), or pending again later
(429, 5xx, a lost connection: with backoff; quiet hours: until they end).

The worker spaces its sends evenly, just below the configured rate (30 per second by default),
and at most one per second per chat; python-telegram-bot's AIORateLimiter additionally caps every
request the bot makes, and waits out a 429 before going on. While one batch is being sent the
next is claimed and composed, so the sends go on without a pause between batches; a batch is
recorded before the next one is sent, so at most one batch is in flight (and may arrive twice
after a crash).

Composing is cheap for the common case: one query finds who of the batch already answered the
poll; everyone else gets the poll's first question, composed once per language (as is a
follow-up).
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.asking import next_question
from bot.progress import Progress
from bot.questions import closes_on
from bot.quiet import quiet_until
from bot.texts import Texts, texts_for
from storage import outbox, people, polls
from storage.db import Database
from storage.models import DeliveryStatus, FollowUp, QuestionKind, RoundKind, utcnow
from storage.outbox import Claimed, Outcome
from storage.polls import PollView
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
BATCH = 50
MAX_ATTEMPTS = 5
IDLE_SECONDS = 1.0
LEASE = timedelta(minutes=10)  # longer than any batch, 429 waits included
PER_CHAT_SECONDS = 1.0
HEADROOM = 0.97
"""Sends are timed at 97% of the configured rate: Telegram counts them when they arrive, and a
few milliseconds of jitter on sends timed exactly at the limit would put one too many into
some second."""
Message = tuple[str, InlineKeyboardMarkup | None]
Shared = tuple[RoundKind, int | None, str]
"""Rows with the same (kind, poll or follow-up id, language) get one message composed once."""


@dataclass
class Batch:
    """Claimed rows, composed: what to send, and the outcomes of rows that need no send."""

    jobs: list[Claimed]
    to_send: list[tuple[Claimed, Message]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class Composing:
    """What composing one batch shares between its rows (one transaction)."""

    session: Any
    views: dict[int, PollView | None] = field(default_factory=dict)
    answered: set[str] | None = None
    """Pseudonyms of the batch's recipients who already have answers in the poll (None: not
    known, so nobody gets the first question without `next_question` looking)."""
    messages: dict[Shared, Message | None] = field(default_factory=dict)
    """Messages composed once for the rows that share them (see `Outbox._shared`)."""


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
        self.interval = 1.0 / (messages_per_second * HEADROOM)
        self._next_slot = 0.0
        self.progress = Progress(bot=bot, db=db, pace=self._pace)
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()
        self._last_sent: dict[int, float] = {}
        self._pacing = asyncio.Lock()
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
        returns how many rows this call handled.

        The next batch is claimed and composed while this one is being sent; it is sent only
        after this one is recorded (even when stopping: a claimed batch is always sent)."""
        handled = 0
        async with self._draining:
            batch = None if self._stopping else await self._next_batch()
            while batch is not None:
                sending = asyncio.create_task(self._send_all(batch))
                try:
                    upcoming = None if self._stopping else await self._next_batch()
                except asyncio.CancelledError:
                    sending.cancel()
                    raise
                except Exception:
                    await self._record(batch, await sending, None)  # what went out is recorded
                    raise
                await self._record(batch, await sending, upcoming)
                handled += len(batch.jobs)
                batch = upcoming
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

    async def _next_batch(self) -> Batch | None:
        """Claim due rows and compose their messages; None when nothing is due."""
        async with self.db.begin() as session:
            jobs = await outbox.claim(session, now=utcnow(), limit=BATCH)
        if not jobs:
            return None
        now = utcnow()
        batch = Batch(jobs)
        async with self.db.begin() as session:
            composing = Composing(session)
            composing.answered = await self._answered(session, jobs)
            for job in jobs:
                later = quiet_until(
                    now, timezone=job.timezone, start=job.quiet[0], end=job.quiet[1]
                )
                if later is not None:
                    batch.outcomes.append(_again(job, later, attempts=job.attempts))
                    continue
                message = await self._compose_safely(composing, job)
                if message is None:
                    batch.outcomes.append(
                        Outcome(job.delivery_id, DeliveryStatus.skipped, job.attempts)
                    )
                else:
                    batch.to_send.append((job, message))
        return batch

    async def _send_all(self, batch: Batch) -> list[Outcome]:
        return list(
            await asyncio.gather(
                *(self._send_safely(job, message) for job, message in batch.to_send)
            )
        )

    async def _record(self, batch: Batch, sent: list[Outcome], upcoming: Batch | None) -> None:
        """Store the batch's outcomes in one statement, then report progress (rounds with no
        rows in the upcoming batch may have just finished)."""
        blocked = {o.delivery_id for o in sent if o.status is DeliveryStatus.blocked}
        async with self.db.begin() as session:
            await outbox.record(session, outcomes=batch.outcomes + sent)
            for job, _ in batch.to_send:
                if job.delivery_id in blocked:
                    await people.mark_blocked(session, telegram_id=job.telegram_id, blocked=True)
        rounds = {job.round_id for job in batch.jobs}
        more = {job.round_id for job in upcoming.jobs} if upcoming else set()
        await self.progress.report(rounds & more)
        await self.progress.report(rounds - more, maybe_done=True)
        reminders = {job.round_id for job in batch.jobs if job.kind is RoundKind.reminder}
        if reminders - more:
            async with self.db.begin() as session:
                await outbox.forget_finished_reminders(session, round_ids=reminders - more)

    async def _answered(self, session: Any, jobs: list[Claimed]) -> set[str] | None:
        """Pseudonyms of who among these recipients already answered their poll (one query);
        None if that could not be found out (then every row is composed one by one)."""
        keys: dict[int, list[str]] = {}
        for job in jobs:
            if job.reachable and job.kind is not RoundKind.followup:
                keys.setdefault(job.poll_id, []).append(self._pseudonym(job))
        try:
            async with session.begin_nested():
                return await outbox.answered(session, pseudonyms=keys)
        except Exception as error:
            log.error("could not look up who answered (%s)", type(error).__name__)
            return None

    def _pseudonym(self, job: Claimed) -> str:
        return pseudonym(self.pseudonym_key, poll_id=job.poll_id, telegram_id=job.telegram_id)

    async def _compose_safely(self, composing: Composing, job: Claimed) -> Message | None:
        """The message for one row; None (skipped) for who stopped, or a poll that closed."""
        if not job.reachable:
            return None
        try:
            if job.poll_id not in composing.views:
                async with composing.session.begin_nested():
                    composing.views[job.poll_id] = await polls.load_poll(
                        composing.session, poll_id=job.poll_id
                    )
            shared = self._shared(composing, job)
            if shared in composing.messages:
                return composing.messages[shared]
            view = composing.views[job.poll_id]
            async with composing.session.begin_nested():
                message = await self._compose(composing.session, job, view)
            if shared is not None:
                composing.messages[shared] = message
            return message
        except Exception as error:
            log.error("could not compose delivery %s (%s)", job.delivery_id, type(error).__name__)
            return None

    def _shared(self, composing: Composing, job: Claimed) -> Shared | None:
        """Rows that get the same message as others in the batch: a follow-up, or the poll's
        first question for who has not answered yet (`next_question` reads nothing else for
        them, unless that question is an open one: then it stores a draft for each person)."""
        if job.kind is RoundKind.followup:
            return job.kind, job.followup_id, job.language
        view = composing.views[job.poll_id]
        if view is None or not view.questions or composing.answered is None:
            return None
        if view.questions[0].question.kind is QuestionKind.open_text:
            return None
        if self._pseudonym(job) in composing.answered:
            return None
        return job.kind, job.poll_id, job.language

    async def _send_safely(self, job: Claimed, message: Message) -> Outcome:
        """Send one row; whatever goes wrong, the row gets an outcome (the batch is recorded)."""
        try:
            return await self._send(job, message)
        except Exception as error:
            log.error("delivery %s failed (%s)", job.delivery_id, type(error).__name__)
            return Outcome(
                job.delivery_id, DeliveryStatus.failed, job.attempts + 1, error=_short(error)
            )

    async def _compose(self, session: Any, job: Claimed, view: PollView | None) -> Message | None:
        t = texts_for(job.language)
        if job.kind is RoundKind.followup:
            followup = await session.get(FollowUp, job.followup_id)
            return t("followup.message", title=view.poll.title, text=followup.text), None
        question = await next_question(
            session, t, view=view, pseudonym=self._pseudonym(job), telegram_id=job.telegram_id
        )
        return _reminded(t, job, view, question)

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

        Sends start one at a time, each at least one interval after the previous one really
        started, so an event loop that was held up never releases a burst of late sends."""
        async with self._pacing:
            earliest = self._last_sent.get(chat_id, -PER_CHAT_SECONDS) + PER_CHAT_SECONDS
            ready = max(self._next_slot, earliest)
            now = time.monotonic()
            if ready > now:
                await asyncio.sleep(ready - now)
            started = time.monotonic()
            self._next_slot = started + self.interval
            if len(self._last_sent) > 100_000:
                self._last_sent.clear()
            self._last_sent[chat_id] = started


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


def _reminded(t: Texts, job: Claimed, view: PollView, question: Message | None) -> Message | None:
    """A reminder starts with the closing moment; other rounds send the question as it is."""
    if job.kind is RoundKind.reminder and question is not None:
        text, markup = question
        return f"{t('reminder.intro', closes=closes_on(view))}\n\n{text}", markup
    return question


def _short(error: Exception) -> str:
    return type(error).__name__[:64]


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
