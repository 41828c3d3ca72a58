"""The table of Bot API methods the local server implements."""

from __future__ import annotations

from bot.botapi import methods_bot as bot
from bot.botapi import methods_messages as messages
from bot.botapi import methods_updates as updates
from bot.botapi.methods_bot import Handler, recall_setting, remember_setting

METHODS: dict[str, Handler] = {
    "getMe": bot.get_me,
    "getChat": bot.get_chat,
    "sendChatAction": bot.send_chat_action,
    "answerCallbackQuery": bot.answer_callback_query,
    "setMyCommands": bot.set_my_commands,
    "getMyCommands": bot.get_my_commands,
    "deleteMyCommands": bot.delete_my_commands,
    "getFile": bot.get_file,
    "getUpdates": updates.get_updates,
    "setWebhook": updates.set_webhook,
    "deleteWebhook": updates.delete_webhook,
    "getWebhookInfo": updates.get_webhook_info,
    "sendMessage": messages.send_message,
    "sendPhoto": messages.send_photo,
    "sendDocument": messages.send_document,
    "sendVoice": messages.send_voice,
    "editMessageText": messages.edit_message_text,
    "editMessageCaption": messages.edit_message_caption,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "deleteMessage": messages.delete_message,
    "setMyDescription": remember_setting("setMyDescription"),
    "getMyDescription": recall_setting("setMyDescription", "description", ""),
    "setMyShortDescription": remember_setting("setMyShortDescription"),
    "getMyShortDescription": recall_setting("setMyShortDescription", "short_description", ""),
    "setMyName": remember_setting("setMyName"),
    "getMyName": recall_setting("setMyName", "name", ""),
    "setChatMenuButton": remember_setting("setChatMenuButton"),
    "getChatMenuButton": recall_setting("setChatMenuButton", "menu_button", {"type": "default"}),
}

# Telegram matches method names case-insensitively.
BY_LOWER_NAME = {name.lower(): name for name in METHODS}
