"""Families on WhatsApp: what only this channel has (the webhook, the window, templates,
Meta's errors, numbers that change). Flows both channels share are in the parametrized
family tests."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import func, select, update

from bot.__main__ import configure_logging
from bot.botapi import LocalBotApi
from bot.chat.context import SERVICES
from bot.config import Settings
from bot.run.whatsapp import KEY as WHATSAPP_PARTS
from bot.wasim import LocalWhatsApp, WaUser
from storage.models import (
    Address,
    Answer,
    Delivery,
    DeliveryStatus,
    Inbound,
    Person,
    Respondent,
    Role,
    utcnow,
)
from tests.builders import ADMIN_ID, LANGUAGE_NAMES, make_invite, open_poll_now, populate
from tests.e2e.conftest import VERIFY_TOKEN, RunningBot, polling_bot, with_whatsapp
from tests.e2e.families import OnWhatsApp, join

QUESTION = {"kind": "yes_no", "text": "Kom je terug?"}
FINAL = {DeliveryStatus.sent, DeliveryStatus.failed, DeliveryStatus.blocked, DeliveryStatus.skipped}


async def send_everything(bot: RunningBot, within: float = 30.0) -> None:
    """Drain the outbox until every row is final (rows that wait a moment included)."""
    deadline = time.monotonic() + within
    while True:
        await bot.deliver()
        async with bot.db.read() as session:
            statuses = Counter(await session.scalars(select(Delivery.status)))
        if set(statuses) <= FINAL:
            return
        assert time.monotonic() < deadline, f"not sent in {within}s: {statuses}"
        async with bot.db.begin() as session:  # what waits a few seconds may go now
            await session.execute(update(Delivery).values(not_before=None))
        await asyncio.sleep(0.1)


def inbound_text(wa: LocalWhatsApp, wa_id: str, text: str) -> dict:
    """A webhook body with one text message, as Meta sends it."""
    message = {
        "from": wa_id,
        "id": f"wamid.test{wa_id}",
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": wa.metadata,
        "contacts": [{"profile": {"name": "X"}, "wa_id": wa_id}],
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": wa.waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


async def populate_whatsapp(bot: RunningBot, number: str) -> None:
    """A family on WhatsApp straight into the tables (a number that is not on WhatsApp)."""
    await populate(bot.db, count=1, first_id=int(number), channel="whatsapp", window_open=True)


async def count(bot: RunningBot, model: type) -> int:
    async with bot.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_family_joins_on_whatsapp_with_the_code_in_its_first_message(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    code = await make_invite(wabot.db, tags=("locatie:noord",))
    amira = wa.user("31612345001", name="Amira")

    await amira.send(f"Hallo! Ik wil meedoen. Mijn code: {code}")
    assert amira.last.titles == LANGUAGE_NAMES
    await amira.tap("Nederlands")
    assert "telefoonnummer" in amira.last.body
    assert await count(wabot, Person) == 0, "nothing is stored before consent"
    await amira.tap("Ja, ik ga akkoord")
    await amira.tap("16 of ouder")
    assert "Je doet nu mee met *Cliëntenraad Noord*" in amira.last.body
    assert "typ *hulp*" in amira.last.body.lower()
    async with wabot.db.read() as session:
        person = await session.scalar(select(Person))
    assert person.contact == Address.whatsapp("31612345001")


async def test_an_unknown_number_without_a_code_gets_one_line_and_nothing_is_stored(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    stranger = wa.user("31612345002")
    await stranger.send("hoi, wat is dit?")
    assert "uitnodiging" in stranger.last.body
    assert len(stranger.messages) == 1
    council = await make_invite(wabot.db, role=Role.council)
    await stranger.send(f"Mijn code: {council}")
    assert "via Telegram" in stranger.last.body, "council members and staff stay on Telegram"
    await stranger.tap_id(f"su:y:nl:{council}")
    assert "via Telegram" in stranger.last.body
    assert await count(wabot, Person) == 0


async def family(wa: LocalWhatsApp, bot: RunningBot, number: str = "31612340100") -> WaUser:
    """A family on WhatsApp that joined (so its 24-hour window is open)."""
    user = wa.user(number)
    await join(OnWhatsApp(user, wa.business_number), await make_invite(bot.db))
    return user


async def close_windows(bot: RunningBot) -> None:
    """A day went by since the families last wrote."""
    async with bot.db.begin() as session:
        await session.execute(update(Person).values(window_at=utcnow() - timedelta(hours=25)))


async def deliveries(bot: RunningBot) -> list[tuple[str, int, bool, str | None]]:
    async with bot.db.read() as session:
        rows = await session.execute(
            select(Delivery.status, Delivery.receipt, Delivery.template, Delivery.error).order_by(
                Delivery.id
            )
        )
        return [
            (status.value, receipt, template, error) for status, receipt, template, error in rows
        ]


async def test_the_webhook_handshake_and_signature(wa: LocalWhatsApp, wabot: RunningBot) -> None:
    url = wa.webhook_url
    async with aiohttp.ClientSession() as http:
        good = {
            "hub.mode": "subscribe",
            "hub.challenge": "1158201444",
            "hub.verify_token": VERIFY_TOKEN,
        }
        async with http.get(url, params=good) as response:
            assert (response.status, await response.text()) == (200, "1158201444")
        async with http.get(url, params=good | {"hub.verify_token": "guess"}) as response:
            assert response.status == 403
    code = await make_invite(wabot.db)
    payload = inbound_text(wa, "31612340101", f"code {code}")
    assert await wa.post_webhook(payload, signature=None) == 403
    assert await wa.post_webhook(payload, signature="sha256=" + "0" * 64) == 403
    assert await count(wabot, Inbound) == 0, "nothing is stored without a valid signature"
    assert wa.user("31612340101").messages == []


async def test_a_retried_webhook_is_answered_once(wa: LocalWhatsApp, wabot: RunningBot) -> None:
    user = wa.user("31612340102")
    await user.send(f"Mijn code: {await make_invite(wabot.db)}")
    assert len(user.messages) == 1
    assert await wa.redeliver_last() == 200
    assert await wa.redeliver_last() == 200
    await asyncio.sleep(0.2)
    assert len(user.messages) == 1, "Meta's retries of one message get one answer"
    assert await count(wabot, Inbound) == 1


async def test_outside_the_window_a_template_then_the_question_after_start(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    user = await family(wa, wabot)
    later = await family(wa, wabot, "31612340103")
    await close_windows(wabot)
    await open_poll_now(wabot.db, questions=[QUESTION], title="Avond")
    await wabot.deliver()
    assert user.last.kind == "template"
    assert user.last.template == ("achterban_round", "nl")
    assert user.last.titles == ["Start", "Niet nu"]
    assert [row[2] for row in await deliveries(wabot)] == [True, True]

    await user.tap("Start")
    assert user.last.kind != "template" and "Kom je terug?" in user.last.body
    await user.tap("Ja")
    assert "Dank je wel!" in user.last.body
    assert wa.rejected == [], "a template is never refused for the window"
    await later.tap("Niet nu")
    assert "typ *vragen*" in later.last.body
    await later.send("vragen")
    assert "Kom je terug?" in later.last.body


async def test_busy_whatsapp_is_waited_out_and_nothing_is_lost(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    users = [await family(wa, wabot, f"3161234020{n}") for n in range(3)]
    await open_poll_now(wabot.db, questions=[QUESTION])
    wa.fail_next(130429, count=2)
    wa.fail_next(131056, count=1)
    await send_everything(wabot)
    assert all("Kom je terug?" in user.last.body for user in users)
    assert {row[0] for row in await deliveries(wabot)} == {"sent"}
    wa.fail_next(130429, count=1)
    await users[0].tap("Ja")  # a reply is tried again too
    assert "Dank je wel!" in users[0].last.body


async def test_the_daily_limit_holds_the_rest_until_the_next_day(
    api: LocalBotApi, wa: LocalWhatsApp, settings: Settings
) -> None:
    async with polling_bot(with_whatsapp(settings, wa, daily_new_conversations=2)) as bot:
        users = [await family(wa, bot, f"3161234030{n}") for n in range(3)]
        await close_windows(bot)
        await open_poll_now(bot.db, questions=[QUESTION])
        await bot.deliver()
        assert [user.last.kind for user in users] == ["template", "template", "text"]
        assert (await deliveries(bot))[2][::3] == ("pending", "daily limit")
        staff = api.user(ADMIN_ID)
        await staff.command("status")
        assert (
            "daglimiet van nieuwe gesprekken is bereikt. 1 berichten gaan vanzelf"
            in staff.last.text
        )
        courier = bot.app.bot_data[WHATSAPP_PARTS].courier
        courier.clock = lambda: utcnow() + timedelta(hours=24, minutes=1)  # the next day
        async with bot.db.begin() as session:
            await session.execute(update(Delivery).values(not_before=None))
        await bot.deliver()
        assert users[2].last.kind == "template", "it went on by itself"


async def test_statuses_late_doubled_or_out_of_order_never_go_backwards(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    user = await family(wa, wabot)
    stranger = wa.user("31612340199", on_whatsapp=False)
    await populate_whatsapp(wabot, stranger.wa_id)
    wa.statuses = "shuffled"
    await open_poll_now(wabot.db, questions=[QUESTION])
    await wabot.deliver()
    await wa.settle()
    wa.statuses = "duplicated"
    await user.tap("Ja")
    await wa.settle()
    for _ in range(50):  # a status that came before its send was recorded is tried again
        rows = await deliveries(wabot)
        if rows[0][1] == 3 and rows[1][0] == "failed":
            break
        await asyncio.sleep(0.1)
    assert rows[0][:2] == ("sent", 3), "read, even though 'sent' and 'delivered' came later"
    assert rows[1][0] == "failed" and rows[1][3] == "undeliverable"


@pytest.mark.parametrize(("code", "told"), [(131048, "spam"), (190, "toegangssleutel")])
async def test_meta_stopping_us_tells_staff_and_holds_the_round(
    code: int, told: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    admin = api.user(ADMIN_ID)
    users = [await family(wa, wabot, f"3161234040{n}") for n in range(2)]
    await open_poll_now(wabot.db, questions=[QUESTION])
    wa.fail_next(code)
    await wabot.deliver()
    await asyncio.sleep(0.1)
    assert "WhatsApp" in admin.last.text and told in admin.last.text
    assert "pending" in [row[0] for row in await deliveries(wabot)], "held, not lost"
    sent = len(wa.sends)
    async with wabot.db.begin() as session:
        await session.execute(update(Delivery).values(not_before=None))
    await wabot.deliver()
    assert len(wa.sends) == sent, "no bulk sending while Meta has stopped us"
    assert len(users) == 2


async def test_a_template_missing_in_english_goes_in_dutch_and_staff_hear_of_it(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    admin = api.user(ADMIN_ID)
    user = wa.user("31612340500")
    await join(
        OnWhatsApp(user, wa.business_number), await make_invite(wabot.db), language="English"
    )
    await close_windows(wabot)
    wa.templates["achterban_round"] = ("nl",)
    await open_poll_now(wabot.db, questions=[QUESTION])
    await wabot.deliver()
    assert user.last.template == ("achterban_round", "nl")
    await asyncio.sleep(0.1)
    assert "achterban_round" in admin.last.text and "“en”" in admin.last.text


async def test_a_new_number_or_a_bsuid_moves_the_person(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    user = await family(wa, wabot, "31612340600")
    await open_poll_now(wabot.db, questions=[QUESTION, {"kind": "yes_no", "text": "En nu?"}])
    await wabot.deliver()
    await user.tap("Ja")
    await user.change_number("31612340601")
    async with wabot.db.read() as session:
        addresses = list(await session.scalars(select(Person.address)))
    assert addresses == ["31612340601"]
    user.bsuid = "NL.1349120865530274191"  # Meta starts sending business-scoped ids
    await user.send("vragen")
    assert "En nu?" in user.last.body, "the first answer is still theirs: on to question 2"
    async with wabot.db.read() as session:
        addresses = list(await session.scalars(select(Person.address)))
    assert addresses == ["NL.1349120865530274191"], "moved, not duplicated"
    await user.tap("Nee")
    assert await count(wabot, Respondent) == 1, "one respondent: nobody answers twice"
    await open_poll_now(wabot.db, questions=[QUESTION])
    await wabot.deliver()
    assert "Kom je terug?" in user.last.body, "sent with the BSUID as recipient"


async def test_a_voice_answer_is_refused_kindly_and_long_labels_are_cut(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    user = await family(wa, wabot)
    long = "Een heel lange keuze die niet op een knop past"
    question = {
        "kind": "single",
        "text": "Wat vind je?",
        "options": [long, "Kort", "Ook kort", "Nog een"],
    }
    await open_poll_now(wabot.db, questions=[question])
    await wabot.deliver()
    assert user.last.kind == "list"
    title = user.last.titles[0]
    assert len(title) <= 24 and title.endswith("…")
    assert user.last.description(user.last.choices[0][0]) == long
    await user.send_voice()
    assert "Spraakberichten" in user.last.body
    assert await count(wabot, Answer) == 0
    await user.tap(title)
    assert await count(wabot, Answer) == 1


async def test_no_phone_number_or_message_text_in_the_logs(
    wa: LocalWhatsApp, wabot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    levels = {name: logging.getLogger(name).level for name in ("", "telegram", "httpx")}
    configure_logging(verbose=True)  # as `achterban run --verbose`
    caplog.set_level(logging.DEBUG)
    try:
        await _flow_with_a_fault(wa, wabot)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "31612340777" not in logged
    assert "geheim" not in logged


async def _flow_with_a_fault(wa: LocalWhatsApp, wabot: RunningBot) -> None:
    user = await family(wa, wabot, "31612340777")
    await open_poll_now(wabot.db, questions=[QUESTION])
    wa.fail_next(131000)
    await send_everything(wabot)
    await user.send("geheim bericht")


async def test_a_window_that_closed_unseen_gets_the_template(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    user = await family(wa, wabot)
    wa.clock_offset = 25 * 3600  # for Meta a day went by; our record says they wrote today
    await open_poll_now(wabot.db, questions=[QUESTION])
    await wabot.deliver()
    assert [code for _, _, code in wa.rejected] == [131047]
    assert user.last.kind == "template", "switched to the template at once"
    assert [row[:3] for row in await deliveries(wabot)] == [("sent", 1, True)]


async def test_rows_of_both_channels_waiting_at_a_start_go_once(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    boxes = wabot.app.bot_data[SERVICES].outbox
    await boxes.stop()  # as if the bot had stopped with a round waiting
    telegram = await populate(wabot.db, count=60, first_id=5_000)
    numbers = await populate(
        wabot.db, count=60, first_id=31_600_000_000, channel="whatsapp", window_open=True
    )
    for number in telegram:
        api.user(number)
    for number in numbers:
        wa.user(str(number))
    await open_poll_now(wabot.db, questions=[QUESTION])
    await boxes.start(only_process=wabot.db.is_sqlite)  # the start of both channels' outboxes
    await send_everything(wabot)
    per_chat = Counter(record.chat_id for record in api.sends if record.action == "send")
    per_number = Counter(record.to for record in wa.sends)
    assert set(per_chat.values()) == {1} and len(per_chat) == 60, "each Telegram family once"
    assert set(per_number.values()) == {1} and len(per_number) == 60, "each WhatsApp family once"
