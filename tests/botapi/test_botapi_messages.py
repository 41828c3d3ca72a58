"""Sending, editing and deleting through the real telegram.Bot, within Telegram's limits."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken

from bot.botapi import LocalBotApi
from bot.botapi.simuser import TINY_PNG


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


async def test_get_me_describes_the_bot(bot: Bot, server: LocalBotApi) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "achterban_test_bot")
    assert me.can_join_groups is True


async def test_unknown_token_is_not_found(server: LocalBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=server.base_url):
            pass


async def test_send_message_returns_a_full_message(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42, first_name="Sanne")
    sent = await bot.send_message(
        42, "<b>Welkom</b>, kies:", parse_mode=ParseMode.HTML, reply_markup=keyboard(("Ja", "a:1"))
    )
    assert sent.message_id == 1 and sent.chat.id == 42 and sent.from_user.id == 123456
    assert sent.text == "Welkom, kies:" and sent.text_html == "<b>Welkom</b>, kies:"
    assert sent.reply_markup == keyboard(("Ja", "a:1"))
    assert user.last is not None and user.last.labels == ["Ja"]
    assert (user.last.html, user.last.text) == ("<b>Welkom</b>, kies:", "Welkom, kies:")
    assert (await bot.send_message(42, "tweede")).message_id == 2


async def test_text_length_counts_characters_after_parsing(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    await bot.send_message(42, "x" * 4096)
    await bot.send_message(42, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    await bot.send_message(42, "مرحبا" * 819)  # 4095 characters, 8190 bytes
    await bot.send_message(42, "ervaringsdeskundigheid é" * 170)  # 4080 characters
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "م" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(42, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    await bot.send_message(42, "ok", reply_markup=keyboard(("A", "é" * 32)))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(42, "te lang", reply_markup=keyboard(("A", "é" * 32 + "x")))
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(42, "leeg", reply_markup=keyboard(("", "x")))


@pytest.mark.parametrize("text", ["<b>open", "1 < 2", "<br>", "Tom & Jerry"])
async def test_bad_html_cannot_be_parsed(bot: Bot, server: LocalBotApi, text: str) -> None:
    server.user(42)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(42, text, parse_mode=ParseMode.HTML)
    await bot.send_message(42, text)  # without parse_mode the text is literal
    assert server.user(42).last.text == text  # type: ignore[union-attr]


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "hallo")


async def test_edit_text_and_markup(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    sent = await bot.send_message(42, "Vraag", reply_markup=keyboard(("Ja", "y"), ("Nee", "n")))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Vraag", 42, sent.message_id, reply_markup=sent.reply_markup)
    await bot.edit_message_text("Vraag", 42, sent.message_id)  # drops the keyboard
    assert user.last is not None and user.last.labels == [] and user.last.edits == 1
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard(("Ok", "o")))
    assert user.last.text == "Vraag"
    assert user.messages[-1].labels == ["Ok"]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 42, 99)


async def test_delete_message(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    sent = await bot.send_message(42, "weg")
    assert await bot.delete_message(42, sent.message_id)
    assert user.messages == [] and user.last is None
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(42, sent.message_id)


async def test_reply_keyboard_is_shown_to_the_user(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    await bot.send_message(
        42, "Kies", reply_markup=ReplyKeyboardMarkup([["Nederlands", "English"]])
    )
    assert user.keyboard == [["Nederlands", "English"]]


async def test_photo_and_document_keep_bytes_and_caption(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    photo = await bot.send_photo(42, TINY_PNG, caption="<i>grafiek</i>", parse_mode="HTML")
    assert photo.photo and photo.caption == "grafiek"
    await bot.send_document(42, b"a;b\n1;2\n", filename="uitslag.csv")
    assert user.last is not None and user.last.kind == "document"
    assert (user.last.file, user.last.filename) == (b"a;b\n1;2\n", "uitslag.csv")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(42, TINY_PNG, caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(42, b"not an image")
    downloaded = await (await bot.get_file(photo.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == TINY_PNG


async def test_commands_are_stored_per_scope_and_language(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands([BotCommand("beheer", "Beheer")], scope=BotCommandScopeChat(42))
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert (await bot.get_my_commands(language_code="en"))[0].description == "Start"
    assert server.commands("chat", 42) == [{"command": "beheer", "description": "Beheer"}]
    await bot.delete_my_commands(language_code="en")
    assert await bot.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "x")])


async def test_chat_action_and_get_chat(bot: Bot, server: LocalBotApi) -> None:
    server.user(42, first_name="Sanne")
    assert await bot.send_chat_action(42, "typing")
    chat = await bot.get_chat(42)
    assert (chat.type, chat.first_name) == ("private", "Sanne")
