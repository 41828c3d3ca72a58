"""A readable record of the WhatsApp conversation, printed beside the Telegram one."""

from __future__ import annotations

from dataclasses import dataclass, field

PREFIX = "[whatsapp]"
SHORT = 160


@dataclass(frozen=True)
class TranscriptEntry:
    """One step: a user's message or tap (direction "in") or a bot message ("out")."""

    who: str
    direction: str
    kind: str
    text: str
    choices: list[str] = field(default_factory=list)


def short(text: str, limit: int = SHORT) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _line(entry: TranscriptEntry) -> str:
    """One entry as a line."""
    text = entry.text
    if entry.kind not in ("text", "buttons", "list", "template", "tap"):
        text = f"({entry.kind}) {text}".rstrip()
    choices = " ".join(f"[{title}]" for title in entry.choices)
    body = " ".join(part for part in (short(text), choices) if part)
    if entry.direction == "in":
        return f"{PREFIX} {entry.who} → bot: {body}"
    return f"{PREFIX} bot → {entry.who}: {body}"


def render_transcript(entries: list[TranscriptEntry]) -> str:
    """Lines such as "[whatsapp] Amira → bot: hoi" and "[whatsapp] bot → Amira: … [Goed]"."""
    return "\n".join(_line(entry) for entry in entries)
