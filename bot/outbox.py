"""The outbox worker: sends pending deliveries (one row per recipient) and records the result.

Rounds write their rows in the same transaction as the round; this worker claims rows,
sends outside any transaction, and stores sent (with message id), blocked (403, the
subscription is marked blocked), failed (after retries) or uncertain (a timeout after the
request went out: it may have arrived, so it is not sent again).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.asking import next_question
from bot.texts import texts_for
from storage import people, polls
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, FollowUp, Person, Round, RoundKind, utcnow
from storage.pseudonyms import pseudonym

log = logging.getLogger(__name__)
BATCH = 30
MAX_ATTEMPTS = 5
IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class Job:
    delivery_id: int
    round_id: int
    kind: RoundKind
    poll_id: int
    followup_id: int | None
    person_id: int
    telegram_id: int
    language: str
    attempts: int


class Outbox:
    """One background task that drains the outbox; `kick()` wakes it when rows were added."""

    def __init__(self, *, bot: Bot, db: Database, pseudonym_key: str) -> None:
        self.bot = bot
        self.db = db
        self.pseudonym_key = pseudonym_key
        self._wake = asyncio.Event()
        self._draining = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        """Rows claimed by a process that died go back to pending, then the worker starts."""
        async with self.db.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.status == DeliveryStatus.claimed)
                .values(status=DeliveryStatus.pending)
            )
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> int:
        """Send everything that is due now (after any drain already running in this process);
        returns how many rows this call handled."""
        handled = 0
        async with self._draining:
            while jobs := await self._claim():
                await asyncio.gather(*(self._deliver(job) for job in jobs))
                handled += len(jobs)
        return handled

    async def _run(self) -> None:
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("outbox round failed; trying again shortly")
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)

    async def _claim(self) -> list[Job]:
        now = utcnow()
        async with self.db.begin() as session:
            rows = (
                await session.execute(
                    select(Delivery, Round, Person)
                    .join(Round, Round.id == Delivery.round_id)
                    .join(Person, Person.id == Delivery.person_id)
                    .where(
                        Delivery.status == DeliveryStatus.pending,
                        (Delivery.not_before.is_(None)) | (Delivery.not_before <= now),
                    )
                    .order_by(Delivery.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, of=Delivery)
                )
            ).all()
            ids = [delivery.id for delivery, _, _ in rows]
            if ids:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids))
                    .values(status=DeliveryStatus.claimed, claimed_at=now)
                )
        return [
            Job(
                delivery.id,
                sending.id,
                sending.kind,
                sending.poll_id,
                sending.followup_id,
                person.id,
                person.telegram_id,
                person.language,
                delivery.attempts,
            )
            for delivery, sending, person in rows
        ]

    async def _deliver(self, job: Job) -> None:
        message = await self._compose(job)
        if message is None:
            await self._finish(job, DeliveryStatus.skipped)
            return
        text, markup = message
        try:
            sent = await self.bot.send_message(job.telegram_id, text, reply_markup=markup)
        except Forbidden:
            await self._finish(job, DeliveryStatus.blocked, error="blocked")
            async with self.db.begin() as session:
                await people.mark_blocked(session, telegram_id=job.telegram_id, blocked=True)
        except TimedOut:
            await self._finish(job, DeliveryStatus.uncertain, error="timed out")
        except BadRequest as error:
            await self._finish(job, DeliveryStatus.failed, error=_short(error))
        except (RetryAfter, NetworkError) as error:
            await self._retry_later(job, error)
        else:
            await self._finish(job, DeliveryStatus.sent, message_id=sent.message_id)

    async def _compose(self, job: Job) -> tuple[str, InlineKeyboardMarkup | None] | None:
        t = texts_for(job.language)
        async with self.db.begin() as session:
            view = await polls.load_poll(session, poll_id=job.poll_id)
            if job.kind is RoundKind.followup:
                followup = await session.get(FollowUp, job.followup_id)
                return t("followup.message", title=view.poll.title, text=followup.text), None
            key = pseudonym(self.pseudonym_key, poll_id=job.poll_id, telegram_id=job.telegram_id)
            return await next_question(
                session, t, view=view, pseudonym=key, telegram_id=job.telegram_id
            )

    async def _finish(
        self,
        job: Job,
        status: DeliveryStatus,
        *,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        async with self.db.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == job.delivery_id)
                .values(
                    status=status,
                    message_id=message_id,
                    error=error,
                    attempts=job.attempts + 1,
                    sent_at=utcnow() if status is DeliveryStatus.sent else None,
                )
            )

    async def _retry_later(self, job: Job, error: Exception) -> None:
        if job.attempts + 1 >= MAX_ATTEMPTS:
            await self._finish(job, DeliveryStatus.failed, error=_short(error))
            return
        wait = timedelta(seconds=2 ** (job.attempts + 1))
        async with self.db.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == job.delivery_id)
                .values(
                    status=DeliveryStatus.pending,
                    attempts=job.attempts + 1,
                    not_before=utcnow() + wait,
                    error=_short(error),
                )
            )


def _short(error: Exception) -> str:
    return type(error).__name__[:64]
