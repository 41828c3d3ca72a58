"""Answers: one respondent per person per poll (a keyed pseudonym), one answer per question.

The unique key (respondent, question, slot) makes a double count impossible, whatever the
code above does. Recording an answer replaces that respondent's rows for the question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, delete, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Answer,
    Delivery,
    Membership,
    MembershipTag,
    Poll,
    PollStatus,
    Question,
    Respondent,
    RespondentTag,
    Round,
    RoundKind,
    random_id,
)


@dataclass(frozen=True)
class Choice:
    """One row of an answer: an option (with its slot), a value, a text, or a skip."""

    slot: int = 0
    option_id: int | None = None
    value: int | None = None
    text: str | None = None
    skipped: bool = False
    language: str | None = field(default=None, compare=False)
    """The language an open answer was typed in (the same text again is the same answer)."""


async def find_respondent(
    session: AsyncSession, *, poll_id: int, pseudonym: str
) -> Respondent | None:
    return await session.scalar(
        select(Respondent).where(Respondent.poll_id == poll_id, Respondent.pseudonym == pseudonym)
    )


async def respondent_for(
    session: AsyncSession, *, poll: Poll, pseudonym: str, person_id: int
) -> Respondent:
    """The respondent of this person in this poll, made on the first answer with their tags.

    Anonymous polls store only the pseudonym; named polls also the person id.
    """
    found = await find_respondent(session, poll_id=poll.id, pseudonym=pseudonym)
    if found is not None:
        return found
    values = {
        "id": random_id(),
        "poll_id": poll.id,
        "pseudonym": pseudonym,
        "person_id": None if poll.anonymous else person_id,
    }
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(Respondent).values(**values).on_conflict_do_nothing())
    respondent = await find_respondent(session, poll_id=poll.id, pseudonym=pseudonym)
    tags = await session.scalars(
        select(MembershipTag.tag)
        .join(Membership, Membership.id == MembershipTag.membership_id)
        .where(Membership.person_id == person_id, Membership.council_id == poll.council_id)
    )
    session.add_all(RespondentTag(respondent_id=respondent.id, tag=tag) for tag in set(tags))
    return respondent


async def answers_of(session: AsyncSession, *, respondent_id: int) -> dict[int, list[Answer]]:
    """The respondent's answer rows, per question id."""
    rows = await session.scalars(
        select(Answer).where(Answer.respondent_id == respondent_id).order_by(Answer.slot)
    )
    found: dict[int, list[Answer]] = {}
    for row in rows:
        found.setdefault(row.question_id, []).append(row)
    return found


async def record(
    session: AsyncSession, *, respondent_id: int, question_id: int, choices: list[Choice]
) -> bool:
    """Store the answer to one question, replacing an earlier one; True if it was the first."""
    removed = await session.execute(
        delete(Answer).where(
            Answer.respondent_id == respondent_id, Answer.question_id == question_id
        )
    )
    session.add_all(
        Answer(
            respondent_id=respondent_id,
            question_id=question_id,
            slot=choice.slot,
            option_id=choice.option_id,
            value=choice.value,
            text=choice.text,
            language=choice.language,
            skipped=choice.skipped,
        )
        for choice in choices
    )
    await session.flush()
    return not removed.rowcount


@dataclass(frozen=True)
class AnswerRow:
    """One stored answer, without anything that says whose it is."""

    question_id: int
    option_id: int | None
    value: int | None
    slot: int
    text: str | None
    language: str | None = None
    """The language an open answer was typed in."""


async def answer_rows(session: AsyncSession, *, poll_id: int) -> list[AnswerRow]:
    """Every answer of the poll (skips left out), for an answer-level export."""
    rows = await session.execute(
        select(
            Answer.question_id,
            Answer.option_id,
            Answer.value,
            Answer.slot,
            Answer.text,
            Answer.language,
        )
        .join(Question, Question.id == Answer.question_id)
        .where(Question.poll_id == poll_id, Answer.skipped.is_(False))
    )
    return [AnswerRow(*row) for row in rows]


async def own_respondents(
    session: AsyncSession, *, council_ids: list[int], pseudonym_of: Callable[[int], str], limit: int
) -> list[tuple[int, int]]:
    """(poll id, respondent id) of the newest polls of these councils that this person answered;
    `pseudonym_of(poll_id)` is their keyed pseudonym in a poll."""
    poll_ids = list(
        await session.scalars(
            select(Poll.id).where(Poll.council_id.in_(council_ids)).order_by(Poll.id.desc())
        )
    )
    wanted = [pseudonym_of(poll_id) for poll_id in poll_ids]
    found: dict[int, int] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(Respondent.poll_id, Respondent.id).where(
                Respondent.pseudonym.in_(wanted[start : start + 500])
            )
        )
        found.update(dict(rows.all()))
    return [(poll_id, found[poll_id]) for poll_id in poll_ids if poll_id in found][:limit]


@dataclass
class Tapped:
    """What one answer did, from `store_answer`: one unit of work of three to six statements."""

    status: PollStatus | None
    """The poll's status when the answer was taken; None when there is no such poll."""
    asked: bool
    """The person received this poll's questions (a button of anyone else is forged)."""
    given: dict[int, list[Choice]]
    """The respondent's answers per question, after this one."""
    first: bool = False
    """This question had no answer before."""
    kept: bool = False
    """Nothing changed: the same answer again, or one that may not change."""

    @property
    def taken(self) -> bool:
        return self.status is PollStatus.open and self.asked


async def store_answer(
    session: AsyncSession,
    *,
    poll_id: int,
    council_id: int,
    anonymous: bool,
    allow_change: bool,
    person_id: int,
    pseudonym: str,
    question_id: int,
    choices: list[Choice],
) -> Tapped:
    """Check and store one answer: the poll is open (read with a shared lock on PostgreSQL, so
    closing waits for this transaction and no answer lands after the counts were taken; SQLite
    runs one writer at a time, which gives the same) and was sent to this person; then the
    respondent (made on the first answer, with the person's tags in this council) and their
    answers in one query; then the answer, replacing an earlier one when changing is allowed."""
    status, asked = await poll_state(session, poll_id=poll_id, person_id=person_id, lock=True)
    if status is not PollStatus.open or not asked:
        return Tapped(status=status, asked=asked, given={})
    rows = (
        await session.execute(
            select(Respondent.id, *ANSWER_COLUMNS)
            .outerjoin(Answer, Answer.respondent_id == Respondent.id)
            .where(Respondent.poll_id == poll_id, Respondent.pseudonym == pseudonym)
            .order_by(Answer.question_id, Answer.slot)
        )
    ).all()
    tapped = Tapped(status=PollStatus.open, asked=True, given={})
    for row in rows:
        if row.question_id is not None:
            tapped.given.setdefault(row.question_id, []).append(_choice(row))
    if rows:
        respondent_id = rows[0].id
    else:
        respondent_id, made = await _new_respondent(
            session,
            poll_id=poll_id,
            council_id=council_id,
            pseudonym=pseudonym,
            person_id=None if anonymous else person_id,
            tagged_from=person_id,
        )
        if not made:  # another process made it a moment ago, with an answer perhaps
            tapped.given = await respondent_answers(session, poll_id=poll_id, pseudonym=pseudonym)
    before = tapped.given.get(question_id)
    tapped.first = before is None
    tapped.kept = before is not None and (before == choices or not allow_change)
    if tapped.kept:
        return tapped
    if before is not None:
        await session.execute(
            delete(Answer).where(
                Answer.respondent_id == respondent_id, Answer.question_id == question_id
            )
        )
    await session.execute(
        insert(Answer),
        [
            {
                "id": random_id(),
                "respondent_id": respondent_id,
                "question_id": question_id,
                "slot": choice.slot,
                "option_id": choice.option_id,
                "value": choice.value,
                "text": choice.text,
                "language": choice.language,
                "skipped": choice.skipped,
            }
            for choice in choices
        ],
    )
    tapped.given[question_id] = sorted(choices, key=lambda choice: choice.slot)
    return tapped


async def poll_state(
    session: AsyncSession, *, poll_id: int, person_id: int, lock: bool = False
) -> tuple[PollStatus | None, bool]:
    """The poll's status (None: no such poll) and whether it was sent to this person, in one
    statement; with `lock`, a shared lock on the poll (PostgreSQL) that closing waits for."""
    asked = (
        select(Delivery.id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            Round.poll_id == poll_id,
            Round.kind == RoundKind.questions,
            Delivery.person_id == person_id,
        )
        .exists()
    )
    query = select(Poll.status, asked).where(Poll.id == poll_id)
    found = await session.execute(query.with_for_update(read=True, of=Poll) if lock else query)
    row = found.first()
    return (row[0], bool(row[1])) if row else (None, False)


async def has_answered(session: AsyncSession, *, poll_id: int, pseudonym: str) -> bool:
    """Whether the respondent with this pseudonym gave any answer in this poll (a skip too)."""
    answered = (
        select(Answer.id)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(Respondent.poll_id == poll_id, Respondent.pseudonym == pseudonym)
        .exists()
    )
    return bool(await session.scalar(select(answered)))


async def respondent_answers(
    session: AsyncSession, *, poll_id: int, pseudonym: str
) -> dict[int, list[Choice]]:
    """The answers of this poll's respondent with this pseudonym, per question."""
    rows = await session.execute(
        select(*ANSWER_COLUMNS)
        .join(Respondent, Respondent.id == Answer.respondent_id)
        .where(Respondent.poll_id == poll_id, Respondent.pseudonym == pseudonym)
        .order_by(Answer.question_id, Answer.slot)
    )
    given: dict[int, list[Choice]] = {}
    for row in rows:
        given.setdefault(row.question_id, []).append(_choice(row))
    return given


ANSWER_COLUMNS = (
    Answer.question_id,
    Answer.slot,
    Answer.option_id,
    Answer.value,
    Answer.text,
    Answer.skipped,
)


def _choice(row: Any) -> Choice:
    return Choice(
        slot=row.slot,
        option_id=row.option_id,
        value=row.value,
        text=row.text,
        skipped=bool(row.skipped),
    )


async def _new_respondent(
    session: AsyncSession,
    *,
    poll_id: int,
    council_id: int,
    pseudonym: str,
    person_id: int | None,
    tagged_from: int,
) -> tuple[int, bool]:
    """A respondent for the first answer, with the person's tags in this council (copied in
    the database); one made a moment ago by the same person's other tap is taken instead."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    made = await session.scalar(
        dialect.insert(Respondent)
        .values(id=random_id(), poll_id=poll_id, pseudonym=pseudonym, person_id=person_id)
        .on_conflict_do_nothing()
        .returning(Respondent.id)
    )
    if made is None:
        found = await session.scalar(
            select(Respondent.id).where(
                Respondent.poll_id == poll_id, Respondent.pseudonym == pseudonym
            )
        )
        return int(found), False
    tags = (
        select(literal(made, BigInteger), MembershipTag.tag)
        .join(Membership, Membership.id == MembershipTag.membership_id)
        .where(Membership.person_id == tagged_from, Membership.council_id == council_id)
        .distinct()
    )
    await session.execute(insert(RespondentTag).from_select(["respondent_id", "tag"], tags))
    return int(made), True
