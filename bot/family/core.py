"""Who is talking to the family core, and what the core needs from the application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.texts import Texts
from storage.db import Database
from storage.models import Address, Person
from storage.polls import PollView
from storage.pseudonyms import pseudonym


class PollCache(Protocol):
    """Polls as sent (bot.polls.sent.SentPolls)."""

    async def of_question(self, question_id: int) -> PollView | None: ...


class Core(Protocol):
    """The application's parts the family core uses (bot.chat.context.Services has them)."""

    @property
    def db(self) -> Database: ...

    @property
    def sent(self) -> PollCache: ...


@dataclass(frozen=True)
class Family:
    """A person who joined, in their language, with the key of their pseudonyms."""

    person: Person
    t: Texts
    pseudonym_key: str

    @property
    def address(self) -> Address:
        return self.person.contact

    def pseudonym(self, poll_id: int) -> str:
        return pseudonym(self.pseudonym_key, poll_id=poll_id, address=self.person.contact)
