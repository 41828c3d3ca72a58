"""What the simulated Telegram remembers: chats, their messages, and uploaded files."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass, field

from bot.botapi.errors import bad_request

JSON = dict[str, object]


@dataclass
class StoredFile:
    """A file Telegram holds: uploaded by the bot or sent by a user."""

    file_id: str
    file_unique_id: str
    data: bytes | None
    filename: str | None
    mime_type: str | None
    duration: int = 0
    """Seconds, for a voice note, an audio file or a video note."""

    @property
    def file_path(self) -> str:
        """The path under base_file_url where the bytes can be downloaded."""
        return f"files/{self.file_unique_id}/{self.filename or 'file'}"


@dataclass
class StoredMessage:
    """A message in a chat, in its current state after edits."""

    message_id: int
    chat: Chat
    sender: JSON
    from_bot: bool
    kind: str
    date: int = field(default_factory=lambda: int(time.time()))
    html: str | None = None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    file: StoredFile | None = None
    extra: JSON = field(default_factory=dict)
    reply_to: StoredMessage | None = None
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False

    def to_dict(self, *, with_reply: bool = True) -> JSON:
        """The Message object the Bot API returns for this message."""
        message: JSON = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_dict(),
            "from": self.sender,
        }
        text_key, entities_key = (
            ("text", "entities") if self.kind == "text" else ("caption", "caption_entities")
        )
        if self.text is not None:
            message[text_key] = self.text
            if self.entities:
                message[entities_key] = self.entities
        if self.file is not None:
            message.update(self._file_dict())
        message.update(self.extra)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            message["reply_to_message"] = self.reply_to.to_dict(with_reply=False)
        return message

    def _file_dict(self) -> JSON:
        """The photo, voice, audio, video note or document part of the Message object."""
        file = self.file
        assert file is not None
        size = len(file.data) if file.data is not None else 0
        ids = {"file_id": file.file_id, "file_unique_id": file.file_unique_id, "file_size": size}
        if self.kind == "photo":
            return {"photo": [{**ids, "width": 320, "height": 240}]}
        if self.kind == "video_note":
            return {"video_note": {**ids, "length": 240, "duration": file.duration}}
        if self.kind in ("voice", "audio"):
            sound = {**ids, "duration": file.duration, "mime_type": file.mime_type}
            if self.kind == "audio":
                sound["file_name"] = file.filename
            return {self.kind: {k: v for k, v in sound.items() if v is not None}}
        document = {**ids, "file_name": file.filename, "mime_type": file.mime_type}
        return {"document": {k: v for k, v in document.items() if v is not None}}


@dataclass
class Chat:
    """A private chat with a simulated user, or a group."""

    id: int
    type: str
    first_name: str | None = None
    title: str | None = None
    username: str | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    reply_keyboard: list[list[str]] | None = None
    voices_forbidden: bool = False
    """The user's privacy settings refuse voice notes (Telegram: VOICE_MESSAGES_FORBIDDEN)."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def to_dict(self) -> JSON:
        """The Chat object of the Bot API."""
        chat: JSON = {"id": self.id, "type": self.type}
        for key in ("first_name", "title", "username"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        return chat

    def full_info(self) -> JSON:
        """The ChatFullInfo object getChat returns."""
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        accepted = {key: True for key in gifts} | {"gifts_from_channels": True}
        extra = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": accepted}
        return self.to_dict() | extra

    def add(self, **fields: object) -> StoredMessage:
        """Store a new message with the next message_id of this chat."""
        message = StoredMessage(message_id=next(self._ids), chat=self, **fields)  # type: ignore[arg-type]
        self.messages[message.message_id] = message
        return message

    def live(self, message_id: int | None) -> StoredMessage | None:
        """A message that exists and was not deleted."""
        message = self.messages.get(message_id) if message_id is not None else None
        return message if message is not None and not message.deleted else None


@dataclass
class BotState:
    """All chats and files, keyed the way the Bot API addresses them."""

    chats: dict[int, Chat] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    commands: dict[tuple[str, int | None, int | None, str], list[JSON]] = field(
        default_factory=dict
    )
    settings: dict[str, JSON] = field(default_factory=dict)
    queries: dict[str, QueryRecord] = field(default_factory=dict)

    def chat(self, chat_id: int | str) -> Chat:
        """The chat a method addresses, or Telegram's "chat not found"."""
        if isinstance(chat_id, str):
            for chat in self.chats.values():
                if chat.username and f"@{chat.username}".lower() == chat_id.lower():
                    return chat
            raise bad_request("chat not found")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def store_file(
        self,
        data: bytes | None,
        filename: str | None,
        mime: str | None,
        *,
        duration: int = 0,
        prefix: str = "BQAC",
    ) -> StoredFile:
        """Keep a file and give it a fresh file_id (`prefix` as Telegram's for its kind)."""
        unique = uuid.uuid4().hex[:12]
        stored = StoredFile(
            f"{prefix}{unique}{uuid.uuid4().hex}", unique, data, filename, mime, duration
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, path: str) -> StoredFile | None:
        """The file served under a download path, if any."""
        return next((f for f in self.files.values() if f.file_path == path), None)


@dataclass
class QueryRecord:
    """A callback query a user made, waiting for answerCallbackQuery."""

    chat_id: int
    user_id: int
    answer: asyncio.Future[str | None]
