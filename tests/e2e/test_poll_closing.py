"""Closing the loop: /polls, /close (and the deadline) with results, /followup to everyone asked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.botapi import LocalBotApi, SimUser
from bot.results.closing import close_due_polls, open_due_polls
from storage.models import FollowUp, Poll, PollStatus, Role, utcnow
from tests.builders import make_invite, open_poll_now, poll_button, sign_up
from tests.e2e.conftest import RunningBot

QUESTION = [{"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Slecht"]}]


async def team_and_families(
    api: LocalBotApi, bot: RunningBot, count: int
) -> tuple[SimUser, list[SimUser]]:
    member = api.user(800, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    code = await make_invite(bot.db, uses=100)
    people = [api.user(900 + index) for index in range(count)]
    for person in people:
        await sign_up(person, code)
    return member, people


async def answer_all(people: list[SimUser], labels: list[str]) -> None:
    for person, label in zip(people, labels, strict=True):
        await person.press(label)


THREE = [{"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]}]


def results_message(member: SimUser) -> str:
    return next(message.text for message in reversed(member.messages) if "📊" in message.text)


async def test_close_sends_results_to_the_council(api: LocalBotApi, bot: RunningBot) -> None:
    member, people = await team_and_families(api, bot, 9)
    await open_poll_now(bot.db, questions=THREE, title="Het gesprek")
    await bot.deliver()
    await answer_all(people[:8], ["Goed"] * 5 + ["Matig"] * 2 + ["Slecht"])

    await member.command("peilingen")
    assert "🟢 Het gesprek – open tot" in member.last.text
    assert "8 van de 9 gaven antwoord (89%)" in member.last.text
    await member.command("sluiten")
    await member.press(poll_button(member, "Het gesprek"))

    results = results_message(member)
    assert "De peiling Het gesprek is gesloten. Dit is de uitslag:" in results
    assert "8 van de 9 mensen gaven antwoord (89%)" in results
    assert "▓▓▓▓▓▓░░░░ 62% Goed (5)" in results
    assert "Matig (minder dan 5)" in results and "Slecht (minder dan 5)" in results
    assert "(1)" not in results and "(2)" not in results
    assert await people[8].press("Goed") == "Deze peiling is gesloten."
    await member.command("sluiten")
    assert member.last.text == "Er is geen open peiling om te sluiten."


async def test_one_hidden_count_hides_a_second_one(api: LocalBotApi, bot: RunningBot) -> None:
    member, people = await team_and_families(api, bot, 6)
    await open_poll_now(bot.db, questions=QUESTION, title="Twee keuzes")
    await bot.deliver()
    await answer_all(people, ["Goed"] * 5 + ["Slecht"])

    await member.command("sluiten")
    await member.press(poll_button(member, "Twee keuzes"))

    results = results_message(member)
    assert "Goed (verborgen, zodat een klein aantal geheim blijft)" in results
    assert "Slecht (minder dan 5)" in results
    assert "(5)" not in results, "5 shown would give away the single 'Slecht' (6 - 5)"


async def test_too_few_answers_show_no_distribution(api: LocalBotApi, bot: RunningBot) -> None:
    member, people = await team_and_families(api, bot, 5)
    await open_poll_now(bot.db, questions=QUESTION, title="Klein")
    await bot.deliver()
    await answer_all(people[:4], ["Goed"] * 4)

    await member.command("sluiten")
    await member.press(poll_button(member, "Klein"))

    text = "\n".join(message.text for message in member.messages[-2:])
    assert "nog minder dan 5 gaven antwoord" in text
    assert "Nog niet genoeg antwoorden om te laten zien" in text
    assert "Goed" not in text


async def test_deadline_closes_and_planned_polls_open(api: LocalBotApi, bot: RunningBot) -> None:
    member, people = await team_and_families(api, bot, 2)
    poll_id = await open_poll_now(bot.db, questions=QUESTION, title="Met deadline")
    await bot.deliver()
    later = utcnow() + timedelta(days=8)

    assert await close_due_polls(bot.app.bot, bot.db, now=later) == 1
    assert await close_due_polls(bot.app.bot, bot.db, now=later) == 0
    assert "De peiling Met deadline is gesloten" in member.last.text
    async with bot.db.begin() as session:
        poll = await session.get(Poll, poll_id)
        assert poll.status is PollStatus.closed

        poll.status, poll.opens_at, poll.closes_at = (
            PollStatus.scheduled,
            later,
            later + timedelta(days=3),
        )
        session.add(poll)
    assert await open_due_polls(bot.db, now=utcnow()) == 0
    assert await open_due_polls(bot.db, now=later) == 1
    await bot.deliver()
    assert sum("Met deadline" in message.text for message in people[0].messages) == 2


async def test_followup_reaches_everyone_asked_and_shows_in_polls(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member, people = await team_and_families(api, bot, 3)
    await open_poll_now(bot.db, questions=QUESTION, title="Wachttijd")
    await bot.deliver()
    late = api.user(950)
    await sign_up(late, await make_invite(bot.db))
    await people[2].command("stoppen")

    await member.command("terugkoppeling")
    await member.press(poll_button(member, "Wachttijd"))
    await member.send("We <b>bellen</b> voortaan binnen 2 dagen terug & leggen uit waarom.")
    assert member.last.labels == ["✅ Versturen", "Annuleren"]
    assert "Jullie zeiden, wij deden" in member.last.text
    await member.press("✅ Versturen")
    assert member.last.text == "Dank je wel! Je terugkoppeling gaat naar 2 mensen."
    await bot.deliver()

    expected = "We <b>bellen</b> voortaan binnen 2 dagen terug & leggen uit waarom."
    for person in people[:2]:
        assert expected in person.last.text and "Over de peiling “Wachttijd”" in person.last.text
    assert expected not in people[2].last.text, "who stopped gets nothing"
    assert not any(expected in message.text for message in late.messages), "only who was asked"
    await member.command("peilingen")
    assert "terugkoppeling verstuurd" in member.last.text
    await member.press(poll_button(member, "Wachttijd"))
    assert expected in member.last.text
    async with bot.db.begin() as session:
        assert (await session.scalar(select(FollowUp))).text == expected


async def test_followup_can_be_cancelled_and_polls_of_others_stay_hidden(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member, _ = await team_and_families(api, bot, 1)
    other = api.user(801)
    await sign_up(other, await make_invite(bot.db, role=Role.council, council="zuid"))
    await open_poll_now(bot.db, questions=QUESTION, title="Alleen Noord")

    await other.command("peilingen")
    assert other.last.text == "Er zijn nog geen peilingen. Begin er een met /nieuw."
    assert (await other.press_data("pl:v:1")).startswith("Deze knop werkt niet meer")
    assert (await other.press_data("pl:c:1")).startswith("Deze knop werkt niet meer")

    await member.command("terugkoppeling")
    await member.press(poll_button(member, "Alleen Noord"))
    await member.send("Tekst")
    await member.press("Annuleren")
    assert member.last.text == "Prima, er is geen terugkoppeling verstuurd."
    async with bot.db.begin() as session:
        assert await session.scalar(select(FollowUp)) is None
