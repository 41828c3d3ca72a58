"""What to show a person, in no channel's terms: a text and the choices under it.

The family core (bot/family/) and the poll rendering (bot/polls/questions.py) return these; a
channel draws them: Telegram as inline keyboards (`bot.chat.keyboards.markup`), a channel
without buttons that can be edited as new messages. A choice's `data` is its button data
(bot/chat/buttons.py), the same on every channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.models import Role


@dataclass(frozen=True)
class Choice:
    label: str
    data: str


@dataclass(frozen=True)
class Sound:
    """A voice note a council member recorded, played right before a screen's text."""

    voice_id: int
    """The stored `storage.models.Voice` (WhatsApp keeps its media id there once uploaded)."""
    file_id: str
    """Telegram's file id: the note is sent again by it."""
    duration: int = 0


@dataclass(frozen=True)
class Screen:
    text: str
    choices: tuple[Choice, ...] = ()
    per_row: int = 1
    """How many choices fit side by side (faces, grades) where the channel lays them out."""
    footer: tuple[Choice, ...] = ()
    """Choices below the others, each on a row of its own (skip, done)."""
    sounds: tuple[Sound, ...] = ()
    """Voice notes to send right before the text, in order, when the screen is sent as a new
    message (a poll's introduction, then the question); never when a screen is redrawn."""

    @property
    def every_choice(self) -> tuple[Choice, ...]:
        return self.choices + self.footer


@dataclass
class Reply:
    """The answer to one input of a person.

    `toast` acknowledges a tap briefly (Telegram: the callback answer; `alert` makes it a box
    to close). `shown` is the tapped message as it should look now: a channel that can edit
    redraws it, another may send it anew or leave it. `then` are new messages, in order."""

    toast: str | None = None
    alert: bool = False
    shown: Screen | None = None
    then: list[Screen] = field(default_factory=list)
    buttons_only: bool = False
    """Only the choices of `shown` changed: a channel that can edit redraws just those."""
    menu: tuple[Role | None, str] | None = None
    """The person's role and language changed: a channel with a command menu redraws it."""
