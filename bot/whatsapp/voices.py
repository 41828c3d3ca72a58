"""Council members' voice notes on WhatsApp: uploaded once per poll, then sent by media id.

A note is recorded on Telegram, so the first time a family on WhatsApp is to hear it the bytes
come from Telegram (`fetch`, wired in `bot.run.whatsapp`) and go to Meta's media upload. The
media id is stored on the `Voice` row (so other processes use it too) and kept in this
process's memory. Meta keeps an uploaded file 30 days; after 29 it is uploaded again. Nothing
here ever stops a question: a note that cannot be had is logged and left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.chat.screens import Sound
from bot.whatsapp.client import CloudApi, GraphError
from storage import voices
from storage.db import Database
from storage.models import utcnow

log = logging.getLogger(__name__)
Fetch = Callable[[str], Awaitable[bytes]]
"""The bytes of a Telegram file, by its file id."""
FRESH = timedelta(days=29)
"""How long an uploaded note is used (Meta keeps media 30 days)."""
MIME = "audio/ogg"
MEDIA_PROBLEMS = frozenset({100, 131009, 131051, 131052, 131053})
"""Codes of a send that refused the audio itself (an unknown or expired media id, a file
Meta cannot use): the question goes without it."""


def audio(media_id: str) -> dict[str, object]:
    """The Cloud API body of a voice note (an .ogg with OPUS plays as one)."""
    return {"type": "audio", "audio": {"id": media_id, "voice": True}}


class VoiceNotes:
    """Media ids of voice notes, uploaded when first needed (once at a time per note)."""

    def __init__(self, *, db: Database, api: CloudApi, fetch: Fetch | None) -> None:
        self.db = db
        self.api = api
        self.fetch = fetch
        self.clock: Callable[[], datetime] = utcnow
        self._known: dict[int, tuple[str, datetime]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def media_id(self, sound: Sound) -> str | None:
        """The media id to send `sound` by; None (logged) when it cannot be had now."""
        known = self._fresh(sound.voice_id)
        if known is not None:
            return known
        lock = self._locks.setdefault(sound.voice_id, asyncio.Lock())
        async with lock:
            known = self._fresh(sound.voice_id)
            if known is None:
                known = await self._stored(sound.voice_id)
            if known is None:
                known = await self._upload(sound)
            return known

    async def forget(self, sound: Sound) -> None:
        """Meta refused the media id: upload the note again next time."""
        self._known.pop(sound.voice_id, None)
        try:
            async with self.db.begin() as session:
                await voices.set_media(session, voice_id=sound.voice_id, media_id=None, at=None)
        except Exception as error:
            log.warning("voice note %s not reset (%s)", sound.voice_id, type(error).__name__)

    def _fresh(self, voice_id: int) -> str | None:
        known = self._known.get(voice_id)
        if known is None or self.clock() - known[1] >= FRESH:
            return None
        return known[0]

    async def _stored(self, voice_id: int) -> str | None:
        """Uploaded by this or another process before, and still fresh."""
        async with self.db.read() as session:
            media_id, at = await voices.media_of(session, voice_id=voice_id)
        if media_id is None or at is None:
            return None
        self._known[voice_id] = (media_id, at)
        return self._fresh(voice_id)

    async def _upload(self, sound: Sound) -> str | None:
        if self.fetch is None:
            return None
        try:
            data = await self.fetch(sound.file_id)
            media_id = await self.api.upload(data, MIME)
        except GraphError as error:
            log.warning("voice note %s not uploaded (error %s)", sound.voice_id, error.code)
            return None
        except Exception as error:  # Telegram or Meta away, or the file is gone
            log.warning("voice note %s not uploaded (%s)", sound.voice_id, type(error).__name__)
            return None
        at = self.clock()
        self._known[sound.voice_id] = (media_id, at)
        try:
            async with self.db.begin() as session:
                await voices.set_media(session, voice_id=sound.voice_id, media_id=media_id, at=at)
        except Exception as error:  # this process still knows it
            log.warning("voice note %s not stored (%s)", sound.voice_id, type(error).__name__)
        return media_id


__all__ = ["MEDIA_PROBLEMS", "Fetch", "VoiceNotes", "audio"]
