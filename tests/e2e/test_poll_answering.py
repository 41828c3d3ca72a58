"""Families answer every kind of question in a tap or two; no tap ever counts twice."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.botapi import LocalBotApi, SimUser
from storage.models import Answer, Poll, PollStatus, Question, Respondent, RespondentTag
from tests.builders import make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot

ALL_KINDS = [
    {"kind": "single", "text": "Hoe was het gesprek?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "multiple", "text": "Wat hielp?", "options": ["Uitleg", "Tijd", "Koffie"]},
    {"kind": "faces", "text": "Hoe voel je je?"},
    {"kind": "grade", "text": "Welk cijfer geef je?"},
    {"kind": "yes_no", "text": "Kom je terug?"},
]
MORE_KINDS = [
    {"kind": "open_text", "text": "Wat kan beter?"},
    {
        "kind": "priorities",
        "text": "Wat is belangrijk?",
        "options": ["Wachttijd", "Uitleg", "Bereik", "Kosten"],
    },
]


async def family(
    api: LocalBotApi, bot: RunningBot, user_id: int = 700, *, language: str = "Nederlands"
) -> SimUser:
    person = api.user(user_id)
    await sign_up(person, await make_invite(bot.db, tags=("locatie:noord",)), language=language)
    return person


async def stored(
    bot: RunningBot,
) -> list[tuple[int, int | None, int | None, str | None, bool, int]]:
    async with bot.db.begin() as session:
        rows = await session.execute(
            select(
                Question.position,
                Answer.option_id,
                Answer.value,
                Answer.text,
                Answer.skipped,
                Answer.slot,
            )
            .join(Question, Question.id == Answer.question_id)
            .order_by(Question.position, Answer.slot)
        )
        return [tuple(row) for row in rows]


async def test_five_kinds_one_tap_each(api: LocalBotApi, bot: RunningBot) -> None:
    sanne = await family(api, bot)
    await open_poll_now(bot.db, questions=ALL_KINDS)
    await bot.deliver()
    assert "Vraag 1 van 5" in sanne.last.text

    await sanne.press("Goed")
    answered = sanne.messages[-2]
    assert "✓ Jouw antwoord: Goed" in answered.text and answered.labels == ["Antwoord veranderen"]
    assert "Vraag 2 van 5" in sanne.last.text
    await sanne.press("☐ Uitleg")
    assert sanne.last.labels[:3] == ["☑ Uitleg", "☐ Tijd", "☐ Koffie"]
    await sanne.press("☐ Koffie")
    await sanne.press("Klaar ✓")
    assert "✓ Jouw antwoord: Uitleg, Koffie" in sanne.messages[-2].text
    await sanne.press("🙂")
    await sanne.press("8")
    await sanne.press("Weet ik niet")
    assert sanne.last.text.startswith("Dank je wel! Dat was de laatste vraag.")

    rows = await stored(bot)
    assert [(position, value, slot) for position, _, value, _, _, slot in rows] == [
        (1, None, 0),
        (2, None, 1),
        (2, None, 3),
        (3, 4, 0),
        (4, 8, 0),
        (5, 3, 0),
    ]
    async with bot.db.begin() as session:
        respondent = await session.scalar(select(Respondent))
        tags = list(await session.scalars(select(RespondentTag.tag)))
    assert respondent.person_id is None, "anonymous: no person id"
    assert str(sanne.chat.id) not in respondent.pseudonym
    assert tags == ["locatie:noord"]


async def test_open_text_priorities_and_skip(api: LocalBotApi, bot: RunningBot) -> None:
    tom = await family(api, bot, language="English")
    await open_poll_now(bot.db, questions=MORE_KINDS)
    await bot.deliver()
    assert "Please don't write names" in tom.last.text

    await tom.send("<b>Minder</b> wachten & meer uitleg")
    assert "Thank you, your answer is saved." in tom.messages[-2].text
    assert "«<b>Minder</b> wachten & meer uitleg»" in tom.messages[-2].text
    await tom.press("Uitleg")
    assert "Chosen: 1. Uitleg" in tom.last.text
    await tom.press("Wachttijd")
    await tom.press("Start over")
    assert "Chosen: -" in tom.last.text
    await tom.press("Kosten")
    await tom.press("Wachttijd")
    await tom.press("Uitleg")
    assert "✓ Your answer: 1. Kosten, 2. Wachttijd, 3. Uitleg" in tom.messages[-2].text
    assert tom.last.text.startswith("Thank you! That was the last question.")
    rows = await stored(bot)
    assert rows[0][3] == "<b>Minder</b> wachten & meer uitleg"
    assert [slot for *_, slot in rows[1:]] == [1, 2, 3]

    await tom.send("just chatting")
    assert "I can only read buttons and commands" in tom.last.text


async def test_skip_then_change_when_allowed(api: LocalBotApi, bot: RunningBot) -> None:
    noor = await family(api, bot)
    await open_poll_now(bot.db, questions=ALL_KINDS[:2])
    await bot.deliver()
    first = noor.last.message_id
    await noor.press("Overslaan")
    assert "Je hebt deze vraag overgeslagen." in noor.messages[-2].text
    assert "Vraag 2 van 2" in noor.last.text
    questions_sent = len(noor.messages)

    await noor.press_data(f"qc:{await _question_id(bot, 1)}", message_id=first)
    await noor.press("Matig")

    assert len(noor.messages) == questions_sent, "a change does not send the next question again"
    assert [row[4] for row in await stored(bot)] == [False]


async def test_second_tap_replay_and_no_change_allowed(api: LocalBotApi, bot: RunningBot) -> None:
    user = await family(api, bot)
    await open_poll_now(bot.db, questions=ALL_KINDS[:1], allow_change=False)
    await bot.deliver()
    question = user.last.message_id
    qid = await _question_id(bot, 1)

    await user.press("Goed")
    assert user.messages[-2].labels == [], "no Change button when changing is not allowed"
    assert (
        await user.press_data(f"qa:{qid}:1", message_id=question) == "Je antwoord was al bewaard."
    )
    assert (
        await user.press_data(f"qa:{qid}:3", message_id=question) == "Je antwoord was al bewaard."
    )
    assert await user.press_data(f"qc:{qid}", message_id=question) == "Je antwoord was al bewaard."
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 1
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
    assert user.messages[-1].text.startswith("Dank je wel!"), "the thanks came once"
    assert sum(m.text.startswith("Dank je wel!") for m in user.messages) == 1


async def test_forged_closed_and_forgotten_buttons(api: LocalBotApi, bot: RunningBot) -> None:
    asked = await family(api, bot, 701)
    outsider = api.user(702)
    await sign_up(outsider, await make_invite(bot.db, council="zuid"))
    await open_poll_now(bot.db, questions=ALL_KINDS[:1])
    await bot.deliver()
    qid = await _question_id(bot, 1)
    stale = "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."

    assert await outsider.press_data(f"qa:{qid}:1") == stale, "not asked: forged"
    for forged in (
        f"qa:{qid}:9",
        f"qa:{qid}:x",
        "qa:99999:1",
        f"qd:{qid}:4096",
        f"qp:{qid}:11",
        "qa::",
    ):
        assert await asked.press_data(forged) == stale, forged

    async with bot.db.begin() as session:
        poll = await session.scalar(select(Poll))
        poll.status = PollStatus.closed
        session.add(poll)
    assert await asked.press("Goed") == "Deze peiling is gesloten."
    async with bot.db.begin() as session:
        poll = await session.scalar(select(Poll))
        poll.status = PollStatus.open
        session.add(poll)

    await asked.command("vergeet")
    await asked.press("Ja, wis alles")
    assert await asked.press_data(f"qa:{qid}:1", message_id=asked.messages[0].message_id) == stale
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 0


async def test_named_poll_keeps_the_person_and_answers_reach_only_the_audience(
    api: LocalBotApi, bot: RunningBot
) -> None:
    noord = await family(api, bot, 703)
    elsewhere = api.user(704)
    await sign_up(elsewhere, await make_invite(bot.db, tags=("locatie:west",)))
    await open_poll_now(bot.db, questions=ALL_KINDS[:1], anonymous=False, tags=("locatie:noord",))
    await bot.deliver()
    assert "Niet anoniem: de raad ziet jouw antwoorden" in noord.last.text
    assert not any("vraagt jou" in message.text for message in elsewhere.messages)
    await noord.press("Goed")
    async with bot.db.begin() as session:
        respondent = await session.scalar(select(Respondent))
    assert respondent.person_id is not None


async def _question_id(bot: RunningBot, position: int) -> int:
    async with bot.db.begin() as session:
        return await session.scalar(select(Question.id).where(Question.position == position))


async def test_buttons_of_another_kind_are_refused(api: LocalBotApi, bot: RunningBot) -> None:
    user = await family(api, bot)
    await open_poll_now(bot.db, questions=[ALL_KINDS[0], MORE_KINDS[1]])
    await bot.deliver()
    single, priorities = await _question_id(bot, 1), await _question_id(bot, 2)
    stale = "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."

    assert await user.press_data(f"qp:{single}:123") == stale
    assert await user.press_data(f"qo:{single}") == stale
    assert await user.press_data(f"qm:{single}:2") == stale
    await user.press("Goed")
    assert await user.press_data(f"qp:{priorities}:1234") == stale
    assert await user.press_data(f"qa:{priorities}:1") == stale
    assert [row[0] for row in await stored(bot)] == [1]


async def test_open_answers_go_to_the_question_they_belong_to(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = await family(api, bot)
    first = await open_poll_now(bot.db, questions=[MORE_KINDS[0]], title="Eerste")
    await bot.deliver()
    first_message = user.last.message_id
    await open_poll_now(bot.db, questions=[MORE_KINDS[0], ALL_KINDS[0]], title="Tweede")
    await bot.deliver()
    assert user.last.labels == ["✍️ Antwoord typen", "Overslaan"]

    await user.press_data(f"qo:{await _question_of(bot, first)}", message_id=first_message)
    assert user.last.text == "Typ je nieuwe antwoord hieronder in één bericht."
    await user.send("Voor de eerste peiling")

    async with bot.db.begin() as session:
        rows = (await session.execute(select(Question.poll_id, Answer.text).join(Question))).all()
    assert rows == [(first, "Voor de eerste peiling")]


async def test_faces_mean_is_hidden_when_a_count_is_concealed(
    api: LocalBotApi, bot: RunningBot
) -> None:
    from bot.results.report import results_text

    people = [await family(api, bot, 710 + n) for n in range(6)]
    poll_id = await open_poll_now(bot.db, questions=[ALL_KINDS[2]], title="Gevoel")
    await bot.deliver()
    for person in people[:5]:
        await person.press("😐")
    await people[5].press("😞")

    text = await results_text(bot.db, poll_id=poll_id, language="nl")

    assert "😞 (minder dan 5)" in text
    assert "Gemiddeld" not in text, "6 × mean − 5 × 3 would give the single 😞 away"


async def _question_of(bot: RunningBot, poll_id: int) -> int:
    async with bot.db.begin() as session:
        return await session.scalar(
            select(Question.id).where(Question.poll_id == poll_id, Question.position == 1)
        )


async def test_respondent_and_answer_ids_do_not_tell_who_came_first(
    api: LocalBotApi, bot: RunningBot
) -> None:
    from storage.models import Address
    from storage.pseudonyms import pseudonym
    from tests.builders import PSEUDONYM_KEY

    people = [await family(api, bot, 720 + n) for n in range(8)]
    poll_id = await open_poll_now(bot.db, questions=ALL_KINDS[:1])
    await bot.deliver()
    for person in people:
        await person.press("Goed")

    async with bot.db.begin() as session:
        by_key = dict((await session.execute(select(Respondent.pseudonym, Respondent.id))).all())
        answer_ids = list(await session.scalars(select(Answer.id)))
    in_answer_order = [
        by_key[pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address.telegram(person.chat.id))]
        for person in people
    ]
    assert in_answer_order != sorted(in_answer_order), (
        "ids follow no order (8 at random: 1 in 40,320)"
    )
    assert min(answer_ids) > 2**32, "answer ids are random, not a counter"


async def test_a_tap_is_one_read_and_one_write_of_a_few_statements(
    api: LocalBotApi, bot: RunningBot
) -> None:
    """The busiest path: the profile read by the gate, then one unit of work that checks and
    stores (the poll's questions come from the per-process cache, read once)."""
    from sqlalchemy import event

    statements: list[str] = []
    inbox: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        kind = statement.split(None, 1)[0].upper()
        if kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):  # not BEGIN (SQLite's IMMEDIATE)
            if re.search(r"\binbox\b", statement):
                inbox.append(kind)
            elif not re.match(r"SELECT (1|pg_\w*advisory)", statement):  # the process's locks
                statements.append(kind)

    sanne, joost = await family(api, bot), await family(api, bot, 701)
    await open_poll_now(bot.db, questions=ALL_KINDS[:2])
    await bot.deliver()
    await joost.press("Goed")  # the poll is in this process's cache from now on
    engines = {bot.db.engine.sync_engine, bot.db.reader.sync_engine}  # SQLite: two
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        await sanne.press("Matig")  # a first answer: the respondent and its tags are made
        first, statements[:] = list(statements), []
        await sanne.press("Antwoord veranderen")
        redrawn, statements[:] = list(statements), []
        await sanne.press("Goed")  # a changed answer
        changed = list(statements)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    assert "Vraag 2 van 2" in sanne.last.text
    assert first.count("SELECT") == 3 and first.count("INSERT") == 3, first
    assert len(first) <= 6 and "UPDATE" not in first and "DELETE" not in first, first
    assert redrawn == ["SELECT", "SELECT"], redrawn  # the profile, then the poll's state
    assert changed == ["SELECT", "SELECT", "SELECT", "DELETE", "INSERT"], changed
    writes = [kind for kind in inbox if kind != "SELECT"]  # PostgreSQL: other processes' rows?
    assert len(writes) <= 3 * 5, (
        f"per tap: stored, taken, done with the answer, let go (and a look for more); {inbox}"
    )


async def test_typing_after_an_early_close_is_told_once_then_text_is_text_again(
    api: LocalBotApi, bot: RunningBot
) -> None:
    lotte = await family(api, bot, 704)
    await open_poll_now(bot.db, questions=[MORE_KINDS[0]])
    await bot.deliver()
    assert "Typ je antwoord" in lotte.last.text  # the open question waits for typed text
    async with bot.db.begin() as session:
        poll = await session.scalar(select(Poll))
        poll.status = PollStatus.closed
        session.add(poll)

    await lotte.send("Meer tijd")
    assert lotte.last.text == "Deze peiling is gesloten."
    await lotte.send("Hallo?")
    assert lotte.last.text.startswith("Ik kan alleen knoppen en opdrachten lezen.")
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Answer)) == 0
