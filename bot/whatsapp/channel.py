"""The WhatsApp channel in one process: the Cloud API client, the number's pace, whether it
may send at all, what staff are told, and drawing a family core `Reply` as messages.

WhatsApp cannot edit a message or answer a tap with a toast. So a reply is new messages: the
tapped screen is sent again only when it has choices to tap (or nothing else is said), a
toast only when it is all there is (or an alert). A new screen's voice notes go right before
its text (never those of the tapped screen sent again). Numbered lists remember what each number
stands for in a draft of the person, so a typed "7" counts as the seventh choice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.chat.screens import Reply, Screen, Sound
from bot.config import WhatsAppSettings
from bot.texts import Texts
from bot.whatsapp.client import CloudApi, GraphError, Unreachable
from bot.whatsapp.pace import Pace
from bot.whatsapp.render import Outgoing, messages
from bot.whatsapp.voices import MEDIA_PROBLEMS, Fetch, VoiceNotes, audio
from storage import drafts
from storage.db import Database
from storage.models import Address

log = logging.getLogger(__name__)
NUMBERS = ("whatsapp", "numbers")
"""The draft (kind, step) that says what each number of the last numbered list stands for."""
REPLY_TRIES = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
"""Seconds between tries of a reply that did not get through (about two minutes in all)."""
ALERT_EVERY = 3600.0
SENT_MEMORY = 60.0
Alert = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Tell staff on Telegram: a text key of ours and its values."""


class WhatsApp:
    """One business number."""

    def __init__(
        self, settings: WhatsAppSettings, *, db: Database, alert: Alert, fetch: Fetch | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.api = CloudApi(
            base_url=settings.base_url,
            phone_number_id=settings.phone_number_id,
            token=settings.token,
        )
        self.voices = VoiceNotes(db=db, api=self.api, fetch=fetch)
        """Voice notes by media id (`fetch` gets a note's bytes from Telegram to upload)."""
        self.pace = Pace(settings.messages_per_second)
        self._alert = alert
        self._alerted: dict[str, float] = {}
        self.halted: str | None = None
        """Why bulk sending stopped (a quality or policy block by Meta); None while it may."""
        self.halted_until = 0.0
        self.token_refused = False
        self._sent: dict[str, float] = {}
        """Message ids the outbox sent in the last minute (their outcome may not be recorded
        yet when Meta's first status arrives)."""

    def just_sent(self, message_id: str) -> None:
        now = time.monotonic()
        if len(self._sent) > 20_000:
            self._sent = {key: at for key, at in self._sent.items() if now - at < SENT_MEMORY}
        self._sent[message_id] = now

    def expects(self, message_id: str) -> bool:
        """True when a status about this message may just be early (a broadcast of ours)."""
        at = self._sent.get(message_id)
        return at is not None and time.monotonic() - at < SENT_MEMORY

    @property
    def may_broadcast(self) -> bool:
        if self.halted is not None and time.monotonic() >= self.halted_until:
            self.halted = None
        return self.halted is None and not self.token_refused

    async def halt(self, code: int) -> None:
        """Meta flagged the number (131048 spam rate, 368 policy): no bulk for an hour."""
        self.halted = "reason_quality" if code == 131048 else "reason_policy"
        self.halted_until = time.monotonic() + 3600.0
        log.warning("WhatsApp: bulk sending stopped for an hour (error %s)", code)
        await self.tell_staff("whatsapp.staff_paused", key=f"halt-{code}", reason=self.halted)

    async def token_expired(self) -> None:
        if not self.token_refused:
            log.error("WhatsApp: the access token was refused (190); the channel is paused")
        self.token_refused = True
        await self.tell_staff("whatsapp.staff_token", key="token")

    async def tell_staff(self, text: str, *, key: str, **values: Any) -> None:
        """Staff hear of a channel problem once an hour at most."""
        now = time.monotonic()
        if now - self._alerted.get(key, -ALERT_EVERY) < ALERT_EVERY:
            return
        self._alerted[key] = now
        try:
            await self._alert(text, values)
        except Exception as error:
            log.warning("staff not told about WhatsApp (%s)", type(error).__name__)

    async def show(self, t: Texts, address: Address, reply: Reply) -> None:
        """Send a family core reply as WhatsApp messages, in order."""
        screens = _screens(reply)
        fresh = len(screens) - len(reply.then)  # from here on new messages: notes first
        numbers: dict[str, str] = {}
        for index, screen in enumerate(screens):
            if index >= fresh:
                await self.play(address, screen.sounds)
            for outgoing in messages(t, screen):
                if not await self.reply(address, outgoing.body):
                    return
                numbers = outgoing.numbers or numbers
        if any(screen.every_choice for screen in screens):
            await self.remember_numbers(address, numbers)

    async def remember_numbers(self, address: Address, numbers: dict[str, str]) -> None:
        async with self.db.begin() as session:
            if numbers:
                await drafts.save_draft(
                    session, address=address, kind=NUMBERS[0], step=NUMBERS[1], data=numbers
                )
            else:
                await drafts.drop_drafts(session, address=address, kind=NUMBERS[0])

    async def reply(self, address: Address, body: dict[str, Any]) -> bool:
        """One message to a person who just wrote (replies go before broadcasts); tried
        again for about two minutes when WhatsApp is busy or away. False if given up."""
        for wait in (*REPLY_TRIES, None):
            try:
                async with self.pace.slot(bulk=False):
                    await self.api.send(address, body)
                return True
            except GraphError as error:
                if error.code == 190:
                    await self.token_expired()
                    return False
                if error.code not in (130429, 131056, 131000, 131053) or wait is None:
                    log.warning("WhatsApp reply not sent (error %s)", error.code)
                    return False
            except Unreachable as error:
                if wait is None:
                    log.warning("WhatsApp reply given up (%s)", error)
                    return False
            await asyncio.sleep(wait)
        return False

    async def play(self, address: Address, sounds: tuple[Sound, ...]) -> None:
        """Voice notes as replies, in order; one that cannot go is logged and left out (the
        question after it goes all the same)."""
        for sound in sounds:
            media_id = await self.voices.media_id(sound)
            if media_id is None:
                continue
            try:
                async with self.pace.slot(bulk=False):
                    await self.api.send(address, audio(media_id))
            except GraphError as error:
                log.warning("WhatsApp voice note not sent (error %s)", error.code)
                if error.code in MEDIA_PROBLEMS:
                    await self.voices.forget(sound)
                elif error.code == 190:
                    await self.token_expired()
            except Unreachable as error:
                log.warning("WhatsApp voice note not sent (%s)", error)

    async def mark_read(self, message_id: str) -> None:
        """Blue ticks once a message was handled (never a reason to fail the handling)."""
        try:
            async with self.pace.slot(bulk=False):
                await self.api.mark_read(message_id)
        except (GraphError, Unreachable) as error:
            log.info("WhatsApp read mark not set (%s)", type(error).__name__)

    async def close(self) -> None:
        await self.api.close()


def _screens(reply: Reply) -> list[Screen]:
    screens: list[Screen] = []
    shown = reply.shown
    if shown is not None and not reply.then and (shown.every_choice or not reply.toast):
        screens.append(shown)
    elif reply.toast and (reply.alert or not reply.then):
        screens.append(Screen(reply.toast))
    return screens + list(reply.then)


__all__ = ["NUMBERS", "Outgoing", "WhatsApp"]
