"""build_app(settings, db) -> the python-telegram-bot Application, wired feature by feature."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.chat import menus
from bot.chat.context import SERVICES, Ctx, Services
from bot.config import Settings
from bot.delivery.health import Health, quiet_server_pages
from bot.delivery.outbox import Outbox, Outboxes
from bot.delivery.rate import SendLimiter
from bot.observe.metrics import count_error, observe_tap
from bot.polls.sent import SentPolls
from bot.run import whatsapp
from bot.run.inbox import INBOX, Inbox
from bot.run.polling import taking
from bot.scheduling import jobs as scheduler
from bot.scheduling.leader import Leadership
from handlers import (
    account,
    answering,
    blocking,
    cancel,
    candidates,
    fallback,
    gate,
    help,
    helplines,
    invites,
    members,
    newpoll,
    participation,
    polls,
    results,
    rounds,
    schedule,
    shared_results,
    signup,
    templates,
)
from handlers.ui import acknowledge, reply
from storage import councils, people
from storage.db import Database, is_outage
from storage.models import TELEGRAM, WHATSAPP, Address

log = logging.getLogger(__name__)
FEATURES = (
    gate,
    signup,
    invites,
    newpoll,
    answering,
    shared_results,
    helplines,
    members,
    candidates,
    polls,
    results,
    participation,
    rounds,
    schedule,
    templates,
    help,
    account,
    blocking,
    cancel,
    fallback,
)
"""In order; `gate` runs first for every update, `fallback` takes whatever nobody handled."""


def build_app(settings: Settings, db: Database) -> Application[Any, Ctx, Any, Any, Any, Any]:
    """The Application: Bot API address, rate limiter, features, one error handler."""
    settings.require_token()
    quiet_server_pages()
    health = Health()
    app = (
        ApplicationBuilder()
        .token(settings.telegram.token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_url.removesuffix("/bot") + "/file/bot")
        .context_types(ContextTypes(context=Ctx))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(
            SendLimiter(per_second=settings.telegram.messages_per_second, telegram=health.telegram)
        )
        .updater(None)
        .build()
    )
    outbox = Outbox(
        bot=app.bot,
        db=db,
        health=health,
        pseudonym_key=settings.pseudonym_key,
        paid=settings.telegram.allow_paid_broadcast,
        give_up_after=settings.telegram.give_up_after,
    )
    sent = SentPolls(db)
    boxes = Outboxes(outbox)
    taker = Inbox(db, health, observe=observe_tap)
    app.bot_data[INBOX] = taker
    taker.handle(TELEGRAM, taking(app))
    if settings.whatsapp.on:
        parts = whatsapp.build(
            bot=app.bot,
            settings=settings,
            db=db,
            health=health,
            sent=sent,
            telegram=outbox,
            kick=taker.kick,
        )
        app.bot_data[whatsapp.KEY] = parts
        boxes = Outboxes(outbox, parts.outbox)
        taker.handle(WHATSAPP, parts.rows)
    app.bot_data[SERVICES] = Services(
        settings=settings,
        db=db,
        outbox=boxes,
        leadership=Leadership(db),
        health=health,
        sent=sent,
    )
    for feature in FEATURES:
        feature.register(app)
    app.add_error_handler(report_error)
    scheduler.register(app)
    return app


async def prepare(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Before the first update: councils as configured, command menus published."""
    services: Services = app.bot_data[SERVICES]
    async with services.db.begin() as session:
        await councils.sync_councils(session, configured=services.settings.councils)
        staff = await people.menu_holders(
            session, admins=[Address.telegram(admin) for admin in services.settings.admins]
        )
    await menus.publish_family_menus(app.bot, default_language=services.settings.default_language)
    for address, role, language in staff:
        if address.channel != TELEGRAM:
            continue
        try:
            await menus.publish_personal_menu(
                app.bot, chat_id=int(address.id), role=role, language=language
            )
        except TelegramError as error:
            log.info("menu for a staff chat not set (%s)", type(error).__name__)


async def report_error(update: object, ctx: Ctx) -> None:
    """Log what failed and where (never message text), and tell the user instead of going silent."""
    error = ctx.error
    frames = traceback.extract_tb(error.__traceback__) if error else []
    where = " < ".join(f"{frame.name}:{frame.lineno}" for frame in reversed(frames[-4:]))
    update_id = update.update_id if isinstance(update, Update) else None
    chat = update.effective_chat if isinstance(update, Update) else None
    private = chat is not None and chat.type == "private"
    if isinstance(error, Forbidden) and private and update.effective_user:
        await _mark_blocked(ctx, update.effective_user.id)
        return
    if isinstance(update, Update) and error is not None and is_outage(error):
        gate.handle_again(update, ctx, error)  # stops the update; it comes again later
    if error is not None:
        count_error(error)
    log.error("update %s failed: %s at %s", update_id, type(error).__name__, where)
    if private:
        try:
            await _settle_language(ctx, update)
            if update.callback_query:  # the button stops turning, whatever happened
                with suppress(TelegramError):
                    await acknowledge(update.callback_query)
            await reply(update, ctx.t("common.error"))
        except TelegramError:
            log.warning("could not tell the user about the error")


async def _mark_blocked(ctx: Ctx, user_id: int) -> None:
    """Telegram said 403: the user blocked the bot, so stop sending to them."""
    log.info("a user blocked the bot; their subscriptions are marked blocked")
    async with ctx.db.begin() as session:
        await people.mark_blocked(session, address=Address.telegram(user_id), blocked=True)


async def _settle_language(ctx: Ctx, update: Update) -> None:
    """The error handler gets a fresh context: find the user's language again, if we can."""
    try:
        async with ctx.db.read() as session:
            ctx.profile = await people.load_profile(
                session, address=Address.telegram(update.effective_user.id), is_admin=False
            )
    except Exception:
        ctx.profile = None
    ctx.settle_language(update)
