"""Couriers: how the outbox hands one composed message to a channel.

The outbox (`bot.delivery.outbox`) claims, composes and records; a courier only sends one
row's screen and says what happened (an `Outcome`). One outbox runs per channel, each with its
own courier, its own rate and its own pacing per person, so a slow channel never holds back a
fast one. Telegram's courier is here; WhatsApp's is `bot.whatsapp.courier`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.chat.keyboards import markup
from bot.chat.screens import Screen, Sound
from bot.delivery.health import Health, describe
from bot.delivery.rate import BULK, TelegramUnreachable
from storage.models import TELEGRAM, DeliveryStatus, utcnow
from storage.outbox import Claimed, Outcome
from storage.polls import PollView

log = logging.getLogger(__name__)
RETRY_CAP = 5.0
"""Seconds at most between two tries of a row that failed in a way that may pass."""


class Courier(Protocol):
    """Sends one claimed row of its channel."""

    channel: str

    async def prepare(self, session: Any, jobs: list[Claimed]) -> None:
        """Before a batch is composed (in its transaction): read what sending it needs."""

    async def send(self, job: Claimed, screen: Screen, view: PollView | None) -> Outcome:
        """Send `screen` to the row's person; never raises."""


class Played:
    """The voice notes that went to rows still pending, in this process: a row tried again
    (its text refused with 429, a 5xx or no answer) sends only the notes that did not go, so
    nobody hears one twice."""

    LIMIT = 10_000
    """Rows remembered at most (rows another process finishes are never settled here)."""

    def __init__(self) -> None:
        self._rows: dict[int, set[int]] = {}

    def went(self, job: Claimed, sound: Sound) -> bool:
        return sound.voice_id in self._rows.get(job.delivery_id, ())

    def add(self, job: Claimed, sound: Sound) -> None:
        if job.delivery_id not in self._rows and len(self._rows) >= self.LIMIT:
            self._rows.pop(next(iter(self._rows)))
        self._rows.setdefault(job.delivery_id, set()).add(sound.voice_id)

    def settled(self, outcome: Outcome) -> Outcome:
        """`outcome`, after forgetting its row's notes unless the row stays pending."""
        if outcome.status is not DeliveryStatus.pending:
            self._rows.pop(outcome.delivery_id, None)
        return outcome


class TelegramCourier:
    """Telegram: the screen's voice notes (`sendVoice` by file id), then `sendMessage`, through
    the bot's limiter (bulk lane), outcomes by error. A voice note Telegram refuses (400: an
    unknown file, a person who refuses voice notes) is logged and left out; any other error
    counts for the row as the text's would (blocked, 429 and the rest). A row tried again
    sends only the notes that did not go before (`Played`)."""

    channel = TELEGRAM

    def __init__(self, *, bot: Bot, health: Health, paid: bool, give_up_after: timedelta) -> None:
        self.bot = bot
        self.health = health
        self.paid = paid
        self.give_up_after = give_up_after
        self.played = Played()

    async def prepare(self, session: Any, jobs: list[Claimed]) -> None:
        return None

    async def send(self, job: Claimed, screen: Screen, view: PollView | None) -> Outcome:
        return self.played.settled(await self._send(job, screen))

    async def _send(self, job: Claimed, screen: Screen) -> Outcome:
        attempts = job.attempts + 1
        paid = {"allow_paid_broadcast": True} if self.paid else None
        try:
            for sound in screen.sounds:
                if not self.played.went(job, sound):
                    await self._play(int(job.address.id), sound, paid)
                    self.played.add(job, sound)
            sent = await self.bot.send_message(
                int(job.address.id),  # a Telegram user id
                screen.text,
                reply_markup=markup(screen),
                api_kwargs=paid,
                rate_limit_args=BULK,
            )
        except Forbidden:
            return Outcome(job.delivery_id, DeliveryStatus.blocked, attempts, error="blocked")
        except BadRequest as error:  # a final answer: "chat not found" and the like
            return Outcome(job.delivery_id, DeliveryStatus.failed, attempts, error=_reason(error))
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            return again(
                job, utcnow() + timedelta(seconds=wait), attempts=job.attempts, error=error
            )
        except TelegramUnreachable:  # not tried: Telegram is away and another row tries
            self.health.telegram.retry("messages")
            return again(job, None, attempts=job.attempts, reason="not reachable")
        except NetworkError as error:  # 5xx, timeouts, lost connections: try again later
            return later(job, attempts, describe(error), self.give_up_after)
        except TelegramError as error:  # a 401/404 or a page that is not JSON: a proxy's
            return later(job, attempts, describe(error), self.give_up_after)  # it may pass
        return Outcome(
            job.delivery_id,
            DeliveryStatus.sent,
            attempts,
            message_id=sent.message_id,
            sent_at=utcnow(),
        )

    async def _play(self, chat_id: int, sound: Sound, paid: dict[str, Any] | None) -> None:
        try:
            await self.bot.send_voice(
                chat_id,
                sound.file_id,
                duration=sound.duration or None,
                api_kwargs=paid,
                rate_limit_args=BULK,
            )
        except BadRequest as error:
            log.warning("voice note %s not sent (BadRequest: %s)", sound.voice_id, _reason(error))


def later(job: Claimed, attempts: int, reason: str, give_up_after: timedelta) -> Outcome:
    """Pending again with capped backoff, unless the row has waited too long already (the
    poll closing ends it too: it is skipped when claimed)."""
    now = utcnow()
    if job.queued_at is not None and now - job.queued_at > give_up_after:
        return Outcome(
            job.delivery_id, DeliveryStatus.failed, attempts, error=f"gave up: {reason}"[:64]
        )
    wait = min(2.0 ** (attempts - 1), RETRY_CAP)
    return again(job, now + timedelta(seconds=wait), attempts=attempts, reason=reason)


def again(
    job: Claimed,
    when: datetime | None,
    *,
    attempts: int,
    error: Exception | None = None,
    reason: str | None = None,
) -> Outcome:
    """The row stays pending, to be tried at `when` (None: as soon as it is claimed)."""
    return Outcome(
        job.delivery_id,
        DeliveryStatus.pending,
        attempts,
        error=reason or (short(error) if error else None),
        not_before=when,
    )


def short(error: Exception) -> str:
    return type(error).__name__[:64]


def _reason(error: BadRequest) -> str:
    """Telegram's own words (no message text is in them), without the "Bad Request: "."""
    return error.message.removeprefix("Bad Request: ")[:64]


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
