"""Everyday faults lose nobody: Telegram answering 502 pages or not answering at all for a
while, the database restarting (PostgreSQL, through a TCP proxy the test cuts), all in the
middle of a round and of families tapping; and the rate Telegram sees stays within the limit
when taps and a round go out together."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update

from bot.botapi import LocalBotApi
from bot.config import Settings
from storage.db import Database
from storage.models import Answer, Delivery, DeliveryStatus, Respondent, Round
from tests.builders import open_poll_now, populate
from tests.e2e.conftest import RunningBot, polling_bot, webhook_bot
from tests.proxy import TcpProxy

QUESTIONS = [
    {"kind": "yes_no", "text": "Alles goed?"},
    {"kind": "yes_no", "text": "Nog iets?"},
]
MEMBER = 4_000_000
APOLOGY = "Er is niets verloren"


async def until(condition: Callable[[], Awaitable[bool] | bool], *, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"{what} did not happen within {within}s"
        await asyncio.sleep(0.05)


async def start_round(
    api: LocalBotApi, bot: RunningBot, *, count: int, first_id: int, gone: int = 0
) -> list[int]:
    """`count` families, and a poll of two questions opened for them; the progress message
    goes to a council member's chat. The last `gone` families have no chat on Telegram any
    more (they are not returned)."""
    ids = await populate(bot.db, count=count + gone, first_id=first_id)
    ids, ids_gone = ids[:count], ids[count:]
    assert len(ids_gone) == gone
    for telegram_id in ids:
        api.user(telegram_id)
    api.user(MEMBER)
    await open_poll_now(bot.db, questions=QUESTIONS)
    async with bot.db.begin() as session:
        await session.execute(update(Round).values(progress_chat_id=MEMBER))
    bot.app.bot_data["services"].outbox.kick()
    return ids


def asked(api: LocalBotApi, telegram_id: int, question: str) -> int:
    """How many times the bot sent this chat the question."""
    return sum(
        1
        for entry in api.transcript
        if entry.from_bot
        and entry.chat_id == telegram_id
        and entry.action == "send"
        and question in entry.text
    )


def toasts(api: LocalBotApi, telegram_id: int) -> list[str]:
    return [e.text for e in api.transcript if e.action == "toast" and e.chat_id == telegram_id]


async def open_rows(bot: RunningBot) -> Counter[DeliveryStatus]:
    async with bot.db.read() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return Counter({status: n for status, n in rows})


async def answers_of_tappers(bot: RunningBot) -> tuple[int, int]:
    async with bot.db.read() as session:
        answers = await session.scalar(select(func.count()).select_from(Answer))
        respondents = await session.scalar(select(func.count()).select_from(Respondent))
    return answers or 0, respondents or 0


async def everything_done(api: LocalBotApi, bot: RunningBot) -> bool:
    counts = await open_rows(bot)
    finished = "verstuurd naar" in (api.user(MEMBER).last.text if api.user(MEMBER).last else "")
    return not counts[DeliveryStatus.pending] and not counts[DeliveryStatus.claimed] and finished


def tap_whoever_was_asked(api: LocalBotApi, ids: list[int], tapped: set[int], want: int) -> None:
    """Families who have the first question tap "Ja" at once, until `want` have tapped."""
    for telegram_id in ids:
        if len(tapped) >= want:
            return
        family = api.user(telegram_id)
        if telegram_id not in tapped and family.last and "Alles goed?" in family.last.text:
            family.tap_nowait("Ja")
            tapped.add(telegram_id)


@pytest.mark.parametrize("fault", ["502 pages", "timeouts"])
async def test_telegram_away_during_a_round_and_taps_loses_nobody(
    api: LocalBotApi, settings: Settings, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.INFO)
    fast = replace(settings, telegram=replace(settings.telegram, messages_per_second=100))
    async with polling_bot(fast) as bot:
        ids = await start_round(api, bot, count=60, first_id=5_100_000, gone=1)
        await until(
            lambda: sum(asked(api, i, "Alles goed?") for i in ids) >= 20,
            within=20,
            what="20 questions sent",
        )
        tapped: set[int] = set()
        tap_whoever_was_asked(api, ids, tapped, want=10)
        if fault == "502 pages":
            api.faults.outage(502, html=True)
        else:
            api.faults.hang()
        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.sleep(4.0 if fault == "502 pages" else 6.0)  # longer than a read timeout
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        api.faults.end_outage()
        api.faults.end_hang()
        back = time.monotonic()
        await until(lambda: not api.queue.pending, within=8, what="the taps taken after the outage")
        caught_up = time.monotonic() - back
        await until(
            lambda: everything_done(api, bot), within=30, what="the round and its final line"
        )
        await until(
            lambda: all(asked(api, i, "Nog iets?") for i in tapped),
            within=10,
            what="the second question for who tapped",
        )

    assert all(asked(api, i, "Alles goed?") == 1 for i in ids), "everyone asked once, nobody lost"
    assert await answers_of_tappers(bot) == (len(tapped), len(tapped)), "every tap stored once"
    for telegram_id in tapped:
        assert len(toasts(api, telegram_id)) <= 1, "one answer per tap"
        assert not any(APOLOGY in m.text for m in api.user(telegram_id).messages)
    final = api.user(MEMBER).last.text
    assert final.startswith("✅ “Onze peiling” is verstuurd naar 60 van de 61 mensen."), final
    assert final.endswith(
        "mensen.\nKwam niet aan: 1\nWaarom: 1 × het gesprek met de bot bestaat niet meer"
    ), final
    assert caught_up < 6.5, f"taps handled {caught_up:.1f} s after the outage ended (tries: 5 s)"
    assert cpu < 0.3 * wall, f"{cpu:.2f} s of CPU in {wall:.1f} s of outage"
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) <= 8, [r.getMessage() for r in loud]
    assert not any(r.exc_info for r in caplog.records), "no traceback per request"
    said = [r.getMessage() for r in loud]
    assert any("Telegram is not reachable" in m for m in said)
    assert any("Telegram is reachable again" in m for m in said)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL)")
async def test_database_restart_during_a_round_and_taps_loses_nothing(
    api: LocalBotApi, settings: Settings, db_url: str
) -> None:
    host, port = settings_host(db_url)
    async with TcpProxy(host, port) as proxy:
        through = replace(
            settings,
            database_url=proxy.url_for(db_url),
            telegram=replace(settings.telegram, messages_per_second=50),
        )
        async with polling_bot(through) as bot:
            ids = await start_round(api, bot, count=150, first_id=5_200_000)
            await until(
                lambda: sum(asked(api, i, "Alles goed?") for i in ids) >= 60,
                within=20,
                what="60 questions sent",
            )
            tapped: set[int] = set()
            proxy.drop()
            proxy.refuse()
            tap_whoever_was_asked(api, ids, tapped, want=15)
            await asyncio.sleep(4.0)
            proxy.restore()
            await until(lambda: everything_done(api, bot), within=40, what="the round and its line")
            await until(lambda: not api.queue.pending, within=20, what="every tap handled")
            counts = await open_rows(bot)
            stored = await answers_of_tappers(bot)

    assert counts == {DeliveryStatus.sent: 150}, "nobody lost, no row left claimed"
    assert all(asked(api, i, "Alles goed?") == 1 for i in ids), "nobody asked twice"
    assert stored == (len(tapped), len(tapped)), "every tap stored, once"
    for telegram_id in tapped:
        family = api.user(telegram_id)
        assert toasts(api, telegram_id) == ["Bewaard ✓"], "one answer per tap"
        assert not any(APOLOGY in m.text for m in family.messages)
        assert asked(api, telegram_id, "Nog iets?") == 1
    progress = [e.text for e in api.transcript if e.from_bot and e.chat_id == MEMBER]
    assert any("de database is niet bereikbaar" in text for text in progress), progress
    assert progress[-1].startswith("✅ “Onze peiling” is verstuurd naar 150 van de 150")


def settings_host(db_url: str) -> tuple[str, int]:
    from sqlalchemy import make_url

    url = make_url(db_url)
    return url.host or "127.0.0.1", url.port or 5432


async def test_taps_and_a_round_together_stay_within_the_rate(
    api: LocalBotApi, settings: Settings
) -> None:
    limited = replace(settings, telegram=replace(settings.telegram, messages_per_second=20))
    async with polling_bot(limited) as bot:
        began = time.monotonic()
        ids = await start_round(api, bot, count=60, first_id=5_300_000)
        tapped: set[int] = set()

        async def tapping() -> bool:
            tap_whoever_was_asked(api, ids, tapped, want=25)
            return len(tapped) >= 25

        await until(tapping, within=30, what="25 families tapping")
        await until(lambda: everything_done(api, bot), within=30, what="the round")
        await until(
            lambda: all(asked(api, i, "Nog iets?") for i in tapped),
            within=15,
            what="the second question for who tapped",
        )

    assert all(asked(api, i, "Alles goed?") == 1 for i in ids)
    busiest = api.busiest_second(since=began)
    assert busiest <= 20, f"{busiest} calls arrived in one second at a limit of 20"


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL)")
async def test_webhook_tap_while_the_database_is_away_comes_again_and_counts_once(
    api: LocalBotApi, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.run.webhook.DATABASE_PATIENCE", 1.0)  # then 503: Telegram tries again
    api.webhook.retry_delay = 0.5
    host, port = settings_host(db_url)
    async with TcpProxy(host, port) as proxy:
        through = replace(settings, database_url=proxy.url_for(db_url))
        async with webhook_bot(api, through):
            direct = Database(db_url)
            family = api.user((await populate(direct, count=1, first_id=5_400_000))[0])
            await open_poll_now(direct, questions=QUESTIONS)
            await direct.dispose()
            await until(lambda: bool(family.last), within=10, what="the question")
            proxy.drop()
            proxy.refuse()
            tapped = asyncio.create_task(family.press("Ja"))
            await until(lambda: 503 in api.webhook_statuses, within=10, what="a 503")
            proxy.restore()
            await tapped
            await until(
                lambda: asked(api, family.chat.id, "Nog iets?") == 1,
                within=10,
                what="the next question",
            )

    assert await answers_of(db_url) == (1, 1), "the tap stored once"
    assert toasts(api, family.chat.id) == ["Bewaard ✓"], "one answer to the tap"
    assert api.webhook_statuses[-1] == 200


async def answers_of(db_url: str) -> tuple[int, int]:
    db = Database(db_url)
    try:
        async with db.read() as session:
            answers = await session.scalar(select(func.count()).select_from(Answer))
            respondents = await session.scalar(select(func.count()).select_from(Respondent))
    finally:
        await db.dispose()
    return answers or 0, respondents or 0
