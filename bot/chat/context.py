"""The typed context every callback gets: settings, database, the user's texts and profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.texts import Texts, pick_language, texts_for
from storage.db import Database
from storage.people import Profile
from storage.polls import PollView

SERVICES = "services"
RETRY = "retry_updates"
"""bot_data: ids of updates to handle again, because the database was away (marked by
`handlers/gate.py` and the error handler in bot/run/app.py; bot/run/polling.py and
bot/run/webhook.py handle them again)."""
AGAIN = "updates_again"
"""bot_data: ids of updates being handled again: the gate lets them through as new."""
STEPS = "flow_steps"
"""bot_data: for each Telegram user who may write polls, the steps of their drafts by kind
({kind: step}), read from the database by the gate with the profile of every update of
theirs, so any process continues a guided flow (handlers/newpoll/flow.py)."""
BEFORE = "updates_before"
"""bot_data: per update id being handled, how many updates its sender sent in the minute
before it (from the inbox, so counted over every process: the gate's flood limit)."""


class Sender(Protocol):
    """The outbox, as features see it (bot.delivery.outbox.Outbox)."""

    def kick(self) -> None:
        """Look for rows to send now, without waiting for the next tick."""


class Reachability(Protocol):
    """One dependency's outage tracker (bot.delivery.health.Outage)."""

    @property
    def since(self) -> datetime | None: ...

    def failed(self, error: BaseException, *, began: float | None = None) -> None: ...


class Dependencies(Protocol):
    """Whether Telegram and the database answer (bot.delivery.health.Health)."""

    @property
    def telegram(self) -> Reachability: ...

    @property
    def database(self) -> Reachability: ...


class PollCache(Protocol):
    """Polls as sent, per process (bot.polls.sent.SentPolls)."""

    async def of_question(self, question_id: int) -> PollView | None: ...


class Leading(Protocol):
    """Whether this process runs the scheduled jobs (bot.scheduling.leader.Leadership)."""

    async def held(self) -> bool: ...


@dataclass
class Services:
    """What the whole application shares; lives in `bot_data`."""

    settings: Settings
    db: Database
    outbox: Sender
    leadership: Leading
    health: Dependencies
    sent: PollCache
    """Polls as sent, per process (the family core reads taps against it)."""


class Ctx(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with `.settings`, `.db`, `.profile` and `.t` (the user's texts)."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], **kwargs: Any):
        super().__init__(application, **kwargs)
        self.profile: Profile | None = None
        self.language: str | None = None

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES]

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def t(self) -> Texts:
        """Texts in the person's chosen language, else their Telegram language, else default."""
        return texts_for(self.language or self.settings.default_language)

    def settle_language(self, update: Update) -> None:
        """Decide the language for this update from the profile and the Telegram user."""
        chosen = self.profile.person.language if self.profile and self.profile.person else None
        user = update.effective_user
        self.language = pick_language(
            chosen, user.language_code if user else None, default=self.settings.default_language
        )
