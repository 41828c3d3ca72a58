"""The message a council member sees while their round goes out: edited as it goes.

It always tells the truth: the counts, and when nothing moves, why ("waiting: Telegram is not
reachable (since 10:42), 134 to go"). A round this process sends is looked at after each
batch and every two seconds besides (`tick`), so the message never stays frozen; an edit that
failed is simply made again, and the final line is tried until it was shown (also after a
restart: `resume`). While the database is away, the last counts read are shown with the wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from telegram import Bot
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.chat import formatting
from bot.delivery.health import Health, Outage
from bot.delivery.rate import BULK
from bot.results.publish import bar
from bot.texts import Html, Texts, texts_for
from storage import outbox
from storage.db import Database, is_outage
from storage.models import Address, Council, DeliveryStatus, Person, Poll, Round, utcnow

log = logging.getLogger(__name__)
DAILY_LIMIT = "daily limit"
"""The reason a WhatsApp row waits for the business's daily limit (bot.whatsapp.courier)."""
EDIT_EVERY = 2.0
RESUME_WITHIN = timedelta(days=2)
"""Rounds made this recently whose final line was never shown get it after a restart."""
OPEN = (DeliveryStatus.pending, DeliveryStatus.claimed)
PROBLEMS = (
    DeliveryStatus.blocked,
    DeliveryStatus.failed,
    DeliveryStatus.uncertain,
    DeliveryStatus.skipped,
)
"""The counts that say something did not arrive, each with its own words (`progress.<status>`)."""


@dataclass
class Snapshot:
    """What the message of one round shows, as last read from the database."""

    sending: Round
    title: str
    language: str
    timezone: str
    counts: Counter[DeliveryStatus]
    failures: Counter[str]
    held: tuple[int, datetime | None] = (0, None)
    """Rows waiting for WhatsApp's daily limit of new conversations, and when they go on."""

    @property
    def left(self) -> int:
        return sum(self.counts[status] for status in OPEN)


class Progress:
    """Keeps each round's progress message up to date, at most every two seconds."""

    def __init__(self, *, bot: Bot, db: Database, health: Health) -> None:
        self.bot = bot
        self.db = db
        self.health = health
        self._watching: set[int] = set()
        self._edited: dict[int, float] = {}
        self._looked: dict[int, float] = {}
        self._started: dict[int, tuple[float, int]] = {}
        self._last: dict[int, Snapshot] = {}
        self._reporting = asyncio.Lock()
        self._shown: dict[int, str] = {}

    def watch(self, round_ids: set[int]) -> None:
        """Rounds this process sends: `tick` keeps them up to date until their final line."""
        self._watching |= round_ids

    async def resume(self) -> None:
        """After a start: rounds whose final line was never shown are watched again."""
        async with self.db.read() as session:
            found = await session.scalars(
                select(Round.id).where(
                    Round.progress_chat_id.is_not(None),
                    Round.finished_at.is_(None),
                    Round.created_at > utcnow() - RESUME_WITHIN,
                )
            )
            self.watch(set(found))

    async def tick(self) -> None:
        """Every round watched that was not looked at for two seconds is looked at now."""
        await self.report(set(self._watching))

    async def keep_up(self) -> None:
        """Tick every two seconds, whatever the outbox is waiting for (cancel to stop)."""
        while True:
            await asyncio.sleep(EDIT_EVERY)
            try:
                await self.tick()
            except Exception as error:  # tried again at the next tick
                log.warning("progress not updated (%s)", type(error).__name__)

    async def report(self, round_ids: set[int], *, maybe_done: bool = False) -> None:
        """Between two looks (two seconds apart) a round costs no query; `maybe_done` (the
        outbox holds no more of its rows) looks at once, so the final line shows as soon as
        the last row is recorded."""
        async with self._reporting:  # one look at a time: `keep_up` and the outbox share it
            for round_id in round_ids:
                now = time.monotonic()
                if maybe_done or now - self._looked.get(round_id, 0.0) >= EDIT_EVERY:
                    self._looked[round_id] = now
                    await self._report(round_id)

    async def _report(self, round_id: int) -> None:
        try:
            snapshot = await self._read(round_id)
            known = True
        except Exception as error:
            if not is_outage(error):
                raise
            self.health.database.failed(error)
            snapshot, known = self._last.get(round_id), False
        if snapshot is None:
            if known:  # finished, or no progress message: nothing to show
                self._forget(round_id)
            return
        self._last[round_id] = snapshot
        done = known and not snapshot.left
        now = time.monotonic()
        if not done and now - self._edited.get(round_id, 0.0) < EDIT_EVERY:
            return
        self._edited[round_id] = now
        text = self._text(snapshot, round_id, done, now)
        if await self._show(snapshot.sending, text) and done:
            async with self.db.begin() as session:  # only now: the final line was shown
                stored = await session.get(Round, round_id)
                stored.finished_at = utcnow()
                session.add(stored)
            self._forget(round_id)

    async def _read(self, round_id: int) -> Snapshot | None:
        async with self.db.read() as session:
            sending = await session.get(Round, round_id)
            if sending is None or sending.progress_chat_id is None or sending.finished_at:
                return None
            counts = await outbox.round_counts(session, round_id=round_id)
            poll = await session.get(Poll, sending.poll_id) if sending.poll_id else None
            council = await session.get(Council, poll.council_id if poll else sending.council_id)
            sender = Address.telegram(sending.progress_chat_id)
            language = await session.scalar(
                select(Person.language).where(
                    Person.channel == sender.channel, Person.address == sender.id
                )
            )
            failures = Counter[str]()
            if counts[DeliveryStatus.failed]:
                failures = await outbox.reasons(
                    session, round_id=round_id, status=DeliveryStatus.failed
                )
            held = (0, None)
            if counts[DeliveryStatus.pending]:
                held = await outbox.held_back(session, round_id=round_id, reason=DAILY_LIMIT)
        language = language or "nl"
        title = poll.title_in(language) if poll else ""
        return Snapshot(sending, title, language, council.timezone, counts, failures, held)

    def _forget(self, round_id: int) -> None:
        self._watching.discard(round_id)
        for memory in (self._edited, self._looked, self._started, self._last, self._shown):
            memory.pop(round_id, None)

    def _text(self, snapshot: Snapshot, round_id: int, done: bool, now: float) -> str:
        t = texts_for(snapshot.language)
        counts = snapshot.counts
        total = sum(counts.values())
        values = {
            "title": snapshot.title,
            "sent": counts[DeliveryStatus.sent],
            "total": total,
            "problems": Html(_problems(t, counts)),
        }
        kind = snapshot.sending.kind.value
        if done:
            text = t(f"progress.done_{kind}", **values)
            if snapshot.failures:
                text += "\n" + t("progress.why", reasons=_reasons(t, snapshot.failures))
            return text
        finished = total - snapshot.left
        started_at, started_with = self._started.setdefault(round_id, (now, finished))
        rate = (finished - started_with) / (now - started_at) if now > started_at else 0
        away = self._away()
        seconds = int(snapshot.left / rate) if rate and away is None else None
        if seconds is None:
            eta = "…"  # nothing moved yet (or it waits for quiet hours or an outage to end)
        elif seconds >= 120:
            eta = t("progress.minutes", count=seconds // 60)
        else:
            eta = t("progress.seconds", count=seconds)
        waiting = ""
        held, resumes = snapshot.held
        if held and resumes is not None:
            at = formatting.short_moment(resumes, snapshot.timezone)
            waiting = "\n" + t("whatsapp.daily_limit", left=held, at=at)
        if away is not None:
            since = formatting.clock(away.since, snapshot.timezone)
            key = "progress.away_telegram" if away is self.health.telegram else "progress.away_db"
            waiting = "\n" + t(key, since=since, left=snapshot.left)
        return t(
            f"progress.sending_{kind}",
            bar=bar(finished / total if total else 1),
            eta=eta,
            waiting=waiting,
            **values,
        )

    def _away(self) -> Outage | None:
        for outage in (self.health.database, self.health.telegram):
            if outage.down and outage.since is not None:
                return outage
        return None

    async def _show(self, sending: Round, text: str) -> bool:
        """Send or edit the progress message; True when the person can read `text` now (or
        never can: they blocked the bot, or the chat is gone)."""
        if self._shown.get(sending.id) == text:
            return True  # nothing changed (quiet hours, an outage): no call
        shown = await self._edit_or_send(sending, text)
        if shown:
            self._shown[sending.id] = text
        return shown

    async def _edit_or_send(self, sending: Round, text: str) -> bool:
        try:
            if sending.progress_message_id is not None:
                await self.bot.edit_message_text(
                    text,
                    chat_id=sending.progress_chat_id,
                    message_id=sending.progress_message_id,
                    rate_limit_args=BULK,
                )
                return True
        except BadRequest as error:
            if "not modified" in str(error):
                return True  # otherwise (deleted, too old): a new message below
        except Forbidden:
            log.info("progress message not shown (Forbidden); given up")
            return True  # the sender blocked the bot
        except TelegramError:
            return False
        try:
            message = await self.bot.send_message(
                sending.progress_chat_id, text, rate_limit_args=BULK
            )
        except (Forbidden, BadRequest) as error:
            log.info("progress message not shown (%s); given up", type(error).__name__)
            return True
        except TelegramError:
            return False
        async with self.db.begin() as session:
            stored = await session.get(Round, sending.id)
            stored.progress_message_id = message.message_id
            session.add(stored)
        sending.progress_message_id = message.message_id
        return True


def _problems(t: Texts, counts: Counter[DeliveryStatus]) -> str:
    """What did not go as planned, in plain words, on a line of its own; nothing when all
    went well (a count of 0 is left out)."""
    parts = [
        t(f"progress.{status.value}", count=counts[status]) for status in PROBLEMS if counts[status]
    ]
    return "\n" + " · ".join(parts) if parts else ""


def _reasons(t: Texts, failures: Counter[str]) -> str:
    """Why rows failed, most common first."""
    return "; ".join(f"{count} × {reason(t, error)}" for error, count in failures.most_common(3))


def reason(t: Texts, error: str) -> str:
    """A stored reason in the reader's words where we know it, else Telegram's own."""
    if error.startswith("gave up: "):
        return t("progress.gave_up", reason=error.removeprefix("gave up: "))
    if "chat not found" in error.lower():
        return t("progress.chat_gone")
    if error == "not reachable":
        return t("progress.unreachable")
    whatsapp = {
        DAILY_LIMIT: "daily_limit",
        "WhatsApp paused": "paused",
        "undeliverable": "undeliverable",
    }
    if error in whatsapp:
        return t(f"whatsapp.reason_{whatsapp[error]}")
    return error
