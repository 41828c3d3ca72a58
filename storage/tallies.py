"""Counting answers, in the database (GROUP BY), never by loading rows into Python.

Every query here is answered from an index of `answer` alone (see `Answer.__table_args__`), so
a poll of a million answers is one pass over one index plus a short one for multiple choice
(`python -m bench.tallies` times it). Hence two detours: choices are counted with the open
texts included and the few texts taken off again (`text` is in no index), and "how many
answered" is only counted separately for questions with several rows per person.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, Question, Respondent

Group = tuple[int, int | None, int | None, int]
"""Question id, option id, value, slot: the rows counted together."""
_GROUP = (Answer.question_id, Answer.option_id, Answer.value, Answer.slot)


@dataclass
class QuestionTally:
    """The counts of one question. `counts` maps an option id or a value to how many chose it;
    `ranks` maps an option id to how many put it at rank 1, 2, 3 (priorities)."""

    answered: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    ranks: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    texts: list[OpenText] = field(default_factory=list)


class OpenText(str):
    """An open answer as typed, with the language it was given in (None: not known)."""

    language: str | None

    def __new__(cls, text: str, language: str | None = None) -> OpenText:
        made = super().__new__(cls, text)
        made.language = language
        return made


async def respondents(session: AsyncSession, *, poll_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(Respondent).where(Respondent.poll_id == poll_id)
        )
        or 0
    )


async def tally_poll(session: AsyncSession, *, poll_id: int) -> dict[int, QuestionTally]:
    """Per question id: how many answered (skips excluded), counts per option or value."""
    question_ids = list(
        await session.scalars(select(Question.id).where(Question.poll_id == poll_id))
    )
    if not question_ids:
        return {}
    tallies: defaultdict[int, QuestionTally] = defaultdict(QuestionTally)
    groups = await _groups(session, question_ids)
    several = {question_id for question_id, _, _, slot in groups if slot}
    for (question_id, *_), count in groups.items():
        if question_id not in several:  # one row per person (the unique key), so rows = people
            tallies[question_id].answered += count
    for question_id in sorted(several):
        tallies[question_id].answered = await _answered(session, question_id)
    texts: Counter[Group] = Counter()
    for question_id, option_id, value, slot, skipped, text, language in await session.execute(
        select(*_GROUP, Answer.skipped, Answer.text, Answer.language).where(
            Answer.question_id.in_(question_ids), Answer.text.is_not(None)
        )
    ):
        tallies[question_id].texts.append(OpenText(text, language))
        if not skipped:
            texts[question_id, option_id, value, slot] += 1
    for (question_id, option_id, value, slot), rows in groups.items():
        count = rows - texts[question_id, option_id, value, slot]
        if not count:
            continue  # open texts only
        tally = tallies[question_id]
        key = option_id if option_id is not None else value
        tally.counts[key] = tally.counts.get(key, 0) + count
        if option_id is not None and slot:
            tally.ranks[option_id][slot] = count
    return dict(tallies)


async def _groups(session: AsyncSession, question_ids: list[int]) -> dict[Group, int]:
    """How many rows, skips left out and open texts counted in, per question, option id, value
    and slot."""
    rows = await session.execute(
        select(*_GROUP, func.count())
        .where(Answer.question_id.in_(question_ids), Answer.skipped == false())
        .group_by(*_GROUP)
    )
    return {
        (question_id, option_id, value, slot): n for question_id, option_id, value, slot, n in rows
    }


async def _answered(session: AsyncSession, question_id: int) -> int:
    """How many people have a row (not a skip) for the question."""
    people = (
        select(Answer.respondent_id)
        .where(Answer.question_id == question_id, Answer.skipped == false())
        .distinct()
        .subquery()
    )
    return await session.scalar(select(func.count()).select_from(people)) or 0


async def open_texts(session: AsyncSession, *, poll_id: int) -> dict[int, list[OpenText]]:
    """The open answers per question id."""
    found: defaultdict[int, list[OpenText]] = defaultdict(list)
    question_ids = list(
        await session.scalars(select(Question.id).where(Question.poll_id == poll_id))
    )
    rows = await session.execute(  # the partial index on open texts answers this alone
        select(Answer.question_id, Answer.text, Answer.language).where(
            Answer.question_id.in_(question_ids), Answer.text.is_not(None)
        )
    )
    for question_id, text, language in rows:
        found[question_id].append(OpenText(text, language))
    return dict(found)


def to_summary(counts: dict[int, QuestionTally]) -> dict[str, Any]:
    """The counts (not the open texts) as JSON, to keep with a closed poll."""
    return {
        str(question_id): {
            "answered": tally.answered,
            "counts": {str(key): n for key, n in tally.counts.items()},
            "ranks": {
                str(option_id): {str(rank): n for rank, n in by_rank.items()}
                for option_id, by_rank in tally.ranks.items()
            },
        }
        for question_id, tally in counts.items()
    }


def from_summary(
    kept: dict[str, Any], texts: dict[int, list[OpenText]]
) -> dict[int, QuestionTally]:
    """The counts kept by `to_summary`, with the open texts that still exist."""
    found = {}
    for question_id, entry in kept.items():
        ranks: defaultdict[int, dict[int, int]] = defaultdict(dict)
        for option_id, by_rank in entry["ranks"].items():
            ranks[int(option_id)] = {int(rank): n for rank, n in by_rank.items()}
        found[int(question_id)] = QuestionTally(
            answered=entry["answered"],
            counts={int(key): n for key, n in entry["counts"].items()},
            ranks=ranks,
            texts=texts.get(int(question_id), []),
        )
    return found
