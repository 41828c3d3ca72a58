"""The demo's transcript: what happened on Telegram and on WhatsApp, in the order it happened,
each line tagged with its channel.

Neither simulator stamps its entries with a time, but both run in the demo's one event loop
and append each step to their `transcript` list the moment it happens. So each list is swapped
for one that also appends the step to a shared timeline: the order of that timeline is the
order in which things happened, exactly (no clock, no ties), and each simulator's own list
stays as it was for anything else that reads it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bot.botapi.transcript import MARKS, SEND_MARK
from bot.botapi.transcript import TranscriptEntry as TelegramEntry
from bot.wasim import TranscriptEntry as WhatsAppEntry

TELEGRAM, WHATSAPP = "telegram", "whatsapp"
WIDTH = 90
HINTS = {"edit": "(edited) ", "delete": "(deleted) ", "toast": "(toast) "}
MOMENT = re.compile(r"(\d{2}-\d{2}-\d{4}) (\d{1,2}:\d{2})")
GLUE = "\x00"  # holds a moment's date and time together while wrapping; no message has one
Entry = TelegramEntry | WhatsAppEntry


class Simulator(Protocol):
    transcript: list


class _Journal(list):
    """A simulator's transcript that also notes every step in the shared timeline."""

    def __init__(self, channel: str, steps: list[tuple[str, Entry]], entries: Iterable) -> None:
        super().__init__(entries)
        self._channel = channel
        self._steps = steps

    def append(self, entry: Entry) -> None:
        super().append(entry)
        self._steps.append((self._channel, entry))


@dataclass
class Timeline:
    """Every step of both channels, in order."""

    steps: list[tuple[str, Entry]] = field(default_factory=list)

    def watch(self, channel: str, simulator: Simulator) -> None:
        """Note the simulator's steps from now on."""
        simulator.transcript = _Journal(channel, self.steps, simulator.transcript)

    def mark(self) -> int:
        """Where the steps so far end, to render what comes after."""
        return len(self.steps)

    def render(self, start: int, names: dict[int, str]) -> str:
        """The steps from `start` on as wrapped lines, "[telegram]" or "[whatsapp]" first;
        `names` are the Telegram users' names (a WhatsApp step carries its own)."""
        steps = self.steps[start:]
        people = {_person(entry, names) for _, entry in steps}
        rows = [(channel, *_row(entry, names, many=len(people) > 1)) for channel, entry in steps]
        column = max((len(speaker) for _, speaker, _, _, _ in rows), default=3)
        lines: list[str] = []
        for channel, speaker, mark, body, choices in rows:
            head = f"[{channel}] {speaker:<{column}} {mark} "
            indent = " " * len(head)
            width = max(WIDTH - len(head), 20)
            wrapped = [line for p in body.splitlines() or [""] for line in _wrap(p, width)]
            lines.append(head + wrapped[0])
            lines.extend(indent + line for line in wrapped[1:])
            lines.extend(indent + " ".join(f"[{label}]" for label in row) for row in choices)
        return "\n".join(lines)


def _wrap(paragraph: str, width: int) -> list[str]:
    """Lines of at most `width`, but a link stays whole (to copy it), and so does a moment
    ("10-12-2026 18:50", not the time alone on the next line)."""
    kept = MOMENT.sub(rf"\1{GLUE}\2", paragraph)
    wrapped = textwrap.wrap(kept, width, break_long_words=False, break_on_hyphens=False)
    return [line.replace(GLUE, " ") for line in wrapped] or [""]


def _person(entry: Entry, names: dict[int, str]) -> str:
    """Whose conversation a step is in."""
    if isinstance(entry, WhatsAppEntry):
        return f"{WHATSAPP}:{entry.who}"
    return names.get(entry.chat_id, str(entry.chat_id))


def _row(
    entry: Entry, names: dict[int, str], *, many: bool
) -> tuple[str, str, str, list[list[str]]]:
    """Speaker, mark, text and rows of choices of one step."""
    if isinstance(entry, WhatsAppEntry):
        return _whatsapp(entry, many=many)
    if entry.from_bot:
        speaker = f"bot→{names.get(entry.chat_id, entry.chat_id)}" if many else "bot"
    else:
        user = entry.user_id if entry.user_id is not None else entry.chat_id
        speaker = names.get(user, str(user))
    body = HINTS.get(entry.action, "") + entry.text
    return speaker, MARKS.get(entry.action, SEND_MARK), body, entry.labels


def _whatsapp(entry: WhatsAppEntry, *, many: bool) -> tuple[str, str, str, list[list[str]]]:
    if entry.direction == "in":
        if entry.kind == "tap":
            return entry.who, MARKS["press"], entry.text.removeprefix("[").removesuffix("]"), []
        body = entry.text if entry.kind == "text" else f"({entry.kind}) {entry.text}".rstrip()
        return entry.who, SEND_MARK, body, []
    speaker = f"bot→{entry.who}" if many else "bot"
    shown = entry.kind in ("text", "buttons", "list")  # a template says so
    body = entry.text if shown else f"({entry.kind}) {entry.text}".rstrip()
    return speaker, SEND_MARK, body, [entry.choices] if entry.choices else []
