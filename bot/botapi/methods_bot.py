"""Bot API methods about the bot itself, chats, callback queries, commands and files."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.botapi.errors import bad_request
from bot.botapi.params import Params
from bot.botapi.state import JSON

if TYPE_CHECKING:
    from bot.botapi.server import LocalBotApi

MAX_TOAST = 200
COMMAND = re.compile(r"[a-z0-9_]{1,32}")
SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
Handler = Callable[["LocalBotApi", Params], Awaitable[object]]


async def get_me(api: LocalBotApi, p: Params) -> object:
    """getMe."""
    return api.bot_user | {
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_chat(api: LocalBotApi, p: Params) -> object:
    """getChat."""
    return api.state.chat(p.chat_id()).full_info()


async def send_chat_action(api: LocalBotApi, p: Params) -> object:
    """sendChatAction."""
    api.state.chat(p.chat_id())
    if p.opt_str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def answer_callback_query(api: LocalBotApi, p: Params) -> object:
    """answerCallbackQuery: each query can be answered once."""
    record = api.state.queries.get(p.opt_str("callback_query_id") or "")
    if record is None or record.answer.done():
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.opt_str("text")
    if text is not None and len(text) > MAX_TOAST:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answer.set_result(text or None)
    if text:
        api.note_toast(record.chat_id, text, alert=p.flag("show_alert"))
    return True


def command_key(api: LocalBotApi, p: Params) -> tuple[str, int | None, int | None, str]:
    """The (scope type, chat_id, user_id, language_code) that commands are stored under."""
    scope = p.raw("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    chat_id = scope.get("chat_id")
    if scope["type"].startswith("chat"):
        if not isinstance(chat_id, int | str):
            raise bad_request("chat_id is empty")
        chat_id = api.state.chat(chat_id).id
    language = p.opt_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    user_id = scope.get("user_id") if scope["type"] == "chat_member" else None
    return scope["type"], chat_id, user_id, language


def checked_commands(value: object) -> list[JSON]:
    """The commands list of setMyCommands, as Telegram validates it."""
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    if len(value) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    commands: list[JSON] = []
    for item in value:
        if not isinstance(item, dict) or not COMMAND.fullmatch(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = item.get("description")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("command description is empty or too long")
        commands.append({"command": item["command"], "description": description})
    return commands


async def set_my_commands(api: LocalBotApi, p: Params) -> object:
    """setMyCommands."""
    commands = checked_commands(p.raw("commands"))
    key = command_key(api, p)
    if commands:
        api.state.commands[key] = commands
    else:
        api.state.commands.pop(key, None)
    return True


async def get_my_commands(api: LocalBotApi, p: Params) -> object:
    """getMyCommands: exactly what was set for this scope and language."""
    return api.state.commands.get(command_key(api, p), [])


async def delete_my_commands(api: LocalBotApi, p: Params) -> object:
    """deleteMyCommands."""
    api.state.commands.pop(command_key(api, p), None)
    return True


async def get_file(api: LocalBotApi, p: Params) -> object:
    """getFile: where to download a file the bot knows."""
    stored = api.state.files.get(p.opt_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    size = len(stored.data) if stored.data is not None else 0
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": size,
        "file_path": stored.file_path,
    }


def remember_setting(method: str) -> Handler:
    """A handler that stores a set* call's parameters and answers True."""

    async def remember(api: LocalBotApi, p: Params) -> object:
        api.state.settings[method] = dict(p.values)
        return True

    return remember


def recall_setting(method: str, key: str, default: object) -> Handler:
    """A handler for the get* counterpart of a remembered setting."""

    async def recall(api: LocalBotApi, p: Params) -> object:
        value = api.state.settings.get(method, {}).get(key, default)
        return {key: value} if key != "menu_button" else value

    return recall
