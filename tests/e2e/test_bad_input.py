"""Everything that is not what the bot asked for gets a short, friendly answer, never silence."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from storage.models import Membership, MembershipStatus, Person
from tests.builders import ADMIN_ID, make_invite, sign_up
from tests.e2e.conftest import RunningBot

HELP_HINT = "Typ /hulp om te zien wat je kunt doen."


async def test_unknown_command(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(40)
    await user.command("bestaatniet")
    assert user.last.text == f"/bestaatniet ken ik niet. {HELP_HINT}"
    await user.send("/" + "x" * 300)
    assert len(user.last.text) < 120


async def test_stray_text_huge_text_and_html(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(41)
    for text in ("hallo?", "<b>bold</b> & <script>", "ervaringsdeskundigheid " * 170, "مرحبا"):
        await user.send(text)
        assert user.last.text == f"Ik kan alleen knoppen en opdrachten lezen. {HELP_HINT}"


async def test_stickers_photos_and_edits(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(42, language_code="en")
    await user.send_sticker()
    assert "can't read stickers" in user.last.text
    await user.send_photo()
    assert "can't read stickers, photos" in user.last.text
    await user.send("hello")
    await user.edit_last_message("hello again")
    assert "You changed a message" in user.last.text


async def test_editing_a_message_into_a_command_runs_nothing(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = api.user(50)
    await sign_up(user, await make_invite(bot.db))
    await user.send("hallo")
    await user.edit_last_message("/stoppen")
    assert "Je hebt een bericht veranderd" in user.last.text
    async with bot.db.begin() as session:
        assert list(await session.scalars(select(Membership.status))) == [MembershipStatus.active]


async def test_the_apology_speaks_the_user_s_language(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(51, language_code="nl")
    await sign_up(user, await make_invite(bot.db), language="English")
    original = bot.db.sessions

    def broken() -> None:
        raise RuntimeError("boom")

    bot.db.sessions = broken  # type: ignore[assignment]
    await user.command("pause")
    bot.db.sessions = original
    assert user.last.text.startswith("Sorry, something went wrong on our side.")


async def test_group_chat_points_to_a_private_chat(api: LocalBotApi, bot: RunningBot) -> None:
    group = api.group(-500, "Ouders Noord")
    user = api.user(43)
    await group.send(user, "/start")
    assert (
        group.last.text
        == "Ik werk alleen in een privégesprek. Tik op @achterban_test_bot om er een te openen."
    )
    assert user.messages == []


async def test_forged_and_unknown_buttons(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(44)
    await user.send("hoi")
    for data in ("nonsense", "lang:xx", "fg:maybe", "inv:r:king", "su:", "x" * 64):
        toast = await user.press_data(data)
        assert toast == f"Deze knop werkt niet meer. {HELP_HINT}"


async def test_user_text_with_html_in_a_command_argument_is_shown_literally(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = api.user(45)
    await user.command("start", "<b>&amp;</b>")
    assert "werkt niet" in user.last.text


async def test_a_crash_gets_an_apology_and_the_bot_goes_on(
    api: LocalBotApi, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = api.user(46)
    await sign_up(user, await make_invite(bot.db))
    await bot.db.engine.dispose()
    original = bot.db.sessions, bot.db.read_sessions

    def broken() -> None:
        raise RuntimeError("database exploded with secret text")

    bot.db.sessions = bot.db.read_sessions = broken  # type: ignore[assignment]
    with caplog.at_level(logging.ERROR):
        await user.send("mijn geheime bericht")
    bot.db.sessions, bot.db.read_sessions = original

    assert (
        user.last.text
        == "Sorry, er ging bij ons iets mis. Er is niets verloren. Probeer het zo nog een keer."
    )
    assert "RuntimeError" in caplog.text
    assert "mijn geheime bericht" not in caplog.text and "secret text" not in caplog.text
    await user.command("privacy")
    assert "Wat we over je bewaren" in user.last.text


async def test_telegram_refusing_a_send_is_survived(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(47)
    api.faults.server_error(1, status=502, methods={"sendMessage"})
    await user.send("hallo")
    await user.send("hallo")
    assert user.last.text == f"Ik kan alleen knoppen en opdrachten lezen. {HELP_HINT}"

    api.faults.rate_limit(1, retry_after=1, methods={"sendMessage"})
    await user.command("hulp")
    assert user.last.text.startswith("Dit kun je doen:")


async def test_user_who_blocked_the_bot_does_not_break_it(
    api: LocalBotApi, bot: RunningBot
) -> None:
    blocked = api.user(48)
    await sign_up(blocked, await make_invite(bot.db))
    api.faults.block(48)
    await blocked.command("hulp")
    api.faults.unblock(48)
    async with bot.db.begin() as session:
        statuses = list(await session.scalars(select(Membership.status)))
    assert statuses == [MembershipStatus.blocked], "a 403 marks the subscription blocked"
    other = api.user(49)
    await other.command("start")
    assert "uitnodigingslink" in other.last.text
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1


async def test_html_in_typed_text_is_shown_literally(api: LocalBotApi, bot: RunningBot) -> None:
    admin = api.user(ADMIN_ID)
    await admin.command("uitnodigen")
    await admin.press("Cliëntenraad Noord")
    await admin.press("Raadsleden")
    await admin.send("<b>x</b>&amp;")
    assert admin.last.text == (
        "“<b>x</b>&amp;” is geen label. Schrijf labels als soort:waarde met letters, "
        "cijfers of -, bijvoorbeeld locatie:noord."
    )
