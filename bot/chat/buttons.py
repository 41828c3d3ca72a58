"""Every button the bot makes, declared once: its prefix, what it means, the shape of its data.

Button data is `prefix:part:part…` (at most 64 bytes, Telegram's limit). A button either has a
fixed number of parts, or a step as its first part with a fixed number of parts after each
step. `parse` is the only reader of button data: anything that does not have exactly the
declared shape is refused (None), and the feature then says the button is stale. The fuzz test
forges data for every prefix and step declared here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

REGISTRY: dict[str, Button] = {}
MAX_CALLBACK_BYTES = 64
MAX_LABEL = 40
MAX_ID = 2**31 - 1
"""The largest id an INTEGER column holds (on PostgreSQL)."""


def callback_data(*parts: object) -> str:
    """`prefix:part:part`, checked against Telegram's 64-byte limit."""
    data = ":".join(str(part) for part in parts)
    if not 0 < len(data.encode()) <= MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data of {len(data.encode())} bytes")
    return data


def plain_number(text: str) -> int | None:
    """`text` as an id when it is plain ASCII digits up to MAX_ID; None otherwise (str.isdigit
    also takes "²" or "٣", and 25 nines, which int() or the database then refuse)."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))):
        return None
    return int(text) if int(text) <= MAX_ID else None


@dataclass(frozen=True, eq=False)
class Button:
    """One kind of button; declared once, compared by identity."""

    prefix: str
    means: str
    size: int = 1
    """Parts after the prefix, for a button without steps."""
    steps: Mapping[str, int] = field(default_factory=dict)
    """Step (the first part) → number of parts after it."""

    def __post_init__(self) -> None:
        if ":" in self.prefix or self.prefix in REGISTRY:
            raise ValueError(f"button prefix {self.prefix!r} is declared twice")
        REGISTRY[self.prefix] = self

    def data(self, *parts: object) -> str:
        """The data for this button, checked against its shape and the 64-byte limit."""
        if self.parse(callback_data(self.prefix, *parts)) is None:
            raise ValueError(f"{self.prefix} button with parts {parts!r}")
        return callback_data(self.prefix, *parts)

    def parse(self, data: str | None) -> list[str] | None:
        """The parts after the prefix (the step first), or None unless exactly this shape."""
        prefix, *parts = (data or "").split(":")
        if prefix != self.prefix:
            return None
        if not self.steps:
            return parts if len(parts) == self.size else None
        if not parts or self.steps.get(parts[0]) != len(parts) - 1:
            return None
        return parts

    @property
    def pattern(self) -> str:
        """The pattern that routes this button's taps to its handler."""
        return rf"^{re.escape(self.prefix)}:"

    def step_pattern(self, step: str) -> str:
        return rf"^{re.escape(self.prefix)}:{re.escape(step)}:"


def parse(data: str | None) -> tuple[Button, list[str]] | None:
    """Which declared button this data is, and its parts; None for data of no known shape."""
    button = REGISTRY.get((data or "").split(":", 1)[0])
    parts = button.parse(data) if button else None
    return (button, parts) if button and parts is not None else None


def _steps(names: str, size: int = 1) -> dict[str, int]:
    return dict.fromkeys(names.split(), size)


# Families: answering a poll (bot/polls/questions.py draws them).
ANSWER = Button("qa", "answer: question, value (option, face, grade, 1/2/3 yes/no/?)", size=2)
TOGGLE = Button("qm", "several choices: question, the selection shown (a bit per option)", size=2)
DONE = Button("qd", "several choices done: question, the selection to store", size=2)
PICK = Button("qp", "priorities: question, the picks so far as hex digits, '-' for none", size=2)
SKIP = Button("qs", "skip: question")
OPEN = Button("qo", "open question: question; the next typed message is the answer")
CHANGE = Button("qc", "change the answer: question")
ANSWERING = (ANSWER, TOGGLE, DONE, PICK, SKIP, OPEN, CHANGE)

# Families: joining and their own account.
SIGNUP = Button("su", "joining: step, language, invite code", steps=_steps("l n y u x g a", 2))
LANGUAGE = Button("lang", "choose a language: its code")
FORGET = Button("fg", "forget me: yes or no")
"""The one button whose forgery does harm only to the one who forges it: it erases them."""
STARTING = Button(
    "ws",
    "a round's invitation outside a chat window: start or later, delivery",
    steps=_steps("s n"),
)
"""WhatsApp: the quick replies of a round's template ("Start" / "Not now")."""
HELPLINE = Button(
    "hc", "after the help lines: contact me (a) or no thanks (n); council", steps=_steps("a n")
)
"""The only way an anonymous family chooses to be known: to their council's staff."""

# Council and staff.
INVITE = Button("inv", "making an invite, its poster: step, value", steps=_steps("c r t e u p x"))
NEWPOLL = Button(
    "np", "writing a poll: step, value", steps=_steps("c t k a an o cl ch p e x tr pv vw vl")
)
POLLS = Button(
    "pl",
    "a poll: view, close, follow-up, send, cancel, later (a language); poll",
    steps=_steps("v c f s x l"),
)
REMIND = Button("rm", "remind: poll")
SCHEDULE = Button(
    "sc",
    "recurring rounds: step, the choices so far",
    steps={"new": 1, "t": 1, "e": 2, "d": 3, "n": 4, "h": 5, "s": 6, "p": 1, "r": 1, "x": 1},
)
TEMPLATES = Button("tp", "share or unshare a template: template", steps=_steps("share unshare"))
RESULTS = Button(
    "rs",
    "results: view, chart, export, answers; poll (b: poll, tag kind)",
    steps=_steps("v c e a") | {"b": 2},
)
JOINING = Button(
    "jc",
    "the invitation to join the council: tell me more (y), no (n), message me (m), cancel (x); "
    "council",
    steps=_steps("y n m x"),
)
"""A family's own choice to be known to their council's staff, as a possible member."""
CANDIDATES = Button(
    "cd",
    "requests to join: invite (i) or handled (h) a request; export (e), send the invitation to "
    "all (s) or the groups typed (g); council",
    steps=_steps("i h e s g"),
)
SHARED = Button(
    "sr", "what others said, for families: the chart of a question; poll, number", size=2
)
"""Under the results a family got when a poll closed (`bot.results.shared`)."""
