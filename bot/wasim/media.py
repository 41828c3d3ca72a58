"""Uploaded media, kept in memory: upload, look up (GET /{media-id}) and download."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from bot.wasim.errors import GraphError, missing
from bot.wasim.ids import new_media_id

MB = 1024 * 1024
LIMITS = {
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB,
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
}
MAX_UPLOAD = 101 * MB
KEPT = 30 * 24 * 3600.0
"""Meta keeps an uploaded file 30 days; then its id is unknown."""
# A few bytes with an Ogg page header: enough to stand for a voice note.
OGG_STUB = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00"


@dataclass(frozen=True)
class StoredMedia:
    """One uploaded file."""

    media_id: str
    data: bytes
    mime_type: str
    at: float = 0.0
    """When it was uploaded (the server's clock)."""

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the bytes, as Meta reports it."""
        return hashlib.sha256(self.data).hexdigest()


class MediaStore:
    """Media by id, each for 30 days from its upload (on `clock`, the server's)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.items: dict[str, StoredMedia] = {}
        self.clock = clock
        self._uploaded: set[str] = set()

    def __contains__(self, media_id: object) -> bool:
        return isinstance(media_id, str) and self.get(media_id) is not None

    def get(self, media_id: str) -> StoredMedia | None:
        """The media with this id, or None (also once Meta would have dropped it)."""
        media = self.items.get(media_id)
        return media if media is not None and self.clock() - media.at < KEPT else None

    def live(self) -> dict[str, StoredMedia]:
        """The media ids a message may use now."""
        return {media_id: m for media_id, m in self.items.items() if self.get(media_id)}

    def add(self, data: bytes, mime_type: str) -> StoredMedia:
        """Store bytes under a new id."""
        media = StoredMedia(new_media_id(), data, mime_type, self.clock())
        self.items[media.media_id] = media
        return media

    @property
    def uploads(self) -> list[StoredMedia]:
        """What the bot uploaded (not what users sent), oldest first."""
        return [media for media in self.items.values() if media.media_id in self._uploaded]

    async def upload(self, request: web.Request) -> StoredMedia:
        """Read a multipart upload (file, type, messaging_product) and store it."""
        if not request.content_type.startswith("multipart/"):
            raise missing("file")
        fields: dict[str, str] = {}
        data: bytes | None = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "file":
                data = await part.read(decode=False)
            elif part.name:
                fields[part.name] = await part.text()
        if fields.get("messaging_product") != "whatsapp":
            raise missing("messaging_product")
        if data is None:
            raise missing("file")
        mime_type = fields.get("type", "")
        if not mime_type:
            raise missing("type")
        base = mime_type.split(";", 1)[0].strip().lower()
        if base not in LIMITS:
            kinds = ", ".join(LIMITS)
            text = f"(#100) Param file must be a file with one of the following types: {kinds}."
            raise GraphError(100, text, message=text)
        if len(data) > LIMITS[base]:
            raise GraphError(131053, f"{base} files may be at most {LIMITS[base]} bytes")
        media = self.add(data, mime_type)
        self._uploaded.add(media.media_id)
        return media

    @staticmethod
    def info(media: StoredMedia, url: str) -> dict[str, object]:
        """The answer to GET /{media-id}."""
        return {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.data),
            "id": media.media_id,
        }
