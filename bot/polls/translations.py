"""A poll written in several languages, as a draft holds it (and a template, and
`storage.polls.create_poll` reads it).

The poll's own texts (title, question texts, option labels) are in its first language,
`data["language"]`. Each other language is `data["languages"][language]`:
`{"title": str, "questions": {"0": {"text": str, "options": [str, ...]}, ...}}`, filled in
piece by piece. A language counts only when it has every piece (`complete`); a poll is never
sent half in one language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.texts import Texts


@dataclass(frozen=True)
class Piece:
    """One text to translate: the title, or a question's text or its options."""

    part: str
    """"title", "text" or "options"."""
    index: int = 0
    """The question (from 0) of a "text" or "options" piece."""

    def original(self, data: dict[str, Any]) -> str | list[str]:
        if self.part == "title":
            return str(data["title"])
        return data["questions"][self.index][self.part]  # type: ignore[no-any-return]

    def read(self, translation: dict[str, Any]) -> str | list[str] | None:
        if self.part == "title":
            return translation.get("title")
        return translation.get("questions", {}).get(str(self.index), {}).get(self.part)

    def write(self, translation: dict[str, Any], value: str | list[str]) -> None:
        if self.part == "title":
            translation["title"] = value
        else:
            questions = translation.setdefault("questions", {})
            questions.setdefault(str(self.index), {})[self.part] = value


def pieces(data: dict[str, Any]) -> list[Piece]:
    """Every text of the poll, in the order families read them."""
    found = [Piece("title")]
    for index, question in enumerate(data["questions"]):
        found.append(Piece("text", index))
        if question.get("options"):
            found.append(Piece("options", index))
    return found


def others(data: dict[str, Any], council_languages: list[str]) -> list[str]:
    """The languages besides the poll's first: the council's, then any a template brought."""
    first = data.get("language", council_languages[0])
    extra = [
        language for language in data.get("languages", {}) if language not in council_languages
    ]
    return [language for language in [*council_languages, *extra] if language != first]


def missing(data: dict[str, Any], language: str) -> Piece | None:
    """The first text not yet given in `language`, or None when the language is complete."""
    translation = data.get("languages", {}).get(language, {})
    return next((piece for piece in pieces(data) if piece.read(translation) is None), None)


def complete(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The languages that have every text (only these are sent, saved and kept)."""
    return {
        language: translation
        for language, translation in data.get("languages", {}).items()
        if missing(data, language) is None
    }


def forget_question(data: dict[str, Any], index: int) -> None:
    """A question was written again: its translations no longer fit (the rest stay)."""
    for translation in data.get("languages", {}).values():
        translation.get("questions", {}).pop(str(index), None)


def forget_title(data: dict[str, Any]) -> None:
    for translation in data.get("languages", {}).values():
        translation.pop("title", None)


def body(data: dict[str, Any]) -> dict[str, Any]:
    """The draft as a poll or template is made from it: only complete languages."""
    return data | {"languages": complete(data)}


def name(t: Texts, language: str) -> str:
    """A language's name as the reader says it ("Engels" in Dutch)."""
    return t(f"languages.{language}")
