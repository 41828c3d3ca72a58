"""What every feature shares: replies, stale buttons, role checks, typed-text steps."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application

from bot.chat import menus
from bot.chat.commands import COMMANDS
from bot.chat.context import Ctx
from bot.chat.keyboards import markup
from bot.chat.screens import Reply, Sound
from storage import councils
from storage.models import Draft, Role

log = logging.getLogger(__name__)
TEXT_STEPS = "text_steps"
TextStep = Callable[[Update, Ctx, Draft], Awaitable[None]]


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send `text` to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def replace(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer a button press by rewriting the message that carried the button."""
    query = update.callback_query
    if query is None:
        await reply(update, text, markup)
        return
    await acknowledge(query)
    await quietly(query.edit_message_text(text, reply_markup=markup))


async def acknowledge(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a button press. One Telegram no longer takes (too old after a pause or an
    outage, or already answered when an update comes again after a restart) is passed over:
    the step goes on."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        if "query is too old" not in str(error).lower():
            raise


async def show(update: Update, answer: Reply, ctx: Ctx | None = None) -> None:
    """Draw the family core's reply in Telegram: the toast answers the tap, the tapped
    message is redrawn in place, then the new messages (each after its voice notes); then
    the command menu, if the person's role or language changed."""
    query = update.callback_query
    if query is not None:
        await acknowledge(query, answer.toast, alert=answer.alert)
        if answer.shown is not None and answer.buttons_only:
            await quietly(query.edit_message_reply_markup(markup(answer.shown)))
        elif answer.shown is not None:
            await quietly(
                query.edit_message_text(answer.shown.text, reply_markup=markup(answer.shown))
            )
    else:  # a typed message: what a tap would redraw is a new message
        if answer.toast:
            await reply(update, answer.toast)
        if answer.shown is not None:
            await reply(update, answer.shown.text, markup(answer.shown))
    for screen in answer.then:
        await play(update, screen.sounds)
        await reply(update, screen.text, markup(screen))
    if answer.menu is not None and ctx is not None and update.effective_chat is not None:
        role, language = answer.menu
        await menus.publish_personal_menu(
            ctx.bot, chat_id=update.effective_chat.id, role=role, language=language
        )


async def play(update: Update, sounds: tuple[Sound, ...]) -> None:
    """Voice notes, by Telegram file id, to the chat the update came from. One that does
    not go (an unknown file, a person who refuses voice notes) is logged and left out, so the
    text after it still goes; a person who blocked the bot blocks the text too."""
    chat = update.effective_chat
    if chat is None:
        return
    for sound in sounds:
        try:
            await chat.send_voice(sound.file_id, duration=sound.duration or None)
        except Forbidden:
            raise
        except TelegramError as error:
            log.warning("voice note %s not sent (%s)", sound.voice_id, type(error).__name__)


async def quietly(edit: Awaitable[Any]) -> None:
    """Edit a message; a double tap that changes nothing is not an error."""
    try:
        await edit
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


async def stale_button(update: Update, ctx: Ctx) -> None:
    """A button from an old, finished or forged message: say so briefly."""
    if update.callback_query:
        await acknowledge(update.callback_query, ctx.t("common.stale_button"))


async def allowed(update: Update, ctx: Ctx, command: str) -> bool:
    """True when the user may use `command`; otherwise explain who may."""
    needed = COMMANDS[command].role
    profile = ctx.profile
    if profile is not None and COMMANDS[command].allowed_for(profile.role):
        return True
    who = ctx.t("common.role_staff" if needed is Role.staff else "common.role_council")
    shown = COMMANDS[command].shown_as(ctx.t.language)
    await reply(update, ctx.t("common.not_allowed", role=who, command=shown))
    return False


def on_text(
    app: Application[Any, Any, Any, Any, Any, Any], kind: str, step: str, callback: TextStep
) -> None:
    """Let `callback` take the next plain message of a user whose draft is at (kind, step)."""
    app.bot_data.setdefault(TEXT_STEPS, {})[(kind, step)] = callback


def text_step(ctx: Ctx, draft: Draft) -> TextStep | None:
    return ctx.application.bot_data.get(TEXT_STEPS, {}).get((draft.kind, draft.step))


async def council_ids(ctx: Ctx, session: Any, role: Role = Role.council) -> list[int]:
    """The councils where this user has at least `role` (admins: every council)."""
    everything = await councils.all_councils(session)
    return (
        [council.id for council in ctx.profile.councils_with(role, everything)]
        if ctx.profile
        else []
    )
