"""The WhatsApp channel's parts in one process, wired: its outbox, the families adapter, how
the inbox hands it a row, and the webhook server (started in `achterban run`, also beside
Telegram polling; every process, workers too, handles rows from the inbox)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from bot.delivery.health import Health
from bot.delivery.outbox import Outbox
from bot.polls.sent import SentPolls
from bot.texts import texts_for
from bot.whatsapp.channel import WhatsApp
from bot.whatsapp.courier import WhatsAppCourier
from bot.whatsapp.families import Families
from bot.whatsapp.webhook import Webhook, server, taking
from handlers.helplines import poster
from storage import people
from storage.db import Database
from storage.inbox import Taken
from storage.models import TELEGRAM, Address, Role
from storage.whatsapp import Receipt

log = logging.getLogger(__name__)
KEY = "whatsapp"


@dataclass
class WhatsAppParts:
    channel: WhatsApp
    courier: WhatsAppCourier
    outbox: Outbox
    families: Families
    rows: Callable[[Taken], Awaitable[bool]]
    """How the inbox hands this process a WhatsApp row (`bot.whatsapp.webhook.taking`)."""
    webhook: Webhook
    runner: web.AppRunner | None = None


@dataclass(frozen=True)
class Core:
    """What the family core needs (bot.family.core.Core)."""

    db: Database
    sent: SentPolls


def build(
    *,
    bot: Bot,
    settings: Settings,
    db: Database,
    health: Health,
    sent: SentPolls,
    telegram: Outbox,
    kick: Callable[[], None],
) -> WhatsAppParts:
    """Everything WhatsApp needs, sharing the Telegram outbox's progress keeper."""

    async def alert(key: str, values: dict[str, Any]) -> None:
        await tell_staff(bot, db, settings, key, values)

    async def fetch(file_id: str) -> bytes:
        """A voice note's bytes from Telegram, to upload to WhatsApp."""
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    channel = WhatsApp(settings.whatsapp, db=db, alert=alert, fetch=fetch)
    courier = WhatsAppCourier(channel, settings)
    outbox = Outbox(
        bot=bot,
        db=db,
        health=health,
        pseudonym_key=settings.pseudonym_key,
        courier=courier,
        progress=telegram.progress,
    )
    families = Families(Core(db, sent), settings, channel, post=poster(bot))

    def received(receipts: list[Receipt]) -> None:
        if any(receipt.failed for receipt in receipts):
            outbox.kick()  # a row may wait to go again (as a template)

    webhook = Webhook(
        settings.whatsapp,
        db=db,
        kick=kick,
        on_status=received,
        on_outage=health.database.failed,
        expects=channel.expects,
    )
    return WhatsAppParts(channel, courier, outbox, families, taking(families.handle), webhook)


async def start_webhook(parts: WhatsAppParts) -> None:
    settings = parts.channel.settings
    parts.runner = web.AppRunner(server(parts.webhook), access_log=None, shutdown_timeout=2.0)
    await parts.runner.setup()
    await web.TCPSite(parts.runner, settings.listen, settings.port).start()
    log.info("WhatsApp webhook listening on port %s", settings.port)


async def stop_webhook(parts: WhatsAppParts) -> None:
    """No more messages in; what is being handled gets a moment to finish."""
    if parts.runner is not None:
        await parts.runner.cleanup()
        parts.runner = None
    await parts.webhook.close()


async def tell_staff(
    bot: Bot, db: Database, settings: Settings, key: str, values: dict[str, Any]
) -> None:
    """A channel problem, to every staff member and admin on Telegram, in their language."""
    admins = [Address.telegram(admin) for admin in settings.admins]
    async with db.read() as session:
        holders = await people.menu_holders(session, admins=admins)
    for address, role, language in holders:
        if role is not Role.staff or address.channel != TELEGRAM:
            continue
        t = texts_for(language)
        shown = {k: t(f"whatsapp.{v}") if k == "reason" else v for k, v in values.items()}
        with suppress(TelegramError):
            await bot.send_message(int(address.id), t(key, **shown))
