"""Updates reach the bot by long polling or webhook, and users wait for confirmation."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import Conflict

from bot.botapi import LocalBotApi


async def test_long_poll_returns_when_a_user_writes(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    sending = asyncio.create_task(user.send("/start abc"))
    started = time.monotonic()
    updates = await poll
    assert time.monotonic() - started < 1
    message = updates[0].message
    assert message is not None and message.text == "/start abc"
    assert message.parse_entities() == {message.entities[0]: "/start"}
    assert message.from_user is not None and message.from_user.language_code == "nl"
    assert not sending.done()
    await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert await sending == updates[0].update_id


async def test_unconfirmed_updates_come_again(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    sending = asyncio.create_task(user.send("hoi"))
    first = await bot.get_updates(timeout=2)
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in first]
    await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    await sending
    assert await bot.get_updates(timeout=0) == ()


async def test_unconfirmed_update_times_out_with_a_clear_message(server: LocalBotApi) -> None:
    server.wait_timeout = 0.2
    with pytest.raises(AssertionError, match=r"update 1 was not confirmed by the bot within 0.2s"):
        await server.user(42).send("niemand luistert")


async def test_second_poller_gets_a_conflict(bot: Bot, server: LocalBotApi) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=2))
    await asyncio.sleep(0.05)
    async with Bot(server.token, base_url=server.base_url) as second_process:
        with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates request"):
            await second_process.get_updates(timeout=0)
    poll.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await poll
    await bot.get_updates(timeout=0)  # the abandoned long poll does not block the next one


async def test_press_returns_the_toast(bot: Bot, server: LocalBotApi) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    user = server.user(42, first_name="Sanne")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="a:1:ja")]])
    sent = await bot.send_message(42, "Doe je mee?", reply_markup=markup)
    pressing = asyncio.create_task(user.press("Ja"))
    updates = await bot.get_updates(timeout=2)
    query = updates[0].callback_query
    assert query is not None and query.data == "a:1:ja"
    assert query.message is not None and query.message.message_id == sent.message_id
    await query.answer("Opgeslagen")
    await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert await pressing == "Opgeslagen"
    assert user.toasts == ["Opgeslagen"]
    with pytest.raises(Exception, match=r"(?i)query is too old"):
        await query.answer("nog eens")
    with pytest.raises(AssertionError, match=r"no button 'Nee'.*\[Ja\]"):
        await user.press("Nee")


async def test_webhook_delivers_with_secret_and_retries(bot: Bot, server: LocalBotApi) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []
    answers = iter([500, 200, 200])

    async def receive(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=next(answers))

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="geheim-1")
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        user = server.user(42)
        await user.send("een")
        await user.send("twee")
        assert server.webhook_statuses == [500, 200, 200]
        assert [secret for secret, _ in received] == ["geheim-1"] * 3
        texts = [body["message"]["text"] for _, body in received]  # type: ignore[index]
        assert texts == ["een", "een", "twee"]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        await bot.delete_webhook(drop_pending_updates=True)
        assert server.drop_pending_requested
    finally:
        await runner.cleanup()


async def test_deliver_raw_assigns_an_update_id(bot: Bot, server: LocalBotApi) -> None:
    delivering = asyncio.create_task(server.deliver_raw({"message": {"broken": True}}))
    await asyncio.sleep(0.01)
    update_id = server.queue.pending[0]["update_id"]
    await bot.get_updates(offset=int(update_id) + 1, timeout=0)  # type: ignore[call-overload]
    assert await delivering == update_id
