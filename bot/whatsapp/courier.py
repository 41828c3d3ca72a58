"""The outbox's courier for WhatsApp: one round's message to one family.

Inside the person's 24-hour window (they wrote to us within a day) the question goes
directly. Outside it only an approved template may go: the round's, reminder's or
follow-up's, with quick replies "Start" / "Not now"; a tap on Start opens the window and the
question follows (`bot.whatsapp.families`). Templates start conversations, and Meta allows a
business only so many a day (`daily_new_conversations`): beyond that a row waits until a
place frees up, by itself.

Meta's answers, by code: 131047 (window closed) → the template at once; 130429 (throughput)
and 131056 (pair rate) → later, nothing lost; 131026 (not on WhatsApp) → failed, no retry;
131048 and 368 (quality, policy) → no bulk sending for an hour, staff told; 190 (token) →
the channel pauses, staff told; 132001 (template missing in that language) → the council's
first language, staff told; 131000, 131053 and no answer at all → tried again with backoff.

An invitation to join the council sent on its own has no template: it goes only within the
window, and a family outside it is skipped ("outside window"; the staff's screen says so).

The question's voice notes go first, by media id (`bot.whatsapp.voices`: uploaded once per
poll). A note Meta refuses (an unknown media id, a file it cannot use) or that cannot be had
is logged and left out; any other refusal counts for the row as the question's would. A row
tried again sends only the notes that did not go before (`bot.delivery.couriers.Played`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.chat.buttons import STARTING
from bot.chat.screens import Screen, Sound
from bot.config import Settings
from bot.delivery.couriers import Played, again, later
from bot.delivery.progress import DAILY_LIMIT
from bot.polls.questions import closes_on
from bot.texts import texts_for
from bot.whatsapp.channel import WhatsApp
from bot.whatsapp.client import GraphError, Unreachable
from bot.whatsapp.render import messages
from bot.whatsapp.voices import MEDIA_PROBLEMS, audio
from storage import whatsapp
from storage.models import WHATSAPP, DeliveryStatus, RoundKind, utcnow
from storage.outbox import Claimed, Outcome
from storage.polls import PollView

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24) - timedelta(minutes=10)
"""A window this close to its end is treated as closed (the send may take a moment)."""
DAY = timedelta(hours=24)
PAUSED = "WhatsApp paused"
RETRY_LATER = {130429: 2.0, 131056: 4.0}
TOMORROW = 131049
"""Meta's per-person limit on marketing messages: try again after a day."""
"""Codes to try again later, and the base of the backoff in seconds."""
TRANSIENT = {131000, 131053}
HALT = {131048, 368}


class WhatsAppCourier:
    """Sends one claimed WhatsApp row."""

    channel = WHATSAPP

    def __init__(self, whatsapp_channel: WhatsApp, settings: Settings) -> None:
        self.wa = whatsapp_channel
        self.settings = settings
        self.limit = settings.whatsapp.daily_new_conversations
        self.templates = settings.whatsapp.templates
        self.clock: Callable[[], datetime] = utcnow
        """Now, for the daily limit (tests move it a day on)."""
        self._counted = 0
        """Templates recorded in the last 24 hours (every process), as of the last batch."""
        self._first: datetime | None = None
        self._recent: deque[datetime] = deque()
        """When this process sent (or is sending) templates, the last 24 hours."""
        self.played = Played()
        """Voice notes that went to rows still pending (a row tried again skips them)."""

    async def prepare(self, session: Any, jobs: list[Claimed]) -> None:
        """How many conversations the business started in the last 24 hours (only needed
        when a row of the batch is outside its window)."""
        if all(_window_open(job) for job in jobs):
            return
        self._counted, self._first = await whatsapp.new_conversations(
            session, since=self.clock() - DAY
        )

    @property
    def waiting_for_limit(self) -> datetime | None:
        """When the daily limit frees a place, while it holds rows back."""
        return self._frees_at() if self._used() >= self.limit else None

    def _used(self) -> int:
        now = self.clock()
        while self._recent and self._recent[0] <= now - DAY:
            self._recent.popleft()
        return max(self._counted, len(self._recent))

    def _frees_at(self) -> datetime:
        oldest = self._recent[0] if self._recent else None
        firsts = [moment for moment in (self._first, oldest) if moment is not None]
        return min(firsts) + DAY if firsts else self.clock() + timedelta(hours=1)

    async def send(self, job: Claimed, screen: Screen, view: PollView | None) -> Outcome:
        return self.played.settled(await self._send(job, screen, view))

    async def _send(self, job: Claimed, screen: Screen, view: PollView | None) -> Outcome:
        if not self.wa.may_broadcast:
            return _paused(job)
        if _window_open(job):
            outcome = await self._direct(job, screen)
            if outcome is not None:
                return outcome
        return await self._template(job, view)

    async def _direct(self, job: Claimed, screen: Screen) -> Outcome | None:
        """The message itself; None when the window turned out to be closed (131047)."""
        t = texts_for(job.language, WHATSAPP)
        sent = messages(t, screen)
        message_id = ""
        try:
            for sound in screen.sounds:
                if self.played.went(job, sound):
                    continue  # the row is tried again: this note went before
                media_id = await self.wa.voices.media_id(sound)
                if media_id is None:
                    continue
                async with self.wa.pace.slot(bulk=True, person=job.address):
                    if not self.wa.may_broadcast:
                        return _paused(job)
                    await self._play(job, sound, media_id)
                self.played.add(job, sound)
            for outgoing in sent:
                async with self.wa.pace.slot(bulk=True, person=job.address):
                    if not self.wa.may_broadcast:
                        return _paused(job)
                    message_id = await self.wa.api.send(job.address, outgoing.body)
        except GraphError as error:
            return None if error.code == 131047 else await self._refused(job, error)
        except Unreachable as error:
            return later(job, job.attempts + 1, f"WhatsApp: {error}"[:64], self._give_up)
        numbers = next((outgoing.numbers for outgoing in sent if outgoing.numbers), None)
        if numbers:
            await self.wa.remember_numbers(job.address, numbers)
        self.wa.just_sent(message_id)
        return _sent(job, message_id, template=False)

    async def _play(self, job: Claimed, sound: Sound, media_id: str) -> None:
        """One voice note; a refusal of the note itself (or no answer) is logged and passed
        over, any other one is the row's (raised)."""
        try:
            await self.wa.api.send(job.address, audio(media_id))
        except GraphError as error:
            if error.code not in MEDIA_PROBLEMS:
                raise
            log.warning("WhatsApp voice note not sent (error %s)", error.code)
            await self.wa.voices.forget(sound)
        except Unreachable as error:
            log.warning("WhatsApp voice note not sent (%s)", error)

    async def _template(self, job: Claimed, view: PollView | None) -> Outcome:
        """Outside the window: the approved template, if the daily limit allows one more."""
        if job.kind is RoundKind.invitation:  # no template of its own: only within the window
            return Outcome(
                job.delivery_id, DeliveryStatus.skipped, job.attempts, error="outside window"
            )
        if view is None:
            return Outcome(job.delivery_id, DeliveryStatus.skipped, job.attempts)
        if self._used() >= self.limit:
            wait = max(self._frees_at() - self.clock(), timedelta(minutes=1))
            return again(job, utcnow() + wait, attempts=job.attempts, reason=DAILY_LIMIT)
        stamp = self.clock()
        self._recent.append(stamp)  # the place is taken while the send is under way
        outcome = await self._send_template(job, view)
        if outcome.status is not DeliveryStatus.sent:
            self._recent.remove(stamp)
        return outcome

    async def _send_template(self, job: Claimed, view: PollView) -> Outcome:
        language = job.language
        for _ in range(2):
            try:
                async with self.wa.pace.slot(bulk=True, person=job.address):
                    if not self.wa.may_broadcast:
                        return _paused(job)
                    body = self._body(job, view, language)
                    message_id = await self.wa.api.send(job.address, body)
            except GraphError as error:
                if error.code == 132001 and language != job.council_language:
                    await self.wa.tell_staff(
                        "whatsapp.staff_template",
                        key=f"template-{self._name(job)}-{language}",
                        template=self._name(job),
                        language=language,
                        fallback=texts_for(job.council_language)("account.language_name"),
                    )
                    language = job.council_language
                    continue
                return await self._refused(job, error)
            except Unreachable as error:
                return later(job, job.attempts + 1, f"WhatsApp: {error}"[:64], self._give_up)
            self.wa.just_sent(message_id)
            return _sent(job, message_id, template=True)
        return Outcome(
            job.delivery_id, DeliveryStatus.failed, job.attempts + 1, error="template missing"
        )

    def _name(self, job: Claimed) -> str:
        return {
            RoundKind.questions: self.templates.round,
            RoundKind.reminder: self.templates.reminder,
            RoundKind.followup: self.templates.followup,
        }[job.kind]

    def _body(self, job: Claimed, view: PollView, language: str) -> dict[str, Any]:
        values = [job.council, view.poll.title]
        if job.kind is RoundKind.reminder:
            values.append(closes_on(view))
        buttons = [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [
                    {"type": "payload", "payload": STARTING.data(step, job.delivery_id)}
                ],
            }
            for index, step in enumerate(("s", "n"))
        ]
        body = {"type": "body", "parameters": [{"type": "text", "text": _param(v)} for v in values]}
        return {
            "type": "template",
            "template": {
                "name": self._name(job),
                "language": {"code": language, "policy": "deterministic"},
                "components": [body, *buttons],
            },
        }

    async def _refused(self, job: Claimed, error: GraphError) -> Outcome:
        attempts = job.attempts + 1
        code = error.code
        if code in RETRY_LATER:
            wait = min(RETRY_LATER[code] ** min(attempts, 4), 300.0)
            return again(
                job,
                utcnow() + timedelta(seconds=wait),
                attempts=attempts,
                reason=f"WhatsApp busy ({code})",
            )
        if code == TOMORROW:
            return again(job, utcnow() + DAY, attempts=attempts, reason=f"WhatsApp ({code})")
        if code == 131026:
            return Outcome(job.delivery_id, DeliveryStatus.failed, attempts, error="undeliverable")
        if code in HALT:
            await self.wa.halt(code)
            return again(job, utcnow() + timedelta(hours=1), attempts=job.attempts, reason=PAUSED)
        if code == 190:
            await self.wa.token_expired()
            return again(job, utcnow() + timedelta(hours=1), attempts=job.attempts, reason=PAUSED)
        if code in TRANSIENT:
            return later(job, attempts, f"WhatsApp error {code}", self._give_up)
        return Outcome(
            job.delivery_id, DeliveryStatus.failed, attempts, error=f"WhatsApp error {code}"
        )

    @property
    def _give_up(self) -> timedelta:
        return self.settings.telegram.give_up_after


def _paused(job: Claimed) -> Outcome:
    """Meta stopped us (or the token is refused): the row waits, nothing is lost."""
    return again(job, utcnow() + timedelta(minutes=5), attempts=job.attempts, reason=PAUSED)


def _window_open(job: Claimed) -> bool:
    return not job.template and job.window_at is not None and utcnow() - job.window_at < WINDOW


def _sent(job: Claimed, message_id: str, *, template: bool) -> Outcome:
    return Outcome(
        job.delivery_id,
        DeliveryStatus.sent,
        job.attempts + 1,
        sent_at=utcnow(),
        external_id=whatsapp.message_key(message_id) if message_id else None,
        template=template,
        receipt=1,
    )


def _param(value: str) -> str:
    """A template parameter: one line, no runs of spaces (Meta refuses those)."""
    return " ".join(str(value).split())[:200] or "-"
