"""What simulated people send: groups, edits, photos, forged callback data, allowed_updates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.botapi import LocalBotApi
from bot.botapi.transcript import SEND_MARK


async def fetch(bot: Bot, action: Awaitable[object]) -> tuple[Update, asyncio.Task[object]]:
    """Let a person act, fetch the resulting update and confirm it like a poller does."""
    task: asyncio.Task[object] = asyncio.ensure_future(action)
    updates = await bot.get_updates(timeout=2)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates[-1], task


async def test_group_message_carries_the_command_with_bot_name(
    bot: Bot, server: LocalBotApi
) -> None:
    group = server.group(-100, "Cliëntenraad")
    sanne = server.user(42, first_name="Sanne")
    update, task = await fetch(bot, group.send(sanne, "/stand@achterban_test_bot nu"))
    await task
    message = update.message
    assert message is not None and message.chat.type == "group" and message.chat.title
    assert message.parse_entities() == {message.entities[0]: "/stand@achterban_test_bot"}
    await bot.send_message(-100, "Stand: 3 stemmen")
    assert group.last is not None and group.last.text == "Stand: 3 stemmen"


async def test_edit_photo_and_sticker_updates(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    _, task = await fetch(bot, user.send("eerst"))
    await task
    update, task = await fetch(bot, user.edit_last_message("daarna"))
    await task
    assert update.edited_message is not None and update.edited_message.text == "daarna"
    update, task = await fetch(bot, user.send_photo(caption="kijk"))
    await task
    assert update.message is not None and update.message.photo and update.message.caption == "kijk"
    update, task = await fetch(bot, user.send_sticker())
    await task
    assert update.message is not None and update.message.sticker is not None


async def test_forged_callback_data_reaches_the_bot(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="a:1")]])
    await bot.send_message(42, "Vraag", reply_markup=markup)
    update, task = await fetch(bot, user.press_data("a:999:hack"))
    assert update.callback_query is not None and update.callback_query.data == "a:999:hack"
    await update.callback_query.answer()
    assert await task is None


async def test_unanswered_callback_query_fails_the_press(bot: Bot, server: LocalBotApi) -> None:
    server.wait_timeout = 0.3
    user = server.user(42)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="a:1")]])
    await bot.send_message(42, "Vraag", reply_markup=markup)
    _, task = await fetch(bot, user.press("Ja"))
    with pytest.raises(AssertionError, match=r"was not answered \(answerCallbackQuery\)"):
        await task


async def test_updates_outside_allowed_updates_are_dropped(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    await bot.send_message(
        42,
        "Vraag",
        reply_markup=InlineKeyboardMarkup.from_button(
            InlineKeyboardButton("Ja", callback_data="a:1")
        ),
    )
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    pressing = asyncio.create_task(user.press("Ja"))
    assert await bot.get_updates(timeout=0.2) == ()
    with pytest.raises(AssertionError, match="not in allowed_updates"):
        await pressing


async def test_transcript_uses_given_names(bot: Bot, server: LocalBotApi) -> None:
    server.user(42, first_name="Sanne")
    await bot.send_message(42, "Hallo Sanne")
    assert server.render_transcript({42: "S."}) == f"bot {SEND_MARK} Hallo Sanne"
    assert [entry.text for entry in server.transcript] == ["Hallo Sanne"]
