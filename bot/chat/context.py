"""The typed context every callback gets: settings, database, the user's texts and profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.delivery.health import Health
from bot.delivery.outbox import Outbox
from bot.scheduling.leader import Leadership
from bot.texts import Texts, pick_language, texts_for
from storage.db import Database
from storage.people import Profile

SERVICES = "services"


@dataclass
class Services:
    """What the whole application shares; lives in `bot_data`."""

    settings: Settings
    db: Database
    outbox: Outbox
    leadership: Leadership
    health: Health


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
