"""The outbox worker: sends pending deliveries (one row per recipient) and records the result.

Rounds write their rows in the same transaction as the round. This worker claims a batch
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several processes share the work without
overlap; each row remembers which process holds it), composes every message in one
transaction, and sends outside any transaction through the bot's `SendLimiter` (bulk lane:
evenly spaced just below the rate, after replies to people, one per second per chat).

Outcomes are recorded as they happen, a few at a time (so a SIGKILL can repeat only the sends
that were in flight): sent (with message id), blocked (403: the subscription is marked
blocked), failed (a final answer such as "chat not found", with Telegram's reason), or
pending again (429: after its wait; 5xx, timeouts, lost connections: tried again with capped
backoff for as long as the poll is open, at most `give_up_after`; quiet hours: until they end).
While Telegram is away (`bot.delivery.health`), one row at a time tries; the others stay pending.

A database fault loses nothing either: outcomes wait in memory and are recorded as soon as the
database answers; then the rows this process still had claimed go back to pending at once
(also a claim whose answer the fault swallowed), not after a lease.

While one batch is being sent the next is claimed and composed, so the sends go on without a
pause between batches. Composing is cheap for the common case: one query finds who of the
batch already answered the poll; everyone else gets the poll's first question, composed once
per language (as is a follow-up).
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot

from bot.chat import formatting
from bot.chat.screens import Screen
from bot.delivery.claims import Claims
from bot.delivery.couriers import Courier, TelegramCourier, again, short
from bot.delivery.health import Health
from bot.delivery.progress import Progress
from bot.delivery.quiet import quiet_until
from bot.observe.metrics import count_send
from bot.polls.asking import next_question
from bot.polls.invitation import invitation
from bot.polls.questions import closes_on, other_language
from bot.results.shared import summary_screen, within_window
from bot.texts import Html, Texts, texts_for
from storage import outbox, people, polls
from storage.db import Database, is_outage
from storage.models import (
    TELEGRAM,
    Address,
    DeliveryStatus,
    FollowUp,
    QuestionKind,
    RoundKind,
    utcnow,
)
from storage.outbox import Claimed, Outcome
from storage.polls import PollView
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
BATCH = 50
IDLE_SECONDS = 1.0
LEASE = timedelta(minutes=10)  # longer than any batch, 429 waits included
DEAD_EVERY = 15.0
"""Seconds between looks for claims of processes that died (PostgreSQL, `bot.delivery.claims`)."""
LINGER = 0.05
"""Seconds outcomes gather before they are recorded together (at 30/s: one or two)."""
Message = Screen
Shared = tuple[RoundKind, int | None, str]
"""Rows with the same (kind, poll or follow-up id, language) get one message composed once."""


@dataclass
class Batch:
    """Claimed rows, composed: what to send, and the outcomes of rows that need no send."""

    jobs: list[Claimed]
    to_send: list[tuple[Claimed, Message, PollView | None]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    faults: int = 0
    """The outbox's count of database faults when this batch was claimed."""


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
    """One background task that drains one channel's rows of the outbox; `kick()` wakes it
    when rows were added."""

    def __init__(
        self,
        *,
        bot: Bot,
        db: Database,
        health: Health,
        pseudonym_key: str,
        paid: bool = False,
        give_up_after: timedelta = timedelta(hours=72),
        courier: Courier | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        self.health = health
        self.pseudonym_key = pseudonym_key
        self.courier: Courier = courier or TelegramCourier(
            bot=bot, health=health, paid=paid, give_up_after=give_up_after
        )
        self.channel = self.courier.channel
        self.claimer = secrets.token_hex(8)
        """Marks the rows this process claims (new at every start)."""
        self.claims = Claims(db, self.claimer, patience=DEAD_EVERY)
        self.progress = progress or Progress(bot=bot, db=db, health=health)
        self._ticks = progress is None
        self._looking: asyncio.Task[None] | None = None
        """The outbox that made the progress keeper keeps it up to date (one per process)."""
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ticking: asyncio.Task[None] | None = None
        self._unrecorded: list[tuple[Outcome, Address | None]] = []
        self._recording: asyncio.Task[None] | None = None
        self._urgent = asyncio.Event()
        self._faults = 0
        """Faults seen (mostly the database's); a batch claimed before the latest one is
        given back unsent, as is anything else this process still has claimed."""
        self._released = 0
        self._in_hand: Counter[int] = Counter()
        """Rows claimed and not recorded yet (a row recorded as due at once may be claimed
        again before its first claim is settled: hence a count)."""

    def kick(self) -> None:
        self._wake.set()

    async def start(self, *, only_process: bool, release: bool = True) -> None:
        """Release rows claimed by a process that died, then start the worker.

        The only process (SQLite) releases every claimed row at once; with several processes
        (PostgreSQL) the rows of processes that hold no lock any more (`bot.delivery.claims`), and
        rows older than the lease that no process marked as its own. Without `release` (the
        outbox of another channel in this process released already) nothing is given back:
        on SQLite that would give back what that outbox claimed since."""
        await self.claims.hold()
        if not release:
            pass
        elif only_process:
            await self.release_stale(now=utcnow() + LEASE, unmarked_only=False)
        else:
            await self.release_stale(now=utcnow())
            await self.claims.release_dead()
        self._task = asyncio.create_task(self._run(), name=f"outbox-{self.channel}")
        if self._ticks:
            with suppress(Exception):
                await self.progress.resume()
            self._ticking = asyncio.create_task(self.progress.keep_up(), name="outbox-progress")

    async def stop(self, *, grace: float = 30.0) -> None:
        """Let the batch in hand finish and be recorded (so a normal restart sends nothing
        twice), give back what is claimed and not sent, then stop."""
        if self._task is None:
            return
        if self._ticking is not None:
            self._ticking.cancel()
            with suppress(asyncio.CancelledError):
                await self._ticking
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        with suppress(Exception):
            await asyncio.wait_for(self._flush(), timeout=5.0)
            self._in_hand.clear()  # nothing is being sent any more
            await self._release_own()
        if self._looking is not None:
            with suppress(Exception):
                await asyncio.wait_for(self._looking, timeout=5.0)
        await self.claims.close()
        self._task, self._stopping = None, False

    async def release_stale(self, *, now: datetime, unmarked_only: bool = True) -> int:
        """Rows claimed before `now - LEASE` go back to pending: only rows no process marked
        as its own (those are given back by their process, or by `bot.delivery.claims` when it
        died),
        unless `unmarked_only` is off (the only process, at start)."""
        async with self.db.begin() as session:
            return await outbox.release_stale(
                session, claimed_before=now - LEASE, unmarked_only=unmarked_only
            )

    async def drain(self) -> int:
        """Send everything that is due now (after any drain already running in this process),
        with every outcome recorded; returns how many rows this call handled.

        The next batch is claimed and composed while this one is being sent. After a database
        fault the next batch is given back instead (the fault may have outlasted its claim)."""
        handled = 0
        async with self._draining:
            batch = None if self._stopping else await self._next_batch()
            while batch is not None:
                sending = asyncio.create_task(self._send_all(batch))
                try:
                    upcoming = None if self._quiet_now() else await self._next_batch()
                except asyncio.CancelledError:
                    sending.cancel()
                    raise
                await sending
                await self._flush()
                if upcoming is not None and upcoming.faults != self._faults:
                    self._settled(job.delivery_id for job in upcoming.jobs)
                    upcoming = None  # given back by `_run` (claimed before a fault)
                await self._report(batch, upcoming)
                handled += len(batch.jobs)
                batch = upcoming
        return handled

    def _quiet_now(self) -> bool:
        """No claiming ahead while stopping or while Telegram is away."""
        return self._stopping or self.health.telegram.down

    async def _run(self) -> None:
        released_at = looked_at = time.monotonic()
        while not self._stopping:
            try:
                if self._faults != self._released:  # give back what a fault left claimed
                    faults = self._faults
                    if self.health.database.down:
                        await self.health.database.wait()
                    await self.claims.hold()
                    async with self._draining:
                        await self._release_own()
                    self._released = faults
                await self.drain()
                if time.monotonic() - looked_at > DEAD_EVERY:
                    await self.claims.release_dead()
                    looked_at = time.monotonic()
                if time.monotonic() - released_at > LEASE.total_seconds() / 2:
                    await self.release_stale(now=utcnow())
                    released_at = time.monotonic()
            except Exception as error:
                self._fault(error, "sending")
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)

    def _fault(self, error: Exception, what: str) -> None:
        """A database fault is an outage (logged by it); anything else is logged here."""
        self._faults += 1
        if is_outage(error):
            self.health.database.failed(error)
        else:
            log.error("outbox: %s failed (%s)", what, type(error).__name__)

    async def _release_own(self) -> None:
        async with self.db.begin() as session:
            await outbox.release_own(session, claimer=self.claimer, keep=set(self._in_hand))
        self.health.database.ok()

    async def _next_batch(self) -> Batch | None:
        """Claim due rows and compose their messages; None when nothing is due (or the
        database is away: then the fault is counted and nothing is claimed)."""
        faults = self._faults
        limit = 1 if self.health.telegram.down else BATCH  # while away, one row tries
        try:
            await self.claims.hold()  # a live process's lock before every claim
            async with self.db.begin() as session:
                jobs = await outbox.claim(
                    session, now=utcnow(), limit=limit, claimer=self.claimer, channel=self.channel
                )
        except Exception as error:
            self._fault(error, "claiming")
            return None
        self.health.database.ok()
        if not jobs:
            return None
        self._in_hand.update(job.delivery_id for job in jobs)
        self.progress.watch({job.round_id for job in jobs})
        batch = Batch(jobs, faults=faults)
        try:
            await self._compose_batch(batch)
        except Exception as error:  # the database went away: give the rows back
            self._fault(error, "composing")
            self._settled(job.delivery_id for job in jobs)
            return None
        return batch

    async def _compose_batch(self, batch: Batch) -> None:
        now = utcnow()
        async with self.db.begin() as session:
            composing = Composing(session)
            composing.answered = await self._answered(session, batch.jobs)
            await self.courier.prepare(session, batch.jobs)
            for job in batch.jobs:
                later = quiet_until(
                    now, timezone=job.timezone, start=job.quiet[0], end=job.quiet[1]
                )
                if later is not None:
                    batch.outcomes.append(again(job, later, attempts=job.attempts))
                    continue
                message = await self._compose_safely(composing, job)
                if message is None:
                    batch.outcomes.append(
                        Outcome(job.delivery_id, DeliveryStatus.skipped, job.attempts)
                    )
                else:
                    batch.to_send.append((job, message, composing.views.get(job.poll_id)))

    async def _send_all(self, batch: Batch) -> None:
        for outcome in batch.outcomes:
            self._record_soon(outcome, None)
        await asyncio.gather(
            *(self._send_safely(job, message, view) for job, message, view in batch.to_send)
        )

    def _record_soon(self, outcome: Outcome, blocked: Address | None) -> None:
        """Queue an outcome; they are recorded together a moment later (see `_record_all`)."""
        self._unrecorded.append((outcome, blocked))
        count_send(self.channel, outcome.status.value)
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_all(), name="outbox-record")

    async def _flush(self) -> None:
        """Wait until every outcome so far is recorded (however long the database is away)."""
        while self._recording is not None and not self._recording.done():
            self._urgent.set()
            await asyncio.shield(self._recording)

    async def _record_all(self) -> None:
        """Record queued outcomes, a few at a time; while the database is away, keep them and
        try again (at least every 5 s) until it answers."""
        while self._unrecorded:
            if not self._urgent.is_set():  # let a few gather, unless someone waits for them
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._urgent.wait(), LINGER)
            self._urgent.clear()
            taken, self._unrecorded = self._unrecorded, []
            failures = 0
            while True:
                try:
                    await self._record(taken)
                    self.health.database.ok()
                    break
                except Exception as error:
                    failures += 1
                    self._fault(error, "recording")
                    if is_outage(error):
                        self.health.database.retry("outcomes", len(taken))
                        await self.health.database.wait(self.health.database.backoff())
                    elif failures < 3:
                        await asyncio.sleep(float(failures))
                    else:  # not an outage, and it stays: one row must be the cause
                        await self._record_one_by_one(taken)
                        break
            self._settled(outcome.delivery_id for outcome, _ in taken)

    async def _record_one_by_one(self, taken: list[tuple[Outcome, Address | None]]) -> None:
        """Record each outcome alone; one that cannot be recorded stays claimed (and is given
        back, to be sent again, after the next fault or restart)."""
        for one in taken:
            try:
                await self._record([one])
            except Exception as error:
                log.error(
                    "outcome of delivery %s not recorded (%s)",
                    one[0].delivery_id,
                    type(error).__name__,
                )

    def _settled(self, delivery_ids: Iterable[int]) -> None:
        self._in_hand.subtract(delivery_ids)
        self._in_hand = +self._in_hand  # drop the ones at zero

    async def _record(self, taken: list[tuple[Outcome, Address | None]]) -> None:
        async with self.db.begin() as session:
            await outbox.record(
                session, outcomes=[outcome for outcome, _ in taken], claimer=self.claimer
            )
            for _, address in taken:
                if address is not None:
                    await people.mark_blocked(session, address=address, blocked=True)

    async def _report(self, batch: Batch, upcoming: Batch | None) -> None:
        """Report progress (rounds with no rows in the upcoming batch may have just finished)
        and forget who a finished reminder went to."""
        rounds = {job.round_id for job in batch.jobs}
        more = {job.round_id for job in upcoming.jobs} if upcoming else set()
        try:
            if self._ticks:
                await self.progress.report(rounds & more)
                await self.progress.report(rounds - more, maybe_done=True)
            else:  # its own keeper shows the rest; never wait for Telegram's edit here
                self.progress.watch(rounds)
                self._looking = asyncio.create_task(self._look(rounds - more))
            reminders = {job.round_id for job in batch.jobs if job.kind is RoundKind.reminder}
            if reminders - more:
                async with self.db.begin() as session:
                    await outbox.forget_finished_reminders(session, round_ids=reminders - more)
        except Exception as error:  # shown at the next tick
            if is_outage(error):
                self.health.database.failed(error)
            else:
                log.warning("progress not reported (%s)", type(error).__name__)

    async def _look(self, rounds: set[int]) -> None:
        """Progress of rounds this channel may have just finished, in the background."""
        try:
            await self.progress.report(rounds, maybe_done=True)
        except Exception as error:  # shown at the next tick
            if is_outage(error):
                self.health.database.failed(error)
            else:
                log.warning("progress not reported (%s)", type(error).__name__)

    async def _answered(self, session: Any, jobs: list[Claimed]) -> set[str] | None:
        """Pseudonyms of who among these recipients already answered their poll (one query);
        None if that could not be found out (then every row is composed one by one)."""
        keys: dict[int, list[str]] = {}
        for job in jobs:
            if job.reachable and job.kind is not RoundKind.followup and job.poll_id is not None:
                keys.setdefault(job.poll_id, []).append(self._pseudonym(job))
        try:
            async with session.begin_nested():
                return await outbox.answered(session, pseudonyms=keys)
        except Exception as error:
            if is_outage(error):
                raise
            log.error("could not look up who answered (%s)", type(error).__name__)
            return None

    def _pseudonym(self, job: Claimed) -> str:
        return pseudonym(self.pseudonym_key, poll_id=job.poll_id, address=job.address)

    async def _compose_safely(self, composing: Composing, job: Claimed) -> Message | None:
        """The message for one row; None (skipped) for who stopped, or a poll that closed."""
        if not job.reachable:
            return None
        try:
            if job.poll_id is not None and job.poll_id not in composing.views:
                async with composing.session.begin_nested():
                    composing.views[job.poll_id] = await polls.load_poll(
                        composing.session, poll_id=job.poll_id
                    )
            shared = self._shared(composing, job)
            if shared in composing.messages:
                return composing.messages[shared]
            view = composing.views.get(job.poll_id) if job.poll_id is not None else None
            async with composing.session.begin_nested():
                message = await self._compose(composing.session, job, view)
            if shared is not None:
                composing.messages[shared] = message
            return message
        except Exception as error:
            if is_outage(error):
                raise
            log.error("could not compose delivery %s (%s)", job.delivery_id, type(error).__name__)
            return None

    def _shared(self, composing: Composing, job: Claimed) -> Shared | None:
        """Rows that get the same message as others in the batch: a follow-up, or the poll's
        first question for who has not answered yet (`next_question` reads nothing else for
        them, unless that question is an open one: then it stores a draft for each person)."""
        if job.kind is RoundKind.followup:
            return job.kind, job.followup_id, job.language
        if job.kind is RoundKind.invitation:  # the same for the council's rows of a language
            return job.kind, job.council_id, job.language
        if job.kind is RoundKind.summary:  # WhatsApp outside its window: each row skipped
            if job.address.channel != TELEGRAM and not within_window(job.window_at, utcnow()):
                return None
            return job.kind, job.poll_id, job.language
        view = composing.views[job.poll_id]
        if view is None or not view.questions or composing.answered is None:
            return None
        if view.questions[0].question.kind is QuestionKind.open_text:
            return None
        if self._pseudonym(job) in composing.answered:
            return None
        return job.kind, job.poll_id, job.language

    async def _send_safely(self, job: Claimed, message: Message, view: PollView | None) -> None:
        """Send one row and queue its outcome, whatever goes wrong."""
        try:
            outcome = await self.courier.send(job, message, view)
        except Exception as error:
            log.error("delivery %s failed (%s)", job.delivery_id, type(error).__name__)
            outcome = Outcome(
                job.delivery_id, DeliveryStatus.failed, job.attempts + 1, error=short(error)
            )
        blocked = outcome.status is DeliveryStatus.blocked
        self._record_soon(outcome, job.address if blocked else None)

    async def _compose(self, session: Any, job: Claimed, view: PollView | None) -> Message | None:
        t = texts_for(job.language, job.address.channel)
        return await compose(
            session,
            t,
            kind=job.kind,
            view=view,
            followup_id=job.followup_id,
            address=job.address,
            pseudonym=self._pseudonym(job),
            council_id=job.council_id,
        )


async def compose(
    session: Any,
    t: Texts,
    *,
    kind: RoundKind,
    view: PollView | None,
    followup_id: int | None,
    address: Address,
    pseudonym: str,
    council_id: int | None = None,
) -> Message | None:
    """What a round sends one person: the follow-up, what others said, or their next question
    (a reminder says when the poll closes first); None when there is nothing left to ask."""
    if kind is RoundKind.invitation:  # on its own: no poll, the council's invitation
        return invitation(t, council_id) if council_id else None
    if kind is RoundKind.followup:
        followup = await session.get(FollowUp, followup_id)
        shared_at = await polls.summary_sent_at(session, poll_id=view.poll.id)
        return followup_screen(t, view, followup, shared_at=shared_at)
    if kind is RoundKind.summary:
        return await summary_screen(session, t, view=view, address=address, now=utcnow())
    question = await next_question(session, t, view=view, pseudonym=pseudonym, address=address)
    if kind is RoundKind.reminder and question is not None:
        intro = t("reminder.intro", closes=closes_on(view))
        if not view.speaks(t.language) and question.text.find(other_language(t, view)) < 0:
            intro += f"\n<i>{other_language(t, view)}</i>"
        return replace(question, text=f"{intro}\n\n{question.text}")
    return question


def followup_screen(
    t: Texts, view: PollView, followup: FollowUp, *, shared_at: datetime | None = None
) -> Screen:
    """ "You said, we did" in the reader's language, or the poll's first with a line saying so;
    it refers back to the results the families got at closing (`shared_at`)."""
    title = view.in_language(t.language).poll.title
    text = followup.translations.get(t.language)
    back = ""
    if shared_at is not None:
        day = formatting.day(shared_at, view.council.timezone)
        back = f"\n\n<i>{t('shared.followup_back', date=day)}</i>"
    if text is not None or t.language == view.poll.language:
        return Screen(t("followup.message", title=title, text=text or followup.text) + back)
    line = t("followup.other_language", language=t(f"languages.{view.poll.language}"))
    shown = Html(f"<i>{line}</i>\n\n{html.escape(followup.text, quote=False)}")
    return Screen(t("followup.message", title=title, text=shown) + back)


class Outboxes:
    """The outbox of every channel this process sends on; features kick them all."""

    def __init__(self, *boxes: Outbox) -> None:
        self.boxes = {box.channel: box for box in boxes}

    def __getitem__(self, channel: str) -> Outbox:
        return self.boxes[channel]

    def kick(self) -> None:
        for box in self.boxes.values():
            box.kick()

    async def drain(self) -> int:
        """Send what is due on every channel at once; how many rows were handled."""
        return sum(await asyncio.gather(*(box.drain() for box in self.boxes.values())))

    async def start(self, *, only_process: bool) -> None:
        for index, box in enumerate(self.boxes.values()):
            await box.start(only_process=only_process, release=index == 0)

    async def stop(self, *, grace: float = 30.0) -> None:
        await asyncio.gather(*(box.stop(grace=grace) for box in self.boxes.values()))
