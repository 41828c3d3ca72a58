"""Conversation states of ConversationHandlers, kept in the database.

python-telegram-bot writes persistence on a timer; our poller and webhook call
`Application.update_persistence()` after every batch, before the update is confirmed to
Telegram, so a restart never loses a step. Only conversation states are kept: the answers
typed so far live in drafts (storage/drafts.py), user and chat data are not used.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Database
from storage.models import Address, ConversationState

NOTHING_ELSE = PersistenceInput(
    bot_data=False, chat_data=False, user_data=False, callback_data=False
)


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores ConversationHandler states in the `conversation_state` table."""

    def __init__(self, db: Database) -> None:
        super().__init__(store_data=NOTHING_ELSE, update_interval=60)
        self.db = db

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self.db.begin() as session:
            rows = await session.scalars(
                select(ConversationState).where(ConversationState.name == name)
            )
            return {tuple(json.loads(row.key)): _state(row.state) for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        stored_key, user = json.dumps(list(key)), Address.telegram(int(key[-1]))
        async with self.db.begin() as session:
            await session.execute(
                delete(ConversationState).where(
                    ConversationState.name == name, ConversationState.key == stored_key
                )
            )
            if new_state is not None:
                session.add(
                    ConversationState(
                        name=name,
                        key=stored_key,
                        channel=user.channel,
                        address=user.id,
                        state=str(new_state),
                    )
                )

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None


def _state(stored: str) -> object:
    """States are ints in our handlers (ConversationHandler.END is -1)."""
    return int(stored) if stored.lstrip("-").isdigit() else stored
