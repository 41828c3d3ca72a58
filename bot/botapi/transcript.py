"""A readable record of the conversation: who sent, pressed or edited what."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

SEND_MARK = "\u203a"  # a single right-pointing angle quotation mark
MARKS = {
    "send": SEND_MARK,
    "press": "⦿",
    "edit": "✎",
    "delete": "✗",
    "toast": "◌",
    "photo": "▣",
    "document": "▤",
    "sticker": "☺",
    "voice": "♪",
    "audio": "♫",
    "video_note": "◉",
}
SOUNDS = ("voice", "audio", "video_note")
"""Kinds of message that play: shown as "[voice 3s]" and the caption, if any."""
WIDTH = 78


@dataclass(frozen=True)
class TranscriptEntry:
    """One step: a user's action in a chat, or the bot's message or edit to a chat."""

    from_bot: bool
    chat_id: int
    user_id: int | None
    action: str
    text: str
    labels: list[list[str]] = field(default_factory=list)


def sound_label(kind: str, duration: int, caption: str | None = None) -> str:
    """How a voice note, audio file or video note shows in the transcript: "[voice 3s]"."""
    label = f"[{kind.replace('_', ' ')} {duration}s]"
    return f"{label} {caption}" if caption else label


def _speaker(entry: TranscriptEntry, names: dict[int, str], many_chats: bool) -> str:
    """The name in the left column."""
    if not entry.from_bot:
        user = entry.user_id if entry.user_id is not None else entry.chat_id
        return names.get(user, str(user))
    if many_chats:
        return f"bot→{names.get(entry.chat_id, str(entry.chat_id))}"
    return "bot"


def _body(entry: TranscriptEntry) -> str:
    """The text column, with a hint for edits and deletions."""
    if entry.action == "edit":
        return f"(edited) {entry.text}"
    if entry.action == "delete":
        return f"(deleted) {entry.text}"
    if entry.action == "toast":
        return f"(toast) {entry.text}"
    return entry.text


def render_transcript(entries: list[TranscriptEntry], names: dict[int, str] | None = None) -> str:
    """Render entries as short, wrapped terminal lines."""
    names = names or {}
    many_chats = len({entry.chat_id for entry in entries}) > 1
    speakers = [_speaker(entry, names, many_chats) for entry in entries]
    column = max((len(s) for s in speakers), default=3)
    lines: list[str] = []
    for entry, speaker in zip(entries, speakers, strict=True):
        head = f"{speaker:<{column}} {MARKS.get(entry.action, SEND_MARK)} "
        indent = " " * len(head)
        body_width = max(WIDTH - len(head), 20)
        paragraphs = _body(entry).splitlines() or [""]
        wrapped = [line for p in paragraphs for line in (textwrap.wrap(p, body_width) or [""])]
        lines.append(head + wrapped[0])
        lines.extend(indent + line for line in wrapped[1:])
        for row in entry.labels:
            lines.append(indent + " ".join(f"[{label}]" for label in row))
    return "\n".join(lines)
