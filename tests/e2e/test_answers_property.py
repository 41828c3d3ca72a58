"""Property, through the real bot over HTTP: random taps, changes, skips, double taps and
forgets never count a person twice and never lose a recorded answer."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from storage.models import Answer, Option, Question, Respondent
from tests.builders import make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot

PEOPLE = 3
ids = itertools.count(10_000, 10)
step = st.tuples(
    st.integers(0, PEOPLE - 1),
    st.sampled_from(["answer", "answer", "skip", "double", "forget"]),
    st.integers(1, 3),
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
async def test_random_taps_never_double_count(
    api: LocalBotApi, bot: RunningBot, steps: list[tuple[int, str, int]]
) -> None:
    first = next(ids)
    people = [api.user(first + n) for n in range(PEOPLE)]
    code = await make_invite(bot.db, uses=PEOPLE)
    for person in people:
        await sign_up(person, code)
    poll_id = await open_poll_now(
        bot.db, questions=[{"kind": "single", "text": "Q", "options": ["a", "b", "c"]}]
    )
    await bot.deliver()
    async with bot.db.begin() as session:
        qid = await session.scalar(select(Question.id).where(Question.poll_id == poll_id))
    expected: dict[int, int | None] = {}
    gone: set[int] = set()
    for who, action, value in steps:
        person = people[who]
        if action == "forget":
            await person.command("vergeet")
            await person.press("Ja, wis alles") if who not in gone else None
            gone.add(who)
            continue
        data = f"qs:{qid}" if action == "skip" else f"qa:{qid}:{value}"
        for _ in range(2 if action == "double" else 1):
            await person.press_data(
                data, message_id=person.messages[0].message_id if person.messages else None
            )
        if who not in gone:
            expected[who] = None if action == "skip" else value

    async with bot.db.begin() as session:
        rows = (
            await session.execute(
                select(Answer.respondent_id, Option.position, Answer.skipped)
                .outerjoin(Option, Option.id == Answer.option_id)
                .where(Answer.question_id == qid)
            )
        ).all()
        respondents = await session.scalar(
            select(func.count()).select_from(Respondent).where(Respondent.poll_id == poll_id)
        )
    assert max(Counter(r for r, _, _ in rows).values(), default=1) == 1, "one answer per person"
    assert len(rows) == len(expected) == respondents, "nothing lost, nobody twice"
    assert Counter(p for _, p, skipped in rows if not skipped) == Counter(
        v for v in expected.values() if v is not None
    )
