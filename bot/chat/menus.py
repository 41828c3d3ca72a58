"""Command menus (setMyCommands) per language and per role: families see only their own."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.chat.commands import menu_for
from bot.texts import LANGUAGES, texts_for
from storage.models import Role


def menu(role: Role | None, language: str) -> list[BotCommand]:
    """The menu entries for `role`, named and described in `language`."""
    t = texts_for(language)
    return [
        BotCommand(command.shown_as(language), t(f"commands.{command.name}"))
        for command in menu_for(role)
    ]


async def publish_family_menus(bot: Bot, *, default_language: str) -> None:
    """The menu everyone sees in a private chat, per language, plus a default."""
    scope = BotCommandScopeAllPrivateChats()
    for language in LANGUAGES:
        await bot.set_my_commands(menu(Role.family, language), scope=scope, language_code=language)
    await bot.set_my_commands(menu(Role.family, default_language), scope=scope)


async def publish_personal_menu(
    bot: Bot, *, chat_id: int, role: Role | None, language: str
) -> None:
    """A member's own menu, in their chosen language (council members and staff: with their
    extra commands); after /forget (no role) the general menu again."""
    scope = BotCommandScopeChat(chat_id)
    if role is None:
        await bot.delete_my_commands(scope=scope)
    else:
        await bot.set_my_commands(menu(role, language), scope=scope)
