"""Counting answers per segment (the value of one tag kind, such as `locatie`), in the database.

Every respondent lands in exactly one segment of a kind: the value of their tag, `NO_VALUE` when
they had none of that kind, or `SEVERAL` when they had more than one. So the segments of a
question add up to its total, which the disclosure check relies on.

A closed poll reads the counts kept when it closed (`KeptGroups`, written by
`storage.polls.keep_groups`), as its results read `Poll.summary`: fast, whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, distinct, false, func, literal, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, KeptGroups, Poll, PollStatus, Question, Respondent, RespondentTag

NO_VALUE = ""
SEVERAL = "*"


@dataclass
class SegmentTally:
    """One question split by segment: `answered[segment]`, `counts[(key, segment)]` (an option id
    or a value, as in QuestionTally) and `firsts[(option_id, segment)]` (priorities)."""

    answered: dict[str, int] = field(default_factory=dict)
    counts: dict[tuple[int, str], int] = field(default_factory=dict)
    firsts: dict[tuple[int, str], int] = field(default_factory=dict)


async def tag_kinds(session: AsyncSession, *, poll_id: int) -> list[str]:
    """The tag kinds (the part before the colon) that this poll's respondents had."""
    kept = await kept_groups(session, poll_id=poll_id)
    if kept is not None:
        return sorted(kind for kind, counts in kept.items() if counts.get("split") is not None)
    return await live_tag_kinds(session, poll_id=poll_id)


async def live_tag_kinds(session: AsyncSession, *, poll_id: int) -> list[str]:
    """`tag_kinds` from the respondents' tags themselves."""
    tags = await session.scalars(
        select(distinct(RespondentTag.tag))
        .join(Respondent, Respondent.id == RespondentTag.respondent_id)
        .where(Respondent.poll_id == poll_id)
    )
    return sorted({tag.split(":", 1)[0] for tag in tags})


async def kept_groups(session: AsyncSession, *, poll_id: int) -> dict[str, Any] | None:
    """The counts per tag kind kept when the poll closed (`KeptGroups.counts`), None when
    none were kept (open, closed before they were, or its answers deleted since)."""
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.status is not PollStatus.closed or poll.purged_at is not None:
        return None
    rows = list(
        await session.execute(
            select(KeptGroups.kind, KeptGroups.counts).where(KeptGroups.poll_id == poll_id)
        )
    )
    return {kind: counts for kind, counts in rows} if rows else None


async def tally_by_segment(
    session: AsyncSession, *, poll_id: int, kind: str
) -> dict[int, SegmentTally]:
    """Per question id: answered, counts and first places per segment of `kind` (kept at
    closing, else counted now)."""
    kept = await kept_groups(session, poll_id=poll_id)
    if kept is not None:
        return from_kept((kept.get(kind) or {}).get("split") or {})
    return await live_tally_by_segment(session, poll_id=poll_id, kind=kind)


def to_kept(split: dict[int, SegmentTally]) -> dict[str, Any]:
    """A breakdown as JSON: per question id its answered, counts and firsts as lists."""
    return {
        str(question_id): {
            "answered": tally.answered,
            "counts": [[key, where, n] for (key, where), n in tally.counts.items()],
            "firsts": [[key, where, n] for (key, where), n in tally.firsts.items()],
        }
        for question_id, tally in split.items()
    }


def from_kept(kept: dict[str, Any]) -> dict[int, SegmentTally]:
    return {
        int(question_id): SegmentTally(
            answered=dict(entry["answered"]),
            counts={(key, where): n for key, where, n in entry["counts"]},
            firsts={(key, where): n for key, where, n in entry["firsts"]},
        )
        for question_id, entry in kept.items()
    }


async def live_tally_by_segment(
    session: AsyncSession, *, poll_id: int, kind: str
) -> dict[int, SegmentTally]:
    """`tally_by_segment` counted from the answers."""
    prefix = f"{kind}:"
    tagged = (
        select(
            RespondentTag.respondent_id.label("respondent_id"),
            case(
                (func.count() > 1, literal(SEVERAL)),
                else_=func.substr(func.min(RespondentTag.tag), len(prefix) + 1),
            ).label("segment"),
        )
        .join(Respondent, Respondent.id == RespondentTag.respondent_id)
        .where(
            Respondent.poll_id == poll_id,
            func.substr(RespondentTag.tag, 1, len(prefix)) == prefix,
        )
        .group_by(RespondentTag.respondent_id)
        .subquery()
    )
    segment = func.coalesce(tagged.c.segment, literal(NO_VALUE))
    in_poll = select(Question.id).where(Question.poll_id == poll_id)
    answers = (
        select()
        .select_from(Answer)
        .outerjoin(tagged, tagged.c.respondent_id == Answer.respondent_id)
        .where(Answer.question_id.in_(in_poll), Answer.skipped == false())
    )
    tallies: defaultdict[int, SegmentTally] = defaultdict(SegmentTally)
    answered = await session.execute(
        answers.add_columns(
            Answer.question_id, segment, func.count(distinct(Answer.respondent_id))
        ).group_by(Answer.question_id, segment)
    )
    for question_id, value, count in answered:
        tallies[question_id].answered[value] = count
    grouped = await session.execute(
        answers.add_columns(
            Answer.question_id, Answer.option_id, Answer.value, Answer.slot, segment, func.count()
        ).group_by(Answer.question_id, Answer.option_id, Answer.value, Answer.slot, segment)
    )  # open texts are counted too (filtering them would read table rows): they have no key
    for question_id, option_id, value, slot, where, count in grouped:
        tally = tallies[question_id]
        key = option_id if option_id is not None else value
        if key is None:
            continue
        tally.counts[(key, where)] = tally.counts.get((key, where), 0) + count
        if option_id is not None and slot == 1:
            tally.firsts[(option_id, where)] = count
    return dict(tallies)
