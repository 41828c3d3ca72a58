"""Simulated users and groups: what a test does as a person talking to the bot."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.botapi.html_entities import utf16_len
from bot.botapi.markup import Button, inline_buttons
from bot.botapi.state import JSON, Chat, QueryRecord, StoredMessage
from bot.botapi.transcript import SOUNDS, sound_label

if TYPE_CHECKING:
    from bot.botapi.server import LocalBotApi

# A 1x1 PNG, what send_photo uploads by default.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105fe02fea70000000049454e44ae426082"
)
# A few bytes with an Ogg page header and an OpusHead: enough to stand for a voice note.
OGG_OPUS = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(16)
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(16)
_query_ids = itertools.count(1)


@dataclass(frozen=True)
class SentMessage:
    """A bot message as the user sees it now (after edits)."""

    message_id: int
    chat_id: int
    html: str | None
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    kind: str = "text"
    file: bytes | None = None
    filename: str | None = None
    edits: int = 0
    file_id: str | None = None
    duration: int | None = None
    """Seconds, for a voice note (kind "voice"), an audio file or a video note."""

    @property
    def labels(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [button.text for row in self.buttons for button in row]

    @classmethod
    def of(cls, message: StoredMessage) -> SentMessage:
        """Snapshot a stored message."""
        file = message.file
        return cls(
            message_id=message.message_id,
            chat_id=message.chat.id,
            html=message.html,
            text=message.text or "",
            buttons=inline_buttons(message.reply_markup),
            kind=message.kind,
            file=file.data if file else None,
            filename=file.filename if file else None,
            edits=message.edits,
            file_id=file.file_id if file else None,
            duration=file.duration if file and message.kind in SOUNDS else None,
        )

    @property
    def shown(self) -> str:
        """What the user sees in a line: the text, or "[voice 3s]" (and its caption)."""
        if self.duration is not None:
            return sound_label(self.kind, self.duration, self.text or None)
        return self.text


def command_entities(text: str) -> list[JSON]:
    """A bot_command entity for a leading "/command" (with an optional @botname)."""
    if not text.startswith("/") or len(text) < 2:
        return []
    token = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(token)}]


def bot_messages(chat: Chat) -> list[StoredMessage]:
    """The bot's live messages in a chat, oldest first."""
    return [m for m in chat.messages.values() if m.from_bot and not m.deleted]


def button_listing(chat: Chat) -> str:
    """The visible inline buttons of a chat, for an assertion message."""
    lines = []
    for message in reversed(bot_messages(chat)):
        labels = [b.text for row in inline_buttons(message.reply_markup) for b in row]
        if labels:
            lines.append(f"message {message.message_id}: " + " ".join(f"[{t}]" for t in labels))
    return "; ".join(lines) or "no inline buttons at all"


class _Person:
    """Shared behaviour of a simulated person acting in some chat."""

    def __init__(
        self, server: LocalBotApi, user_id: int, first_name: str, lang: str | None
    ) -> None:
        self._server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = lang
        self.toasts: list[str] = []
        self.last_sent: StoredMessage | None = None

    @property
    def user_dict(self) -> JSON:
        """This person as a Telegram User object."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    async def post(self, chat: Chat, action: str, note: str, **fields: object) -> int:
        """Store a message from this person in a chat and deliver it to the bot."""
        message = chat.add(sender=self.user_dict, from_bot=False, **fields)
        self.last_sent = message
        self._server.note_user(self.id, chat.id, action, note)
        return await self._server.deliver_raw({"message": message.to_dict()})

    async def post_text(self, chat: Chat, text: str) -> int:
        """A text message, with a bot_command entity when it starts with "/"."""
        entities = command_entities(text)
        return await self.post(chat, "send", text, kind="text", text=text, entities=entities)

    async def press_in(self, chat: Chat, label: str) -> str | None:
        """Press the inline button with this text on the newest bot message that has it."""
        for message in reversed(bot_messages(chat)):
            for row in inline_buttons(message.reply_markup):
                for button in row:
                    if button.text != label:
                        continue
                    if button.callback_data is None:
                        raise AssertionError(f"button {label!r} opens a URL ({button.url})")
                    return await self.callback(chat, message, button.callback_data, label)
        raise AssertionError(
            f"no button {label!r} in chat {chat.id}; visible: {button_listing(chat)}"
        )

    def queue_callback(
        self, chat: Chat, message: StoredMessage, data: str, label: str
    ) -> tuple[int, asyncio.Future[str | None]]:
        """Queue a callback query for the bot without waiting: its update id, and a future
        that gets the toast when the bot answers it."""
        query_id = f"{self.id}{next(_query_ids):08d}"
        answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._server.state.queries[query_id] = QueryRecord(chat.id, self.id, answer)
        self._server.note_user(self.id, chat.id, "press", label)
        query = {
            "id": query_id,
            "from": self.user_dict,
            "chat_instance": f"{abs(chat.id) * 7919 % 10**12}",
            "message": message.to_dict(),
            "data": data,
        }
        return self._server.queue.put({"callback_query": query}), answer

    async def callback(
        self, chat: Chat, message: StoredMessage, data: str, label: str
    ) -> str | None:
        """Deliver a callback query and return the toast the bot answered with."""
        update_id, answer = self.queue_callback(chat, message, data, label)
        await self._server.queue.wait_confirmed(update_id, self._server.wait_timeout)
        timeout = self._server.wait_timeout
        try:
            toast = await asyncio.wait_for(asyncio.shield(answer), timeout)
        except TimeoutError:
            raise AssertionError(
                f"callback query for {label!r} was not answered (answerCallbackQuery) "
                f"within {timeout:g}s"
            ) from None
        if toast:
            self.toasts.append(toast)
        return toast


class SimUser(_Person):
    """A person in a private chat with the bot."""

    def __init__(self, server: LocalBotApi, chat: Chat, first_name: str, lang: str | None) -> None:
        super().__init__(server, chat.id, first_name, lang)
        self.chat = chat

    async def send(self, text: str) -> int:
        """Send a text message; returns the update_id once the bot confirmed it."""
        return await self.post_text(self.chat, text)

    async def command(self, name: str, *args: str) -> int:
        """Send "/name arg1 arg2"."""
        return await self.send(" ".join([f"/{name.lstrip('/')}", *args]))

    async def press(self, label: str) -> str | None:
        """Press an inline button by its text; returns the toast (None without text)."""
        return await self.press_in(self.chat, label)

    def tap_nowait(self, label: str) -> int:
        """Press a button on the newest bot message that has it, without waiting for the bot
        (as many people tapping at once); returns the update id."""
        for message in reversed(bot_messages(self.chat)):
            for row in inline_buttons(message.reply_markup):
                for button in row:
                    if button.text == label and button.callback_data is not None:
                        return self.queue_callback(self.chat, message, button.callback_data, label)[
                            0
                        ]
        raise AssertionError(f"no button {label!r}; visible: {button_listing(self.chat)}")

    async def press_data(self, data: str, message_id: int | None = None) -> str | None:
        """Send a callback query with any (possibly forged) data on a bot message."""
        messages = bot_messages(self.chat)
        if message_id is not None:
            messages = [m for m in messages if m.message_id == message_id]
        if not messages:
            raise AssertionError(f"no bot message {message_id or ''} in chat {self.id} to press on")
        return await self.callback(self.chat, messages[-1], data, f"data {data!r}")

    async def send_sticker(self, emoji: str = "👍") -> int:
        """Send a sticker."""
        sticker = {
            "file_id": f"CAACsticker{self.id}",
            "file_unique_id": f"st{self.id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self.post(
            self.chat, "sticker", emoji, kind="sticker", extra={"sticker": sticker}
        )

    async def send_photo(self, caption: str | None = None, data: bytes = TINY_PNG) -> int:
        """Send a photo, optionally with a caption."""
        stored = self._server.state.store_file(data, "photo.png", "image/png")
        return await self.post(
            self.chat, "photo", caption or "(photo)", kind="photo", text=caption, file=stored
        )

    async def send_voice(self, duration: int = 3, data: bytes = OGG_OPUS) -> int:
        """Send a voice note (its file can be fetched with getFile and downloaded)."""
        stored = self._server.state.store_file(
            data, "voice.oga", "audio/ogg", duration=duration, prefix="AwAC"
        )
        shown = sound_label("voice", duration)
        return await self.post(self.chat, "voice", shown, kind="voice", file=stored)

    async def send_audio(self, duration: int = 5, data: bytes = MP3) -> int:
        """Send an audio file (an MP3, as a music player plays it)."""
        stored = self._server.state.store_file(
            data, "opname.mp3", "audio/mpeg", duration=duration, prefix="CQAC"
        )
        shown = sound_label("audio", duration)
        return await self.post(self.chat, "audio", shown, kind="audio", file=stored)

    async def send_video_note(self, duration: int = 4, data: bytes = MP4) -> int:
        """Send a video note (the round video message)."""
        stored = self._server.state.store_file(
            data, None, "video/mp4", duration=duration, prefix="DQAC"
        )
        shown = sound_label("video_note", duration)
        return await self.post(self.chat, "video_note", shown, kind="video_note", file=stored)

    async def edit_last_message(self, text: str) -> int:
        """Edit this user's last text message (an edited_message update)."""
        message = self.last_sent
        if message is None or message.kind != "text":
            raise AssertionError(f"user {self.id} has no text message to edit")
        message.text, message.entities = text, command_entities(text)
        message.edits += 1
        message.edit_date = max(message.date, self._server.now())
        self._server.note_user(self.id, self.chat.id, "edit", text)
        return await self._server.deliver_raw({"edited_message": message.to_dict()})

    @property
    def messages(self) -> list[SentMessage]:
        """The bot's messages in this chat as they are now; deleted ones left out."""
        return [SentMessage.of(m) for m in bot_messages(self.chat)]

    @property
    def last(self) -> SentMessage | None:
        """The bot's newest message in this chat."""
        messages = bot_messages(self.chat)
        return SentMessage.of(messages[-1]) if messages else None

    @property
    def inbox(self) -> list[str]:
        """The bot's messages in this chat as one line each, in order: texts, and voice
        notes as "[voice 3s]"."""
        return [message.shown for message in self.messages]

    @property
    def keyboard(self) -> list[list[str]] | None:
        """The reply keyboard the bot shows this user, if any."""
        return self.chat.reply_keyboard


class SimGroup:
    """A group chat with the bot in it."""

    def __init__(self, server: LocalBotApi, chat: Chat) -> None:
        self._server = server
        self.chat = chat
        self.id = chat.id

    async def send(self, user: SimUser, text: str) -> int:
        """A user sends a text message in the group."""
        return await user.post_text(self.chat, text)

    async def press(self, user: SimUser, label: str) -> str | None:
        """A user presses an inline button on a bot message in the group."""
        return await user.press_in(self.chat, label)

    @property
    def messages(self) -> list[SentMessage]:
        """The bot's messages in the group as they are now."""
        return [SentMessage.of(m) for m in bot_messages(self.chat)]

    @property
    def last(self) -> SentMessage | None:
        """The bot's newest message in the group."""
        messages = bot_messages(self.chat)
        return SentMessage.of(messages[-1]) if messages else None
