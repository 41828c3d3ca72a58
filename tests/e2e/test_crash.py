"""Crash safety with real processes: SIGKILL in the middle of a broadcast (on Telegram, and on
WhatsApp with the webhook of the child process answering the simulator's statuses), SIGKILL
right after Telegram handed out a batch of answers, and two worker processes sharing one
broadcast on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from bot.config import TelegramSettings
from bot.wasim import LocalWhatsApp
from storage import councils
from storage.db import Database
from storage.models import Address, Answer, Delivery, DeliveryStatus, Inbox, Question, Respondent
from storage.pseudonyms import pseudonym
from tests.builders import COUNCILS, PSEUDONYM_KEY, open_poll_now, populate, queue_text
from tests.e2e.conftest import VERIFY_TOKEN, free_port

ROOT = Path(__file__).parents[2]
QUESTION = [{"kind": "yes_no", "text": "Alles goed?"}]
DEFAULT_RATE = int(TelegramSettings().messages_per_second)


def write_config(
    folder: Path, api: LocalBotApi, db_url: str, rate: int, wa: LocalWhatsApp | None = None
) -> Path:
    """The child's config file; with `wa`, the WhatsApp channel on, pointed at it, and its
    webhook on a free port (the simulator told where, for its statuses)."""
    config = folder / "config.toml"
    lines = [
        "[telegram]",
        f'token = "{api.token}"',
        f'base_url = "{api.base_url}"',
        f"messages_per_second = {rate}",
        "[database]",
        f'url = "{db_url}"',
        "[privacy]",
        f'pseudonym_key = "{PSEUDONYM_KEY}"',
    ]
    if wa is not None:
        port = free_port()
        wa.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
        lines += [
            "[whatsapp]",
            f'phone_number_id = "{wa.phone_number_id}"',
            f'token = "{wa.token}"',
            f'app_secret = "{wa.app_secret}"',
            f'verify_token = "{VERIFY_TOKEN}"',
            f'business_number = "{wa.business_number}"',
            f'base_url = "{wa.base_url}"',
            f"messages_per_second = {rate}",
            'listen = "127.0.0.1"',
            f"port = {port}",
        ]
    for council in COUNCILS:
        lines += [
            "[[councils]]",
            f'slug = "{council.slug}"',
            f'name = "{council.name}"',
            'quiet_hours = "00:00-00:00"',
        ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def start(config: Path, command: str = "run") -> subprocess.Popen[bytes]:
    env = os.environ | {"PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", command, "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def prepared(
    db_url: str,
    count: int,
    first_id: int,
    api: LocalBotApi,
    wa: LocalWhatsApp | None = None,
    questions: list[dict[str, object]] = QUESTION,
) -> list[int]:
    """`count` families with an open poll to send them; with `wa`, on WhatsApp, each of
    whom wrote today (their 24-hour window is open, in the database and the simulator)."""
    db = Database(db_url)
    await db.upgrade()
    async with db.begin() as session:
        await councils.sync_councils(session, configured=COUNCILS)
    channel = "telegram" if wa is None else "whatsapp"
    ids = await populate(db, count=count, first_id=first_id, channel=channel, window_open=True)
    for family_id in ids:
        if wa is None:
            api.user(family_id)
        else:
            wa.user(str(family_id)).last_message_at = wa.now()
    await open_poll_now(db, questions=questions)
    await db.dispose()
    return ids


async def wait_until(condition, *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {within}s"
        await asyncio.sleep(0.1)


async def all_final(db_url: str) -> bool:
    db = Database(db_url)
    async with db.read() as session:
        open_rows = await session.scalar(
            select(func.count()).where(
                Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.claimed])
            )
        )
    await db.dispose()
    return open_rows == 0


def sends_per_chat(api: LocalBotApi) -> Counter[int]:
    return Counter(record.chat_id for record in api.sends if record.action == "send")


def sends_per_number(wa: LocalWhatsApp) -> Counter[int]:
    """Messages WhatsApp accepted, per family (read marks are not messages)."""
    return Counter(int(record.to) for record in wa.sends)


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_sigkill_mid_broadcast_loses_nobody(
    api: LocalBotApi, wa: LocalWhatsApp, db_url: str, tmp_path: Path, channel: str
) -> None:
    """At Telegram's default rate (30/s, on WhatsApp too), outcomes are recorded as they
    happen: only the sends in flight at the kill may go out twice (at most 3). On WhatsApp
    the statuses of the sends come to the child's webhook, also while it dies; afterwards
    each family has the question and every row is sent."""
    on_whatsapp = wa if channel == "whatsapp" else None
    first_id = 31_612_000_000 if on_whatsapp else 7_000_000
    ids = await prepared(db_url, 150, first_id, api, on_whatsapp)
    url = db_url.replace("+asyncpg", "")
    config = write_config(tmp_path, api, url, rate=DEFAULT_RATE, wa=on_whatsapp)

    def sent() -> Counter[int]:
        return sends_per_number(wa) if on_whatsapp else sends_per_chat(api)

    async def fifty_sent() -> bool:
        return len(sent()) >= 50

    first = start(config)
    try:
        await wait_until(fifty_sent, within=60, what="50 sends before the kill")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    sent_before = len(sent())
    assert sent_before < len(ids), "killed in the middle"

    second = start(config)
    try:
        await wait_until(lambda: all_final(db_url), within=90, what="the resumed broadcast")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    per_chat = sent()
    assert set(per_chat) == set(ids), "0 lost"
    duplicates = sum(count - 1 for count in per_chat.values())
    assert duplicates <= 3, f"{duplicates} sent twice; only the sends in flight may be"
    if on_whatsapp:
        questions = [user.last for user in wa.users.values()]
        assert all(message and "Alles goed?" in message.body for message in questions)
        assert await delivery_statuses(db_url) == {DeliveryStatus.sent: len(ids)}


async def delivery_statuses(db_url: str) -> dict[DeliveryStatus, int]:
    db = Database(db_url)
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        found = dict(rows.all())
    await db.dispose()
    return found


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL)")
async def test_two_workers_on_postgresql_send_nothing_twice(
    api: LocalBotApi, db_url: str, tmp_path: Path
) -> None:
    ids = await prepared(db_url, 1500, 8_000_000, api)
    config = write_config(tmp_path, api, db_url.replace("+asyncpg", ""), rate=300)
    workers = [start(config, "worker"), start(config, "worker")]
    try:
        await wait_until(lambda: all_final(db_url), within=90, what="the shared broadcast")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    per_chat = sends_per_chat(api)
    assert set(per_chat) == set(ids)
    assert max(per_chat.values()) == 1, "0 duplicates"


async def stored_answers(db_url: str) -> tuple[int, int, int]:
    """Answers, respondents, and the most answers any respondent has."""
    db = Database(db_url)
    async with db.read() as session:
        answers = await session.scalar(select(func.count()).select_from(Answer))
        respondents = await session.scalar(select(func.count()).select_from(Respondent))
        per_respondent = (
            select(func.count().label("n")).select_from(Answer).group_by(Answer.respondent_id)
        ).subquery()
        most = await session.scalar(select(func.max(per_respondent.c.n)))
    await db.dispose()
    return answers or 0, respondents or 0, most or 0


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["at-hand-out", "mid-batch"])
async def test_sigkill_after_a_batch_of_answers_was_handed_out_loses_none(
    api: LocalBotApi, db_url: str, tmp_path: Path, delay: float
) -> None:
    ids = await prepared(db_url, 40, 9_000_000, api)
    config = write_config(tmp_path, api, db_url.replace("+asyncpg", ""), rate=300)
    first = start(config)
    try:
        await wait_until(lambda: _at_least(api, len(ids)), within=60, what="every question sent")
        killed = asyncio.Event()

        def kill_soon(batch: list[dict[str, object]]) -> None:
            if not killed.is_set() and any("callback_query" in update for update in batch):
                killed.set()
                asyncio.get_running_loop().call_later(delay, first.send_signal, signal.SIGKILL)

        api.queue.on_hand_out = kill_soon
        for telegram_id in ids:  # everyone taps at once: one batch for getUpdates
            api.user(telegram_id).tap_nowait("Ja")
        await asyncio.wait_for(killed.wait(), 30)
    finally:
        await asyncio.sleep(delay + 0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
    api.queue.on_hand_out = None
    kept = len(api.queue.pending) + await inbox_rows(db_url)
    assert kept >= len(ids), "each tap is still at the server, or in the inbox"

    second = start(config)
    try:
        await wait_until(
            lambda: _no_pending(api), within=60, what="the taps handled after the restart"
        )
        await wait_until(
            lambda: _answers_at_least(db_url, len(ids)), within=30, what="every answer stored"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    assert await stored_answers(db_url) == (len(ids), len(ids), 1), "each answer stored once"


async def inbox_rows(db_url: str) -> int:
    db = Database(db_url)
    async with db.read() as session:
        rows = await session.scalar(select(func.count()).select_from(Inbox))
    await db.dispose()
    return rows or 0


OPEN_THREE = [{"kind": "open_text", "text": f"Vraag {n}?"} for n in (1, 2, 3)]
WORDS = ("een", "twee", "drie")


async def test_two_processes_share_a_burst_and_a_killed_one_loses_and_doubles_nothing(
    api: LocalBotApi, db_url: str, tmp_path: Path
) -> None:
    """Every family types its three open answers at once; a poller and a worker take them
    from the inbox; the poller is SIGKILLed while both hold rows (another one starts). Every
    answer is stored once, each on its own question (in order), and no step came twice."""
    if db_url.startswith("sqlite"):
        pytest.skip("with SQLite one process takes the updates")
    ids = await prepared(db_url, 150, 9_600_000, api, questions=OPEN_THREE)
    config = write_config(tmp_path, api, db_url.replace("+asyncpg", ""), rate=1000)
    processes = [start(config), start(config, "worker")]
    try:
        await wait_until(lambda: _at_least(api, len(ids)), within=60, what="every question sent")
        for telegram_id in ids:
            for word in WORDS:
                queue_text(api, api.user(telegram_id), word)
        await wait_until(lambda: _takers(db_url, 2), within=30, what="both processes handling")
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        processes.append(start(config))  # polling goes on; the worker takes the dead one's rows
        await wait_until(
            lambda: _answers_at_least(db_url, len(ids) * len(WORDS)),
            within=90,
            what="every answer stored",
        )
        await wait_until(lambda: _takers(db_url, 0, at_most=True), within=30, what="all done")
    finally:
        for process in processes[1:]:
            process.send_signal(signal.SIGTERM)
        for process in processes[1:]:
            process.wait(timeout=30)

    db = Database(db_url)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Respondent.pseudonym, Question.position, Answer.text)
                .join(Answer, Answer.respondent_id == Respondent.id)
                .join(Question, Question.id == Answer.question_id)
            )
        ).all()
        poll_id = await session.scalar(select(Respondent.poll_id).limit(1))
    await db.dispose()
    by_family: dict[str, list[tuple[int, str]]] = {}
    for pseudonym_, position, text_ in rows:
        by_family.setdefault(pseudonym_, []).append((position, text_))
    expected = list(enumerate(WORDS, start=1))
    for telegram_id in ids:
        mine = pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address.telegram(telegram_id))
        assert sorted(by_family.get(mine, [])) == expected, "each answer once, on its question"
    for telegram_id in ids:
        texts = [m.text for m in api.user(telegram_id).messages]
        assert len(texts) == len(set(texts)), f"a step came twice: {texts}"


async def _takers(db_url: str, count: int, *, at_most: bool = False) -> bool:
    db = Database(db_url)
    async with db.read() as session:
        found = await session.scalar(
            select(func.count(func.distinct(Inbox.taken_by))).where(Inbox.taken_by.is_not(None))
        )
    await db.dispose()
    return (found or 0) <= count if at_most else (found or 0) >= count


async def _no_pending(api: LocalBotApi) -> bool:
    return not api.queue.pending


async def _answers_at_least(db_url: str, count: int) -> bool:
    return (await stored_answers(db_url))[0] >= count


async def _at_least(api: LocalBotApi, count: int) -> bool:
    return len(sends_per_chat(api)) >= count
