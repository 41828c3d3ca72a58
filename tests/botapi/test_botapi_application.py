"""The real python-telegram-bot Application against the local server, polling and webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.botapi import LocalBotApi
from bot.botapi.transcript import SEND_MARK


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and offer a language choice."""
    buttons = [[InlineKeyboardButton("Nederlands", callback_data="lang:nl")]]
    await update.effective_message.reply_html(  # type: ignore[union-attr]
        "<b>Welkom!</b> Kies je taal.", reply_markup=InlineKeyboardMarkup(buttons)
    )


async def language_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm the language with a toast and an edit."""
    query = update.callback_query
    await query.answer("Taal opgeslagen")  # type: ignore[union-attr]
    await query.edit_message_text("Je taal is Nederlands.")  # type: ignore[union-attr]


def build(server: LocalBotApi, *, updater: bool) -> Application:  # type: ignore[type-arg]
    """A tiny bot with two handlers."""
    builder = ApplicationBuilder().token(server.token).base_url(server.base_url)
    if not updater:
        builder = builder.updater(None)
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(language_chosen, pattern=r"^lang:"))
    return app


@pytest_asyncio.fixture
async def polling(server: LocalBotApi) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The application, polling the local server."""
    app = build(server, updater=True)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        yield app
        await app.updater.stop()  # type: ignore[union-attr]
        await app.stop()


async def test_a_user_talks_to_a_polling_bot(server: LocalBotApi, polling: Application) -> None:  # type: ignore[type-arg]
    sanne = server.user(42, first_name="Sanne")
    await sanne.command("start", "abc")
    await server.wait_idle()
    assert sanne.last is not None and sanne.last.text == "Welkom! Kies je taal."
    assert await sanne.press("Nederlands") == "Taal opgeslagen"
    for _ in range(400):  # the edit follows the toast (on a busy machine, not within 50 ms)
        if sanne.last.text != "Welkom! Kies je taal.":  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.05)
    await server.wait_idle()
    shown = sanne.last
    assert shown.text == "Je taal is Nederlands.", server.render_transcript()  # type: ignore[union-attr]
    assert shown.labels == []  # type: ignore[union-attr]
    transcript = server.render_transcript()
    assert f"Sanne {SEND_MARK} /start abc" in transcript
    assert "Sanne ⦿ Nederlands" in transcript
    assert "[Nederlands]" in transcript and "(edited) Je taal is Nederlands." in transcript


async def test_a_user_talks_to_a_webhook_bot(server: LocalBotApi) -> None:
    app = build(server, updater=False)

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != "s3cret":
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    receiver = web.Application()
    receiver.router.add_post("/telegram", webhook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        async with app:
            await app.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
            await app.bot.set_webhook(url, secret_token="s3cret")
            sanne = server.user(42)
            await sanne.send("/start")
            for _ in range(100):  # the webhook answers at once; the reply follows
                await server.wait_idle()
                if sanne.last is not None:
                    break
            assert sanne.last is not None and sanne.last.labels == ["Nederlands"]
            assert await sanne.press("Nederlands") == "Taal opgeslagen"
            await app.stop()
    finally:
        await runner.cleanup()
    assert server.webhook_statuses == [200, 200]
