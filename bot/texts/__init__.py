"""Every user-visible text, per language, from the TOML files beside this module."""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("nl", "en", "ar", "tr", "pl", "uk")
"""The languages families (and anyone, for their own screens) can choose; the first is the
fallback. Dutch and English are the languages councils write in by default."""
FOLDER = Path(__file__).parent
BASE_CHANNEL = "telegram"
"""The channel the plain texts are written for; another channel's differences are in
`on_<channel>.<key>` entries (e.g. `on_whatsapp.signup.done` says "type help", not "/help")."""


class Html(str):
    """A fragment that is already valid Telegram HTML and must not be escaped again."""


class Texts:
    """Texts of one language: `t("signup.done", council=name)`; placeholders are escaped."""

    def __init__(
        self, language: str, entries: Mapping[str, str], channel: str = BASE_CHANNEL
    ) -> None:
        self.language = language
        self.channel = channel
        self._entries = entries

    def __call__(self, key: str, /, **values: Any) -> str:
        template = self._entries[key]
        if self.language in RIGHT_TO_LEFT:  # a message's lines; a button is only its label
            template = _right_to_left(template)
        if not values:
            return template
        return template.format(**{name: _escape(value) for name, value in values.items()})

    def label(self, key: str, /, **values: Any) -> str:
        """A button's text: Telegram shows it as it is (no HTML), so nothing is escaped."""
        return self._entries[key].format(**values)

    def switched(self, language: str) -> Texts:
        """The texts of another language, for the same channel."""
        return texts_for(language, self.channel)

    def keys(self) -> set[str]:
        return set(self._entries)

    def placeholders(self, key: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self._entries[key]) if name}


@cache
def texts_for(language: str, channel: str = BASE_CHANNEL) -> Texts:
    """The texts of `language` on `channel`, falling back to Dutch for anything unknown."""
    language = language if language in LANGUAGES else LANGUAGES[0]
    entries = _entries(language)
    if channel != BASE_CHANNEL:
        prefix = f"on_{channel}."
        entries = entries | {
            key.removeprefix(prefix): value
            for key, value in entries.items()
            if key.startswith(prefix)
        }
    return Texts(language, entries, channel)


@cache
def _entries(language: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for path in files_of(language):
        with path.open("rb") as handle:
            for key, value in _flatten(tomllib.load(handle)):
                if key in entries:
                    raise KeyError(f"text {key!r} is in two files of {language!r}")
                entries[key] = value
    return entries


RIGHT_TO_LEFT = frozenset({"ar"})
RLM = "\u200f"
"""RIGHT-TO-LEFT MARK: takes no room, and makes the paragraph it starts read right to left."""
_RTL_LETTER = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_NO_DIRECTION = re.compile(r"(<[^>]*>|[^\w{]|[\d_])+")
"""Tags, digits, spaces and signs: what does not set a paragraph's direction."""


@cache
def _right_to_left(template: str) -> str:
    """An RLM before each line of a right-to-left text that would start left to right: one
    that opens with a Latin word or a placeholder (a council's name, a poll's title), so
    Telegram and WhatsApp lay out «Cliëntenraad Noord يسألك» from the right."""
    lines = template.split("\n")
    for index, line in enumerate(lines):
        start = _NO_DIRECTION.match(line)
        rest = line[start.end() :] if start else line
        if rest and _RTL_LETTER.search(line) and not _RTL_LETTER.match(rest):
            lines[index] = RLM + line
    return "\n".join(lines)


def files_of(language: str) -> list[Path]:
    """The text files of a language: `nl.toml`, then one per area (`whatsapp/nl.toml`)."""
    return [FOLDER / f"{language}.toml", *sorted(FOLDER.glob(f"*/{language}.toml"))]


def pick_language(*candidates: str | None, default: str = "nl") -> str:
    """The first candidate we speak (e.g. a Telegram language_code "en-GB"), else `default`."""
    for candidate in candidates:
        short = (candidate or "")[:2].lower()
        if short in LANGUAGES:
            return short
    return default


def _escape(value: Any) -> str:
    return value if isinstance(value, Html) else html.escape(str(value), quote=False)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in tree.items():
        if isinstance(value, Mapping):
            pairs.extend(_flatten(value, f"{prefix}{key}."))
        else:
            pairs.append((f"{prefix}{key}", str(value)))
    return pairs
