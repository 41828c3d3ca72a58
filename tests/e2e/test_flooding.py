"""Floods and repeats: one person sending hundreds of updates a minute is slowed down without
slowing down anyone else, and an update that arrives twice counts once.

Flood control lives in handlers/gate.py: 40 updates per person per 60 s are handled; after
that one friendly notice, then silence until the window has room again. The updates here are
queued on the server all at once (as a flood reaches Telegram), so the bot gets them in
getUpdates batches of 100, exactly as in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi, SimUser
from bot.botapi.simuser import bot_messages, command_entities
from bot.chat.throttle import Throttle
from bot.config import Settings
from bot.run.webhook import SECRET_HEADER
from handlers.gate import FLOOD_LIMIT, FLOOD_WINDOW
from storage.db import Database
from storage.models import Answer, Membership, MembershipStatus, Role
from tests.builders import make_invite, open_poll_now, queue_text, sign_up
from tests.e2e.conftest import WEBHOOK_SECRET, RunningBot, polling_bot, webhook_bot

TOO_MANY = "Iets rustiger graag. Probeer het over een minuut opnieuw."
HELP = "Dit kun je doen:"
RATE = 20
QUESTIONS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "open_text", "text": "Wat kan beter?"},
    {"kind": "yes_no", "text": "Kom je terug?"},
]


async def confirmed(api: LocalBotApi, update_ids: list[int]) -> None:
    for update_id in update_ids:
        await api.queue.wait_confirmed(update_id, api.wait_timeout)


def sent_to(api: LocalBotApi, chat_id: int) -> list[str]:
    return [entry.text for entry in api.transcript if entry.from_bot and entry.chat_id == chat_id]


@pytest.fixture
async def limited(api: LocalBotApi, settings: Settings) -> AsyncIterator[RunningBot]:
    """The bot with an overall limit of RATE messages per second."""
    telegram = replace(settings.telegram, messages_per_second=RATE)
    async with polling_bot(replace(settings, telegram=telegram)) as running:
        yield running


async def test_a_flood_is_slowed_down_told_once_and_does_not_delay_others(
    api: LocalBotApi, limited: RunningBot
) -> None:
    flooder, other = api.user(800), api.user(801)
    await sign_up(flooder, await make_invite(limited.db))
    flood_starts = len(api.sends)

    flood = [queue_text(api, flooder, "/hulp") for _ in range(150)]
    flood.append(queue_text(api, other, "/hulp"))  # someone else, in the middle of the flood
    flood += [queue_text(api, flooder, "/hulp") for _ in range(150)]
    flood.append(queue_text(api, flooder, "/pauze"))  # over the limit: not done
    await confirmed(api, flood)

    helped = [text for text in sent_to(api, flooder.id) if text.startswith(HELP)]
    assert len(helped) == FLOOD_LIMIT - 4, "the limit, less the four sign-up steps"
    assert sent_to(api, flooder.id).count(TOO_MANY) == 1, "one notice, then silence"
    assert other.last.text.startswith(HELP), "the other user was answered"
    during = [record.chat_id for record in api.sends[flood_starts:]]
    assert len(during) == FLOOD_LIMIT - 4 + 1 + 1, "the flood cost 301 updates only this much"
    assert during.index(other.id) <= FLOOD_LIMIT, "the other user did not wait for the flood"
    async with limited.db.read() as session:
        status = await session.scalar(select(Membership.status))
    assert status is MembershipStatus.active, "the /pauze after the limit was not processed"
    assert_within_rate(api, flood_starts)


def assert_within_rate(api: LocalBotApi, start: int) -> None:
    """The send log keeps to the configured rate: at most RATE × (seconds + 1) messages in any
    stretch of time (the rate limiter may send a burst of RATE at once, then RATE a second)."""
    moments = [record.at for record in api.sends[start:] if record.action == "send"]
    for first, at in enumerate(moments):
        for last in range(first, len(moments)):
            allowed = RATE * (moments[last] - at + 1) + 1  # +1: arrival jitter
            assert last - first + 1 <= allowed, f"{last - first + 1} sends in a burst"


async def test_a_flood_of_taps_gets_answers_up_to_the_limit_then_one_notice(
    api: LocalBotApi, bot: RunningBot
) -> None:
    tapper = api.user(802)
    await tapper.command("start")
    message = bot_messages(tapper.chat)[-1]
    taps = [tapper.queue_callback(tapper.chat, message, "nonsense", "tap") for _ in range(120)]
    await confirmed(api, [update_id for update_id, _ in taps])

    answered = [answer for _, answer in taps if answer.done()]
    assert len(answered) == FLOOD_LIMIT - 1, "the /start and 39 taps were handled"
    assert tapper.last.text == TOO_MANY
    assert sent_to(api, tapper.id).count(TOO_MANY) == 1


async def test_a_busy_group_gets_one_pointer_per_window(api: LocalBotApi, bot: RunningBot) -> None:
    group = api.group(-900, "Ouders")
    people = [api.user(810 + n) for n in range(3)]
    updates = []
    for person in people:
        for _ in range(20):
            message = group.chat.add(
                sender=person.user_dict,
                from_bot=False,
                kind="text",
                text="/start",
                entities=command_entities("/start"),
            )
            updates.append(api.queue.put({"message": message.to_dict()}))
    await confirmed(api, updates)
    assert [m.text for m in group.messages] == [
        "Ik werk alleen in een privégesprek. Tik op @achterban_test_bot om er een te openen."
    ]


async def test_writing_and_answering_polls_quickly_never_hits_the_limit(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member, family = api.user(820), api.user(821)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    await sign_up(family, await make_invite(bot.db))
    await member.command("nieuw")
    await member.send("x" * 121)  # a mistake or two on the way
    await member.send("Vijf vragen")
    kinds = ["Eén keuze", "Meerdere keuzes", "Gezichtjes 😞 tot 😄", "Eén keuze", "Meerdere keuzes"]
    for number, kind in enumerate(kinds):
        await member.press(kind)
        await member.send(f"Vraag {number + 1}?")
        if kind != "Gezichtjes 😞 tot 😄":
            await member.send("Een\nTwee\nDrie")
    await member.press("Iedereen van Cliëntenraad Noord")
    await member.press("Anoniem (beste keuze)")
    await member.press("Meteen")
    await member.press("Na 7 dagen")
    await member.press("Ja, dat mag")
    await member.press("✅ Versturen")
    await bot.deliver()

    for tap in ["Een", "☐ Een", "☐ Twee", "☐ Drie", "Klaar ✓", "🙂", "Twee", "☐ Een", "Klaar ✓"]:
        await family.press(tap)
    assert family.last.text.startswith("Dank je wel! Dat was de laatste vraag.")
    await family.command("gegevens")
    assert TOO_MANY not in sent_to(api, member.id) + sent_to(api, family.id)


def test_the_window_admits_again_after_it_passed() -> None:
    flood = Throttle(limit=3, window=60)
    assert [flood.admit(1, now=t) for t in (0, 1, 2, 3, 30, 59)] == [True] * 3 + [False] * 3
    assert flood.admit(2, now=3), "another person has their own window"
    assert flood.admit(1, now=60.5), "refused updates did not lengthen the wait"
    notices = Throttle(limit=1, window=FLOOD_WINDOW)
    assert [notices.admit(1, now=t) for t in (0, 10, 59, 61)] == [True, False, False, True]


# ---- the same update twice --------------------------------------------------------------------


async def answer_twice(api: LocalBotApi, family: SimUser, how: str, again: Any) -> None:
    """Tap "Goed" (or, after that tap, type the open answer); `again(update)` delivers that
    very same update a second time."""
    question = bot_messages(family.chat)[-1]
    if how == "tap":
        update_id, _ = family.queue_callback(family.chat, question, _data(question, "Goed"), "")
    else:
        await family.press("Goed")
        update_id = queue_text(api, family, "Meer uitleg")
    update = dict(api.queue.pending[-1])
    assert update["update_id"] == update_id
    await again(update)
    await api.queue.wait_confirmed(update_id, api.wait_timeout)


def _data(message: Any, label: str) -> str:
    buttons = message.reply_markup["inline_keyboard"]
    return next(b["callback_data"] for row in buttons for b in row if b["text"] == label)


async def seen_once(db: Database, family: SimUser, how: str = "tap") -> None:
    """One answer stored per question, and the family saw each step once, nothing more."""
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(Answer))
    assert stored == (1 if how == "tap" else 2)
    texts = [message.text for message in family.messages]
    upcoming = "Vraag 2 van 3" if how == "tap" else "Vraag 3 van 3"
    assert sum(upcoming in text for text in texts) == 1, "the next question came once"
    assert sum("✓ Jouw antwoord: Goed" in text for text in texts) == 1
    saved = sum(text.startswith("Dank je wel, je antwoord is bewaard.") for text in texts)
    assert saved == (how == "typed")
    assert not [t for t in texts if t.startswith(("Sorry", "Ik kan alleen"))], "nothing odd"
    assert family.toasts.count("Bewaard ✓") <= 1


@pytest.mark.parametrize("how", ["tap", "typed"])
async def test_an_update_handed_out_twice_counts_once(
    api: LocalBotApi, bot: RunningBot, how: str
) -> None:
    family = api.user(830)
    await sign_up(family, await make_invite(bot.db))
    await open_poll_now(bot.db, questions=QUESTIONS)
    await bot.deliver()

    async def handed_out_again(update: dict[str, Any]) -> None:
        api.queue.put(update)  # before the bot fetched the first: one batch holds both

    await answer_twice(api, family, how, handed_out_again)
    await seen_once(bot.db, family, how)


async def test_a_tap_repeated_after_a_restart_counts_once(
    api: LocalBotApi, settings: Settings
) -> None:
    """A restart forgets which updates came (Telegram repeats what was not confirmed before
    a crash): the unique answer key keeps one answer, and the family sees nothing extra."""
    family = api.user(831)
    repeated: list[dict[str, Any]] = []
    async with polling_bot(settings) as first:
        await sign_up(family, await make_invite(first.db))
        await open_poll_now(first.db, questions=QUESTIONS)
        await first.deliver()

        async def remembered(update: dict[str, Any]) -> None:
            repeated.append(update)

        await answer_twice(api, family, "tap", remembered)
    async with polling_bot(settings) as second:
        await api.queue.wait_confirmed(api.queue.put(repeated[0]), api.wait_timeout)
        await seen_once(second.db, family)


async def test_a_tap_too_old_to_acknowledge_still_gets_the_next_question(
    api: LocalBotApi, bot: RunningBot
) -> None:
    """After the bot was down a while, Telegram no longer takes an answer to a waiting tap;
    the answer is stored all the same, shown, and the next question comes."""
    family = api.user(833)
    await sign_up(family, await make_invite(bot.db))
    await open_poll_now(bot.db, questions=QUESTIONS)
    await bot.deliver()
    question = bot_messages(family.chat)[-1]
    update_id, _ = family.queue_callback(family.chat, question, _data(question, "Goed"), "Goed")
    del api.state.queries[api.queue.pending[-1]["callback_query"]["id"]]  # expired
    await api.queue.wait_confirmed(update_id, api.wait_timeout)
    await seen_once(bot.db, family)


async def test_a_toggle_too_old_to_acknowledge_still_shows_the_choice(
    api: LocalBotApi, bot: RunningBot
) -> None:
    """Every button is answered through one helper that passes over a query Telegram no
    longer takes (here: ticking one of several choices after an outage); no apology."""
    family = api.user(834)
    await sign_up(family, await make_invite(bot.db))
    several = [{"kind": "multiple", "text": "Wat hielp?", "options": ["Uitleg", "Tijd"]}]
    await open_poll_now(bot.db, questions=several)
    await bot.deliver()
    question = bot_messages(family.chat)[-1]
    data = _data(question, "☐ Tijd")
    update_id, _ = family.queue_callback(family.chat, question, data, "☐ Tijd")
    del api.state.queries[api.queue.pending[-1]["callback_query"]["id"]]  # expired
    await api.queue.wait_confirmed(update_id, api.wait_timeout)
    await api.wait_idle()
    assert family.last.labels[:2] == ["☐ Uitleg", "☑ Tijd"]
    assert not any("Er is niets verloren" in m.text for m in family.messages)


@pytest.fixture
async def webhook_url(api: LocalBotApi, settings: Settings) -> AsyncIterator[str]:
    async with webhook_bot(api, settings) as address:
        yield f"{address}/tg"


@pytest.mark.parametrize("how", ["tap", "typed"])
async def test_a_webhook_retry_counts_once(
    api: LocalBotApi, db: Database, webhook_url: str, how: str
) -> None:
    family = api.user(832)
    await sign_up(family, await make_invite(db))
    await open_poll_now(db, questions=QUESTIONS)
    for _ in range(200):  # the outbox of the running bot sends it within a second or so
        if family.last and "Vraag 1 van 3" in family.last.text:
            break
        await asyncio.sleep(0.05)

    async def posted_again(update: dict[str, Any]) -> None:
        """Telegram retries a delivery it thinks failed: the same update, POSTed again."""
        headers = {SECRET_HEADER: WEBHOOK_SECRET}
        async with (
            aiohttp.ClientSession() as http,
            http.post(webhook_url, json=update, headers=headers) as answer,
        ):
            assert answer.status == 200

    await answer_twice(api, family, how, posted_again)
    await seen_once(db, family, how)
