"""A safe answer for a worrying one, on both channels: an open answer with an alarm word is
stored as any answer, and only that family gets the help lines at once, with one button;
staff hear of it only after that tap, and then only the date and what the family typed.
/help (the word "hulp") shows the lines, every open question points to them, and staff see
how many open answers got them, concealed below k."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.__main__ import configure_logging
from bot.botapi import LocalBotApi, SimUser
from bot.chat import formatting
from bot.wasim import LocalWhatsApp
from storage.models import Answer, Draft, Poll, Question, Respondent, Role, utcnow
from tests.builders import answered_poll, make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot
from tests.e2e.families import CHANNELS, Family, family_on, join

OPEN_THEN_YES_NO = [
    {"kind": "open_text", "text": "Hoe gaat het thuis?"},
    {"kind": "yes_no", "text": "Kom je terug?"},
]
TWO_OPEN = [
    {"kind": "open_text", "text": "Hoe gaat het thuis?"},
    {"kind": "open_text", "text": "Wat kan beter?"},
]
THREE_OPEN = [*TWO_OPEN, {"kind": "open_text", "text": "Wat wil je nog kwijt?"}]
WORRY = "Mijn vader slaat me als hij boos is. Ik ben thuis niet veilig."
CONTACT = "06-12345678, na vier uur"
COUNCIL = "Cliëntenraad Noord"


@pytest.fixture
def verbose_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Logging as `achterban run --verbose` sets it up, captured."""
    levels = {name: logging.getLogger(name).level for name in ("", "telegram", "httpx")}
    configure_logging(verbose=True)
    caplog.set_level(logging.DEBUG)
    try:
        yield caplog
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def family(channel: str, api: LocalBotApi, wa: LocalWhatsApp) -> Family:
    return family_on(channel, api, wa, 851)


async def staff_member(api: LocalBotApi, bot: RunningBot, user_id: int = 950) -> SimUser:
    staff = api.user(user_id, first_name="Personeel")
    await sign_up(staff, await make_invite(bot.db, role=Role.staff))
    return staff


async def asked(bot: RunningBot, family: Family, questions: list[dict], **joining: str) -> int:
    await join(family, await make_invite(bot.db), **joining)
    poll_id = await open_poll_now(bot.db, questions=questions, title="Thuis en zorg")
    await bot.deliver()
    return poll_id


async def stored(bot: RunningBot) -> list[tuple[int, str | None, bool]]:
    async with bot.db.read() as session:
        rows = await session.execute(
            select(Question.position, Answer.text, Answer.skipped)
            .join(Question, Question.id == Answer.question_id)
            .order_by(Question.position)
        )
        return [tuple(row) for row in rows]


async def help_replies(bot: RunningBot, poll_id: int) -> int:
    async with bot.db.read() as session:
        return (await session.get(Poll, poll_id)).help_replies


async def texts(bot: RunningBot) -> list[str | None]:
    return [text for _, text, _ in await stored(bot)]


def since(family: Family, seen: int) -> str:
    return "\n---\n".join(family.texts[seen:])


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_worrying_answer_gets_the_help_lines_and_staff_hear_only_after_the_tap(
    channel: str,
    api: LocalBotApi,
    wabot: RunningBot,
    family: Family,
    verbose_logs: pytest.LogCaptureFixture,
) -> None:
    staff = await staff_member(api, wabot)
    poll_id = await asked(wabot, family, OPEN_THEN_YES_NO)
    pointer = "Typ /hulp voor hulplijnen." if channel == "telegram" else "Typ *hulp* voor"
    assert "Hoe gaat het thuis?" in family.text and pointer in family.text
    before_staff, seen = len(staff.messages), len(family.texts)

    await family.send(WORRY)
    replies = since(family, seen)
    assert "Dank je wel, je antwoord is bewaard." in replies
    assert "0800-0432" in replies and "Veilig Thuis" in replies and "112" in replies
    assert "klinkt alsof het misschien niet veilig is" in replies
    assert "Kom je terug?" in family.text, "the poll goes on"
    assert len(staff.messages) == before_staff, "nothing goes to staff before the tap"
    assert await stored(wabot) == [(1, WORRY, False)], "stored exactly as any answer"
    async with wabot.db.read() as session:
        respondent = await session.scalar(select(Respondent))
    assert respondent.person_id is None
    assert await help_replies(wabot, poll_id) == 1

    await family.press("Ja, neem contact op")
    assert "Alleen het personeel van" in family.text and COUNCIL in family.text
    assert len(staff.messages) == before_staff
    await family.send(CONTACT)
    assert family.text.startswith("Dank je wel. Het personeel van")

    told = staff.messages[before_staff:]
    assert len(told) == 1, "one message to the one staff member"
    today = formatting.day(utcnow(), "Europe/Amsterdam")
    assert COUNCIL in told[0].text and today in told[0].text and CONTACT in told[0].text
    for secret in ("Thuis en zorg", "Hoe gaat het thuis?", "slaat", family.address.id):
        assert secret not in told[0].text
    async with wabot.db.read() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Draft).where(Draft.kind == "helpline")
            )
            == 0
        ), "the request's draft is gone once it was sent"
    assert await stored(wabot) == [(1, WORRY, False)], "the contact is no answer"

    await family.press("Ja")
    assert await stored(wabot) == [(1, WORRY, False), (2, None, False)]
    assert "12345678" not in verbose_logs.text, "the contact is never logged"
    assert await help_replies(wabot, poll_id) == 1


@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_ordinary_answer_gets_no_help_lines_and_no_thanks_sends_nothing(
    channel: str, api: LocalBotApi, wabot: RunningBot, family: Family
) -> None:
    staff = await staff_member(api, wabot)
    poll_id = await asked(wabot, family, TWO_OPEN)
    seen = len(family.texts)
    await family.send("Mijn broertje slaapt slecht, verder gaat het goed")
    assert "0800-0432" not in since(family, seen)
    assert await help_replies(wabot, poll_id) == 0

    before_staff, seen = len(staff.messages), len(family.texts)
    await family.send("Soms wil ik dood")
    assert "0800-0113" in since(family, seen)
    await family.press("Nee, dank je")
    assert family.text.startswith("Goed, we geven niets door.")
    assert len(staff.messages) == before_staff
    assert [text for _, text, _ in await stored(wabot)] == [
        "Mijn broertje slaapt slecht, verder gaat het goed",
        "Soms wil ik dood",
    ]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_text_for_a_lapsed_request_is_no_answer_and_cancel_gives_the_poll_back(
    channel: str, api: LocalBotApi, wabot: RunningBot, family: Family
) -> None:
    staff = await staff_member(api, wabot)
    await asked(wabot, family, THREE_OPEN)
    await family.send("Ik denk aan zelfmoord")
    assert "Wat kan beter?" in family.text, "the next open question waits for text"
    await family.press("Ja, neem contact op")
    async with wabot.db.begin() as session:  # half an hour later
        await session.execute(
            update(Draft)
            .where(Draft.kind == "helpline")
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    before_staff = len(staff.messages)
    await family.send(CONTACT)
    assert "je vraag om contact was verlopen" in family.text
    assert await texts(wabot) == ["Ik denk aan zelfmoord"], "a late phone number is no answer"
    assert len(staff.messages) == before_staff

    await family.press("✍️ Antwoord typen")  # back to the poll
    await family.send("Ik wil niet meer leven")
    await family.press("Ja, neem contact op")
    await family.press("Toch niet")
    assert family.text.startswith("Goed, we geven niets door.")
    await family.send("Meer uitleg")  # the third open question takes text again
    assert await texts(wabot) == ["Ik denk aan zelfmoord", "Ik wil niet meer leven", "Meer uitleg"]
    assert len(staff.messages) == before_staff


@pytest.mark.parametrize("channel", CHANNELS)
async def test_help_shows_the_lines_in_the_family_s_language(
    channel: str, wabot: RunningBot, family: Family
) -> None:
    await asked(wabot, family, OPEN_THEN_YES_NO, language="English")
    assert "Worried about yourself or a child?" in family.text
    seen = len(family.texts)
    await family.send("My stepfather hits me")
    replies = since(family, seen)
    assert "Where you can get help" in replies and "De Kindertelefoon" in replies
    assert "Would you like someone of the staff of" in replies
    await family.command("help")
    assert "Where you can get help" in family.text and "0800-2000" in family.text
    assert ("/privacy" if channel == "telegram" else "*privacy*") in family.text


async def test_help_shows_the_lines_to_anyone_on_telegram(
    api: LocalBotApi, bot: RunningBot
) -> None:
    stranger = api.user(852)
    await stranger.command("hulp")
    assert "Hier kun je terecht" in stranger.last.text and "0800-0432" in stranger.last.text


async def test_staff_see_how_many_got_the_help_lines_concealed_below_k(
    api: LocalBotApi, bot: RunningBot
) -> None:
    staff = await staff_member(api, bot)
    member = api.user(953)
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    one = [{"kind": "open_text", "text": "Wat wil je kwijt?"}]
    poll_id = await answered_poll(bot.db, questions=one, answers=[((), ["Goed"])] * 6)
    for count, shown in ((2, "minder dan 5"), (0, "minder dan 5"), (5, "5")):
        async with bot.db.begin() as session:
            await session.execute(update(Poll).values(help_replies=count))
        await staff.command("uitslag", str(poll_id))
        lines = staff.last.text.splitlines()
        assert (
            lines[1] == f"Hulplijnen gestuurd na een open antwoord: {shown} (alleen voor personeel)"
        )
    await member.command("uitslag", str(poll_id))
    assert "Hulplijnen" not in member.last.text, "council members do not see it"
