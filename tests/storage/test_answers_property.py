"""Property: random taps, changes, skips, double taps and forgets never count a person twice
and never lose a recorded answer."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage import answers
from storage.answers import Choice
from storage.db import Database
from storage.forget import forget_person
from storage.models import (
    AgeBand,
    Answer,
    Council,
    Option,
    Person,
    Poll,
    Question,
    QuestionKind,
    Respondent,
    metadata,
)
from storage.pseudonyms import pseudonym

KEY = "property-test-key-0123456789abcdefghij"
PEOPLE = 4
OPTIONS = 3

action = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, PEOPLE - 1), st.integers(1, OPTIONS)),
    st.tuples(st.just("skip"), st.integers(0, PEOPLE - 1), st.just(0)),
    st.tuples(st.just("forget"), st.integers(0, PEOPLE - 1), st.just(0)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(action, st.booleans()), max_size=25))
def test_no_double_count_and_nothing_lost(steps: list[tuple[tuple[str, int, int], bool]]) -> None:
    asyncio.run(_play(steps))


async def _play(steps: list[tuple[tuple[str, int, int], bool]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'p.sqlite3'}")
        async with db.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        poll_id, question_id, option_ids, person_ids = await _setup(db)
        expected: dict[int, int | None] = {}  # person index -> option position, None = skipped
        gone: set[int] = set()
        for (kind, who, value), double in steps:
            for _ in range(2 if double else 1):
                await _act(db, kind, who, value, poll_id, question_id, option_ids, person_ids, gone)
            if who in gone:
                continue
            if kind == "forget":
                gone.add(who)
            else:
                expected[who] = value if kind == "answer" else None
        await _check(db, question_id, option_ids, expected)
        await db.dispose()


async def _setup(db: Database) -> tuple[int, int, dict[int, int], list[int]]:
    async with db.begin() as session:
        council = Council(slug="c", name="C")
        session.add(council)
        await session.flush()
        poll = Poll(council_id=council.id, title="P")
        session.add(poll)
        await session.flush()
        question = Question(poll_id=poll.id, position=1, kind=QuestionKind.single, text="Q")
        session.add(question)
        await session.flush()
        options = [
            Option(question_id=question.id, position=p, label=f"o{p}")
            for p in range(1, OPTIONS + 1)
        ]
        people = [Person(address=str(100 + n), age_band=AgeBand.adult) for n in range(PEOPLE)]
        session.add_all([*options, *people])
        await session.flush()
        return poll.id, question.id, {o.position: o.id for o in options}, [p.id for p in people]


async def _act(db, kind, who, value, poll_id, question_id, option_ids, person_ids, gone) -> None:
    async with db.begin() as session:
        person = await session.get(Person, person_ids[who])
        if person is None:  # forgotten: a tap does nothing
            return
        if kind == "forget":
            await forget_person(session, person=person, pseudonym_key=KEY)
            return
        poll = await session.get(Poll, poll_id)
        key = pseudonym(KEY, poll_id=poll_id, address=person.contact)
        respondent = await answers.respondent_for(
            session, poll=poll, pseudonym=key, person_id=person.id
        )
        choice = Choice(option_id=option_ids[value]) if kind == "answer" else Choice(skipped=True)
        await answers.record(
            session, respondent_id=respondent.id, question_id=question_id, choices=[choice]
        )


async def _check(
    db: Database, question_id: int, option_ids: dict[int, int], expected: dict[int, int | None]
) -> None:
    async with db.begin() as session:
        rows = (
            await session.execute(select(Answer.respondent_id, Answer.option_id, Answer.skipped))
        ).all()
        respondents = await session.scalar(select(func.count()).select_from(Respondent))
    per_respondent = Counter(respondent for respondent, _, _ in rows)
    assert all(count == 1 for count in per_respondent.values()), "one answer per person"
    assert len(rows) == len(expected) == respondents, "every recorded answer is still there"
    counted = Counter(option for _, option, skipped in rows if not skipped)
    wanted = Counter(option_ids[value] for value in expected.values() if value is not None)
    assert counted == wanted
