"""Counting answers, in the database (GROUP BY), never by loading rows into Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Question, Respondent


@dataclass
class QuestionTally:
    """The counts of one question. `counts` maps an option id or a value to how many chose it;
    `ranks` maps an option id to how many put it at rank 1, 2, 3 (priorities)."""

    answered: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    ranks: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    texts: list[str] = field(default_factory=list)


async def respondents(session: AsyncSession, *, poll_id: int) -> int:
    return (
        await session.scalar(select(func.count(Respondent.id)).where(Respondent.poll_id == poll_id))
        or 0
    )


async def tally_poll(session: AsyncSession, *, poll_id: int) -> dict[int, QuestionTally]:
    """Per question id: how many answered (skips excluded), counts per option or value."""
    in_poll = select(Question.id).where(Question.poll_id == poll_id)
    tallies: defaultdict[int, QuestionTally] = defaultdict(QuestionTally)
    answered = await session.execute(
        select(Answer.question_id, func.count(distinct(Answer.respondent_id)))
        .where(Answer.question_id.in_(in_poll), Answer.skipped.is_(False))
        .group_by(Answer.question_id)
    )
    for question_id, count in answered:
        tallies[question_id].answered = count
    grouped = await session.execute(
        select(Answer.question_id, Answer.option_id, Answer.value, Answer.slot, func.count())
        .where(
            Answer.question_id.in_(in_poll),
            Answer.skipped.is_(False),
            Answer.text.is_(None),
        )
        .group_by(Answer.question_id, Answer.option_id, Answer.value, Answer.slot)
    )
    for question_id, option_id, value, slot, count in grouped:
        tally = tallies[question_id]
        key = option_id if option_id is not None else value
        tally.counts[key] = tally.counts.get(key, 0) + count
        if option_id is not None and slot:
            tally.ranks[option_id][slot] = count
    texts = await session.execute(
        select(Answer.question_id, Answer.text).where(
            Answer.question_id.in_(in_poll), Answer.text.is_not(None)
        )
    )
    for question_id, text in texts:
        tallies[question_id].texts.append(text)
    return dict(tallies)
