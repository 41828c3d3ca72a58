"""The message a council member sees while their round goes out: edited as it goes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.results import bar
from bot.texts import texts_for
from storage import outbox
from storage.db import Database
from storage.models import DeliveryStatus, Person, Poll, Round, utcnow

EDIT_EVERY = 2.0


class Progress:
    """Keeps each round's progress message up to date, at most every two seconds."""

    def __init__(
        self, *, bot: Bot, db: Database, pace: Callable[[int], Awaitable[None]] | None = None
    ) -> None:
        self.bot = bot
        self.db = db
        self.pace = pace  # the outbox's pacing: Telegram counts the edits in its 30/s too
        self._edited: dict[int, float] = {}
        self._looked: dict[int, float] = {}
        self._started: dict[int, tuple[float, int]] = {}

    async def report(self, round_ids: set[int], *, maybe_done: bool = False) -> None:
        """Called after every batch. Between two looks (two seconds apart) a round costs no
        query; `maybe_done` (the outbox holds no more of its rows) looks at once, so the final
        line shows as soon as the last row is recorded."""
        for round_id in round_ids:
            now = time.monotonic()
            if maybe_done or now - self._looked.get(round_id, 0.0) >= EDIT_EVERY:
                self._looked[round_id] = now
                await self._report(round_id)

    async def _report(self, round_id: int) -> None:
        async with self.db.begin() as session:
            sending = await session.get(Round, round_id)
            if sending is None or sending.progress_chat_id is None or sending.finished_at:
                return
            counts = await outbox.round_counts(session, round_id=round_id)
            done = not (counts[DeliveryStatus.pending] or counts[DeliveryStatus.claimed])
            poll = await session.get(Poll, sending.poll_id)
            language = await session.scalar(
                select(Person.language).where(Person.telegram_id == sending.progress_chat_id)
            )
        now = time.monotonic()
        if not done and now - self._edited.get(round_id, 0.0) < EDIT_EVERY:
            return
        self._edited[round_id] = now
        text = self._text(texts_for(language or "nl"), poll.title, counts, round_id, done, now)
        if await self._show(sending, text) and done:
            async with self.db.begin() as session:  # only now: the final line was shown
                stored = await session.get(Round, round_id)
                stored.finished_at = utcnow()
                session.add(stored)

    def _text(
        self, t, title: str, counts: Counter[DeliveryStatus], round_id: int, done: bool, now: float
    ) -> str:
        total = sum(counts.values())
        finished = total - counts[DeliveryStatus.pending] - counts[DeliveryStatus.claimed]
        values = {
            "title": title,
            "sent": counts[DeliveryStatus.sent],
            "total": total,
            "blocked": counts[DeliveryStatus.blocked],
            "failed": counts[DeliveryStatus.failed],
            "uncertain": counts[DeliveryStatus.uncertain],
        }
        if done:
            return t("progress.done", **values)
        started_at, started_with = self._started.setdefault(round_id, (now, finished))
        rate = (finished - started_with) / (now - started_at) if now > started_at else 0
        left = counts[DeliveryStatus.pending] + counts[DeliveryStatus.claimed]
        seconds = int(left / rate) if rate else None
        if seconds is None:
            eta = "…"  # nothing moved yet (or it waits for quiet hours to end)
        elif seconds >= 120:
            eta = t("progress.minutes", count=seconds // 60)
        else:
            eta = t("progress.seconds", count=seconds)
        return t(
            "progress.sending",
            bar=bar(finished / total if total else 1),
            eta=eta,
            waiting="",
            **values,
        )

    async def _show(self, sending: Round, text: str) -> bool:
        """Send or edit the progress message; True when the person can read `text` now."""
        if self.pace is not None:
            await self.pace(sending.progress_chat_id)
        try:
            if sending.progress_message_id is not None:
                await self.bot.edit_message_text(
                    text, chat_id=sending.progress_chat_id, message_id=sending.progress_message_id
                )
                return True
        except BadRequest as error:
            if "not modified" in str(error):
                return True  # otherwise (deleted, too old): a new message below
        except TelegramError:
            return False
        try:
            message = await self.bot.send_message(sending.progress_chat_id, text)
        except TelegramError:
            return False
        async with self.db.begin() as session:
            stored = await session.get(Round, sending.id)
            stored.progress_message_id = message.message_id
            session.add(stored)
        return True
