"""Fault switches: rate limits, server errors, blocked users, latency, and the call log."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.botapi import LocalBotApi


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit_raises_retry_after(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.rate_limit(1, retry_after=3, methods={"sendMessage"})
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(42, "te snel")
    assert caught.value.retry_after in (3, dt.timedelta(seconds=3))
    await bot.send_message(42, "weer goed")
    assert server.calls["sendMessage"] == 2
    assert [record.chat_id for record in server.sends] == [42]


async def test_server_error_is_a_network_error(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.server_error(2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(42, "hallo")
    await bot.send_message(42, "hallo")


async def test_blocked_user_is_forbidden(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.block(42)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(42, "hallo")
    server.faults.unblock(42)
    await bot.send_message(42, "hallo")


async def test_latency_slows_every_call(bot: Bot, server: LocalBotApi) -> None:
    server.faults.latency = 0.1
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.1


async def test_unknown_callback_query_is_too_old(bot: Bot, server: LocalBotApi) -> None:
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("onbekend")
