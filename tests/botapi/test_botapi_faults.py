"""Fault switches: rate limits, server errors, blocked users, latency, outages, hangs, and the
call and arrival logs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.botapi import LocalBotApi
from bot.botapi.server import Arrival


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


async def _until(condition: object, within: float = 2.0) -> None:
    """Wait until `condition()` is true."""
    assert callable(condition)
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_outage_fails_every_call_until_it_ends(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.outage()
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
        await bot.send_message(42, "hallo")
    with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
        await bot.get_updates(timeout=0)
    server.faults.end_outage()
    await bot.send_message(42, "hallo")
    assert await bot.get_updates(timeout=0) == ()
    assert [m.text for m in server.user(42).messages] == ["hallo"]


async def test_outage_answers_like_nginx_or_like_telegram(server: LocalBotApi) -> None:
    server.user(42)
    url = f"{server.base_url}{server.token}"
    server.faults.outage(503)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/getMe") as response:
            assert response.status == 503
            assert response.content_type == "text/html"
            page = await response.text()
        assert "<title>503 Service Unavailable</title>" in page
        assert "<center>nginx</center>" in page
        server.faults.outage(html=False, methods={"sendMessage"})
        async with session.post(f"{url}/sendMessage", json={"chat_id": 42, "text": "x"}) as sent:
            assert sent.status == 502
            assert await sent.json() == {
                "ok": False,
                "error_code": 502,
                "description": "Bad Gateway",
            }
        async with session.post(f"{url}/getMe") as me:
            assert me.status == 200  # outside the outage's methods
        server.faults.clear()
        async with session.post(f"{url}/sendMessage", json={"chat_id": 42, "text": "x"}) as sent:
            assert sent.status == 200


async def test_json_outage_is_a_network_error(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.outage(html=False)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(42, "hallo")


async def test_hang_times_out_and_sends_nothing(bot: Bot, server: LocalBotApi) -> None:
    server.user(42)
    server.faults.hang()
    assert server.faults.hanging
    with pytest.raises(TimedOut):
        await bot.send_message(42, "x", read_timeout=0.2)
    with pytest.raises(TimedOut):
        await bot.get_updates(timeout=0, read_timeout=0.2)
    await _until(lambda: server.faults.held == 0)  # the client gave up: the handlers ended
    server.faults.end_hang()
    assert not server.faults.hanging
    assert server.user(42).messages == [] and server.sends == []
    await bot.send_message(42, "y")
    assert [m.text for m in server.user(42).messages] == ["y"]


async def test_calls_waiting_when_a_hang_ends_fail_unexecuted(
    bot: Bot, server: LocalBotApi
) -> None:
    server.user(42)
    server.faults.hang(methods={"sendMessage"})
    sending = asyncio.create_task(bot.send_message(42, "x", read_timeout=5))
    await _until(lambda: server.faults.held == 1)
    await bot.get_me()  # outside the hang's methods
    server.faults.end_hang()
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await sending
    assert server.user(42).messages == []


async def test_stop_does_not_wait_for_hung_calls() -> None:
    api = LocalBotApi()
    await api.start()
    api.faults.hang()
    async with aiohttp.ClientSession() as session:
        url = f"{api.base_url}{api.token}/getMe"
        waiting = asyncio.create_task(session.post(url))
        await _until(lambda: api.faults.held == 1)
        started = time.monotonic()
        await api.stop()
        assert time.monotonic() - started < 0.5
        with contextlib.suppress(aiohttp.ClientError):
            response = await waiting
            assert response.status == 502
            response.release()


async def test_arrivals_log_calls_with_a_chat_including_failures(
    bot: Bot, server: LocalBotApi
) -> None:
    server.user(42)
    server.user(43)
    started = time.monotonic()
    await bot.send_message(42, "een")
    server.faults.block(43)
    with pytest.raises(Forbidden):
        await bot.send_message(43, "twee")
    server.faults.outage(methods={"sendMessage"})
    with pytest.raises(NetworkError):
        await bot.send_message(42, "drie")
    await bot.get_me()  # no chat_id: not an arrival
    arrivals = server.arrivals
    assert [(a.method, a.chat_id, a.ok) for a in arrivals] == [
        ("sendMessage", 42, True),
        ("sendMessage", 43, False),
        ("sendMessage", 42, False),
    ]
    assert started <= arrivals[0].at <= arrivals[1].at <= arrivals[2].at <= time.monotonic()
    assert [record.chat_id for record in server.sends] == [42]


async def test_busiest_second_counts_a_sliding_window(bot: Bot, server: LocalBotApi) -> None:
    assert server.busiest_second() == 0
    server.user(42)
    for n in range(5):
        await bot.send_message(42, str(n))
    assert server.busiest_second() == 5
    server.arrivals[:] = [
        Arrival(at, "sendMessage", 42, True) for at in (10.0, 10.6, 10.9, 11.0, 11.5, 13.0)
    ]
    assert server.busiest_second() == 4  # [10.6, 11.6)
    assert server.busiest_second(since=10.95) == 2
    assert server.busiest_second(since=20.0) == 0
