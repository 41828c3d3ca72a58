"""A broadcast loses nobody: 10,000 recipients with 429s, 5xx, blocked users and latency;
and the sending rate stays below the configured limit."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace

from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from bot.chat.context import SERVICES
from bot.config import Settings
from storage.models import Delivery, DeliveryStatus
from tests.builders import open_poll_now, populate
from tests.e2e.conftest import RunningBot, polling_bot

QUESTION = [{"kind": "yes_no", "text": "Alles goed?"}]
FINAL = {
    DeliveryStatus.sent,
    DeliveryStatus.blocked,
    DeliveryStatus.failed,
    DeliveryStatus.uncertain,
}


async def send_everything(bot: RunningBot, *, within: float) -> Counter[DeliveryStatus]:
    """Drain the outbox until every row is in a final state (retries wait a little)."""
    outbox = bot.app.bot_data[SERVICES].outbox
    deadline = time.monotonic() + within
    while True:
        await outbox.drain()
        async with bot.db.begin() as session:
            rows = await session.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status)
            )
            counts = Counter({status: n for status, n in rows})
        if set(counts) <= FINAL:
            return counts
        assert time.monotonic() < deadline, f"not done in {within}s: {counts}"
        await asyncio.sleep(0.3)


async def crowd(api: LocalBotApi, bot: RunningBot, *, count: int, first_id: int) -> list[int]:
    """`count` signed-up families, each with a chat on the local Telegram."""
    ids = await populate(bot.db, count=count, first_id=first_id)
    for telegram_id in ids:
        api.user(telegram_id)
    return ids


def sends_per_chat(api: LocalBotApi) -> Counter[int]:
    return Counter(record.chat_id for record in api.sends if record.action == "send")


async def test_ten_thousand_with_faults_lose_nobody(api: LocalBotApi, settings: Settings) -> None:
    fast = replace(settings, telegram=replace(settings.telegram, messages_per_second=1000))
    async with polling_bot(fast) as bot:
        ids = await crowd(api, bot, count=10_000, first_id=5_000_000)
        blocked = set(ids[::200])
        for telegram_id in blocked:
            api.faults.block(telegram_id)
        api.faults.rate_limit(5, retry_after=1, methods={"sendMessage"})  # more than PTB retries
        api.faults.server_error(5, methods={"sendMessage"})
        api.faults.latency = 0.001
        await open_poll_now(bot.db, questions=QUESTION)

        counts = await send_everything(bot, within=240)

    assert counts == {
        DeliveryStatus.sent: 10_000 - len(blocked),
        DeliveryStatus.blocked: len(blocked),
    }
    per_chat = sends_per_chat(api)
    assert set(per_chat) == set(ids) - blocked, "nobody lost"
    assert max(per_chat.values()) == 1, "nobody twice"


async def test_the_rate_stays_below_the_limit(api: LocalBotApi, settings: Settings) -> None:
    limited = replace(settings, telegram=replace(settings.telegram, messages_per_second=100))
    async with polling_bot(limited) as bot:
        await crowd(api, bot, count=300, first_id=6_000_000)
        await open_poll_now(bot.db, questions=QUESTION)
        await send_everything(bot, within=60)

    moments = sorted(record.at for record in api.sends if record.action == "send")
    assert len(moments) == 300
    rate = (len(moments) - 1) / (moments[-1] - moments[0])
    assert rate <= 100, f"measured {rate:.1f} messages per second, limit 100"
    busiest = max(sum(1 for m in moments if start <= m < start + 1) for start in moments)
    assert busiest <= 110, f"{busiest} messages in one second (sends are spaced; arrival jitters)"
