"""A family's own account: help, privacy, language, pause/resume, stop, forget, blocking."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from storage.models import (
    Address,
    Answer,
    AuditEntry,
    Delivery,
    Membership,
    MembershipTag,
    Person,
    Poll,
    Question,
    QuestionKind,
    Respondent,
    Round,
    RoundKind,
)
from storage.pseudonyms import pseudonym
from tests.builders import LANGUAGE_NAMES, PSEUDONYM_KEY, make_invite, sign_up
from tests.e2e.conftest import RunningBot


async def statuses(bot: RunningBot) -> list[str]:
    async with bot.db.begin() as session:
        return [status.value for status in await session.scalars(select(Membership.status))]


async def joined(api: LocalBotApi, bot: RunningBot, user_id: int = 20, **kwargs: object):
    user = api.user(user_id, **kwargs)
    await sign_up(user, await make_invite(bot.db, tags=("locatie:noord",)))
    return user


async def test_help_lists_only_family_commands_for_families(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = await joined(api, bot)
    await user.command("hulp")
    assert "/taal" in user.last.text and "/vergeet" in user.last.text
    assert "/uitnodigen" not in user.last.text


async def test_privacy_shows_what_is_stored(api: LocalBotApi, bot: RunningBot) -> None:
    user = await joined(api, bot)
    await user.command("privacy")
    text = user.last.text
    assert "Taal: Nederlands" in text and "16 of ouder" in text
    assert "Je doet mee met: Cliëntenraad Noord: gezinslid, actief, labels: locatie:noord" in text

    stranger = api.user(21, language_code="en")
    await stranger.command("privacy")
    assert stranger.last.text == "We store nothing about you. You are not signed up."


async def test_language_switch_changes_texts_and_menu(api: LocalBotApi, bot: RunningBot) -> None:
    user = await joined(api, bot)
    await user.command("taal")
    assert user.last.labels == LANGUAGE_NAMES
    await user.press("English")
    assert user.last.text == "Done. I will speak English with you from now on."

    await user.command("help")
    assert "/language" in user.last.text
    async with bot.db.begin() as session:
        assert await session.scalar(select(Person.language)) == "en"


async def test_pause_resume_and_stop(api: LocalBotApi, bot: RunningBot) -> None:
    user = await joined(api, bot)
    await user.command("pauze")
    assert "Gepauzeerd" in user.last.text
    assert await statuses(bot) == ["paused"]
    await user.command("pause")
    assert "al op pauze" in user.last.text
    await user.command("hervat")
    assert await statuses(bot) == ["active"]
    await user.command("stop")
    assert "geen berichten meer" in user.last.text
    assert await statuses(bot) == ["stopped"]
    await user.command("resume")
    assert await statuses(bot) == ["active"]


async def test_commands_for_members_explain_to_strangers(api: LocalBotApi, bot: RunningBot) -> None:
    stranger = api.user(22)
    for command in ("pauze", "hervat", "stoppen", "vergeet", "taal"):
        await stranger.command(command)
        assert "Je doet nog niet mee" in stranger.last.text


async def test_forget_asks_first_and_then_erases_every_trace(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = await joined(api, bot)
    other = await joined(api, bot, user_id=23)
    poll_id = await _answered_poll(bot, telegram_ids=[user.chat.id, other.chat.id])

    await user.command("vergeet")
    assert user.last.labels == ["Ja, wis alles", "Nee, bewaar het"]
    await user.press("Nee, bewaar het")
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 2

    await user.command("vergeet")
    await user.press("Ja, wis alles")
    assert "We hebben alles over jou gewist" in user.last.text

    async with bot.db.begin() as session:
        people = list(await session.scalars(select(Person.address)))
        memberships = await session.scalar(select(func.count()).select_from(Membership))
        tags = await session.scalar(select(func.count()).select_from(MembershipTag))
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
        pseudonyms = set(await session.scalars(select(Respondent.pseudonym)))
        answers = list(await session.execute(select(Answer.value, Answer.text)))
        audit = list(await session.scalars(select(AuditEntry.action)))
    assert people == [str(other.chat.id)]
    assert (memberships, tags, deliveries) == (1, 1, 1)
    mine = pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address.telegram(user.chat.id))
    assert mine not in pseudonyms, "even with the key the answers cannot be found again"
    assert len(pseudonyms) == 2
    assert sorted(value for value, _ in answers) == [4, 5], "choice answers stay as counts"
    assert [text for _, text in answers] == [None, None], (
        "the open answer of the forgotten person is gone"
    )
    assert audit == ["forget"]

    await user.press_data("fg:yes")
    assert user.toasts[-1] == "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."


async def test_blocking_and_unblocking_keeps_a_pause(api: LocalBotApi, bot: RunningBot) -> None:
    user = await joined(api, bot)
    await user.command("pauze")
    await api.deliver_raw(_my_chat_member(user.chat.id, "kicked"))
    await api.deliver_raw(_my_chat_member(user.chat.id, "member"))
    assert await statuses(bot) == ["paused"]


async def test_a_double_tap_on_forget_no_is_not_an_error(api: LocalBotApi, bot: RunningBot) -> None:
    user = await joined(api, bot)
    await user.command("vergeet")
    message = user.last.message_id
    await user.press("Nee, bewaar het")
    await user.press_data("fg:no", message_id=message)
    assert user.last.text == "Prima, we laten alles zoals het was."


async def test_blocking_the_bot_marks_the_subscription_blocked(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = await joined(api, bot)
    await api.deliver_raw(_my_chat_member(user.chat.id, "kicked"))
    assert await statuses(bot) == ["blocked"]
    await api.deliver_raw(_my_chat_member(user.chat.id, "member"))
    assert await statuses(bot) == ["active"]


async def _answered_poll(bot: RunningBot, *, telegram_ids: list[int]) -> int:
    """A poll both people answered (one with an open text too), as later features store it."""
    async with bot.db.begin() as session:
        person_ids = [
            (await session.scalar(select(Person.id).where(Person.address == str(tid))))
            for tid in telegram_ids
        ]
        poll = Poll(council_id=1, title="Hoe gaat het?")
        session.add(poll)
        await session.flush()
        scale = Question(poll_id=poll.id, position=1, kind=QuestionKind.faces, text="Cijfer?")
        open_text = Question(poll_id=poll.id, position=2, kind=QuestionKind.open_text, text="Tip?")
        sending = Round(poll_id=poll.id, kind=RoundKind.questions)
        session.add_all([scale, open_text, sending])
        await session.flush()
        for value, (telegram_id, person_id) in zip(
            (5, 4), zip(telegram_ids, person_ids, strict=True), strict=True
        ):
            key = pseudonym(PSEUDONYM_KEY, poll_id=poll.id, address=Address.telegram(telegram_id))
            respondent = Respondent(poll_id=poll.id, pseudonym=key)
            session.add(respondent)
            session.add(Delivery(round_id=sending.id, person_id=person_id))
            await session.flush()
            session.add(Answer(respondent_id=respondent.id, question_id=scale.id, value=value))
            if value == 5:
                session.add(
                    Answer(
                        respondent_id=respondent.id,
                        question_id=open_text.id,
                        text="Mijn naam is Sanne",
                    )
                )
        return poll.id


def _my_chat_member(user_id: int, status: str) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Test"}
    me = {"id": 123456, "is_bot": True, "first_name": "Achterban", "username": "achterban_test_bot"}
    old = "member" if status == "kicked" else "kicked"
    return {
        "my_chat_member": {
            "chat": {"id": user_id, "type": "private", "first_name": "Test"},
            "from": user,
            "date": 1,
            "old_chat_member": {
                "user": me,
                "status": old,
                **({"until_date": 0} if old == "kicked" else {}),
            },
            "new_chat_member": {
                "user": me,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            },
        }
    }


async def test_privacy_shows_only_my_own_answers(api: LocalBotApi, bot: RunningBot) -> None:
    from tests.builders import open_poll_now

    me, other = await joined(api, bot, 20), await joined(api, bot, 21)
    questions = [
        {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Slecht"]},
        {"kind": "open_text", "text": "Wat wil je kwijt?"},
    ]
    await open_poll_now(bot.db, questions=questions, title="Het gesprek")
    await bot.deliver()
    await me.press("Goed")
    await me.send("Meer <b>uitleg</b> graag")
    await other.press("Slecht")

    await me.command("gegevens")

    mine = me.last.text
    assert "Wat we over je bewaren" in mine and "Jouw antwoorden (alleen jij ziet ze)" in mine
    assert "Het gesprek" in mine
    assert "• Hoe was het? ✓ Jouw antwoord: Goed" in mine
    assert "• Wat wil je kwijt? ✓ Jouw antwoord: «Meer <b>uitleg</b> graag»" in mine
    assert "Slecht" not in mine
    await other.command("gegevens")
    assert "• Hoe was het? ✓ Jouw antwoord: Slecht" in other.last.text
    assert "Goed" not in other.last.text and "uitleg" not in other.last.text
