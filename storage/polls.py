"""Polls: creating them from a draft, who is asked, opening, closing, listing, follow-ups."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Integer,
    and_,
    column,
    delete,
    distinct,
    event,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import hearing, segments, tallies
from storage.models import (
    Council,
    Delivery,
    DeliveryStatus,
    FollowUp,
    KeptGroups,
    Membership,
    MembershipStatus,
    MembershipTag,
    Option,
    Person,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Respondent,
    Role,
    Round,
    RoundFill,
    RoundKind,
    RoundRecipient,
    Voice,
)

log = logging.getLogger(__name__)
REMINDER_HOURS = 24
CHUNK = 5_000
"""Outbox rows written per transaction when a round is made."""


@dataclass
class QuestionView:
    question: Question
    options: list[Option] = field(default_factory=list)
    _in: dict[str, QuestionView] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> int:
        return self.question.id

    def option_at(self, position: int) -> Option | None:
        return next((option for option in self.options if option.position == position), None)

    def in_language(self, language: str) -> QuestionView:
        """The question with its text and labels in `language` (itself when it has none)."""
        text = self.question.translations.get(language)
        if text is None:
            return self
        if language not in self._in:
            self._in[language] = QuestionView(
                _copy(self.question, text=text),
                [_copy(o, label=o.translations.get(language, o.label)) for o in self.options],
            )
        return self._in[language]


@dataclass
class PollView:
    """A poll with its council, questions, options and voice notes, loaded together."""

    poll: Poll
    council: Council
    questions: list[QuestionView]
    voices: list[Voice] = field(default_factory=list)
    _in: dict[str, PollView] = field(default_factory=dict, repr=False, compare=False)

    def question(self, question_id: int) -> QuestionView | None:
        return next((view for view in self.questions if view.id == question_id), None)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the poll was written in, the first one first."""
        return (self.poll.language, *self.poll.translations)

    def speaks(self, language: str) -> bool:
        return language in self.languages

    def in_language(self, language: str) -> PollView:
        """The poll as a reader of `language` sees it: its texts in that language when the
        poll has it, else in the poll's first language (kept per language, per process)."""
        if language == self.poll.language or language not in self.poll.translations:
            return self
        if language not in self._in:
            self._in[language] = PollView(
                poll=_copy(self.poll, title=self.poll.translations[language]),
                council=self.council,
                questions=[question.in_language(language) for question in self.questions],
                voices=self.voices,
            )
        return self._in[language]

    def voices_for(self, question_id: int | None, language: str) -> list[Voice]:
        """The voice notes of a question (None: the introduction) in `language`."""
        return [v for v in self.voices if v.question_id == question_id and v.language == language]


Row = TypeVar("Row", Poll, Question, Option)


def _copy(row: Row, **changes: str) -> Row:
    """A detached copy of a row with some texts changed (never written back)."""
    return type(row).model_validate(row.model_dump() | changes)


@dataclass(frozen=True)
class PollLine:
    """One poll in a list: how many were asked and how many answered."""

    poll: Poll
    council: Council
    asked: int
    answered: int
    followups: int

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


async def create_poll(
    session: AsyncSession,
    *,
    council_id: int,
    body: dict[str, Any],
    created_by: int | None,
    now: datetime,
) -> Poll:
    """A poll with its questions and options, from a finished draft's data."""
    opens_at = _moment(body.get("opens_at")) or now
    languages = {
        language: text
        for language, text in body.get("languages", {}).items()
        if _has_every_text(text, body["questions"])
    }
    poll = Poll(
        council_id=council_id,
        title=body["title"],
        language=body.get("language", "nl"),
        translations={lang: text["title"] for lang, text in languages.items()},
        status=PollStatus.open if opens_at <= now else PollStatus.scheduled,
        anonymous=body.get("anonymous", True),
        allow_change=body.get("allow_change", True),
        audience_tags=sorted(body.get("audience_tags", [])),
        opens_at=opens_at,
        closes_at=_moment(body["closes_at"]),
        created_by=created_by,
        template_id=body.get("template_id"),
        schedule_id=body.get("schedule_id"),
        reminder_hours=body.get("reminder_hours", REMINDER_HOURS),
        share_results=body.get("share_results", True),
        results_note=body.get("results_note") or None,
        recruit=body.get("recruit", False),
    )
    session.add(poll)
    await session.flush()
    for number, spec in enumerate(body["questions"]):
        question = Question(
            poll_id=poll.id,
            position=number + 1,
            kind=QuestionKind(spec["kind"]),
            text=spec["text"],
            translations={
                lang: text["questions"][str(number)]["text"] for lang, text in languages.items()
            },
        )
        session.add(question)
        await session.flush()
        session.add_all(
            Option(
                question_id=question.id,
                position=index + 1,
                label=label,
                translations={
                    lang: text["questions"][str(number)]["options"][index]
                    for lang, text in languages.items()
                },
            )
            for index, label in enumerate(spec.get("options", []))
        )
        await _add_voices(session, poll.id, question.id, spec.get("voices", {}))
    await _add_voices(session, poll.id, None, body.get("voices", {}))
    return poll


def _has_every_text(text: dict[str, Any], questions: list[dict[str, Any]]) -> bool:
    """A language is kept only with its title, every question and every option."""
    given = text.get("questions", {})
    return bool(text.get("title")) and all(
        given.get(str(number), {}).get("text")
        and len(given[str(number)].get("options", [])) == len(spec.get("options", []))
        for number, spec in enumerate(questions)
    )


async def _add_voices(
    session: AsyncSession, poll_id: int, question_id: int | None, voices: dict[str, Any]
) -> None:
    """The voice notes of the introduction or a question: {language: {file_id, duration}}."""
    session.add_all(
        Voice(
            poll_id=poll_id,
            question_id=question_id,
            language=language,
            file_id=note["file_id"],
            duration=note.get("duration", 0),
        )
        for language, note in voices.items()
    )


async def load_poll(session: AsyncSession, *, poll_id: int) -> PollView | None:
    """The poll with council, questions and options, in three queries."""
    found = (
        await session.execute(
            select(Poll, Council)
            .join(Council, Council.id == Poll.council_id)
            .where(Poll.id == poll_id)
        )
    ).first()
    if found is None:
        return None
    poll, council = found
    questions = list(
        await session.scalars(
            select(Question).where(Question.poll_id == poll_id).order_by(Question.position)
        )
    )
    options: defaultdict[int, list[Option]] = defaultdict(list)
    rows = await session.scalars(
        select(Option)
        .where(Option.question_id.in_([question.id for question in questions]))
        .order_by(Option.position)
    )
    for option in rows:
        options[option.question_id].append(option)
    views = [QuestionView(question, options[question.id]) for question in questions]
    voices = list(await session.scalars(select(Voice).where(Voice.poll_id == poll_id)))
    return PollView(poll=poll, council=council, questions=views, voices=voices)


async def poll_of_question(session: AsyncSession, *, question_id: int) -> int | None:
    return await session.scalar(select(Question.poll_id).where(Question.id == question_id))


def audience(council_id: int, tags: list[str]) -> Any:
    """Active families of the council; with tags: any value per kind, every kind (AND of ORs)."""
    query = select(Membership.person_id).where(
        Membership.council_id == council_id,
        Membership.role == Role.family,
        Membership.status == MembershipStatus.active,
    )
    by_kind: defaultdict[str, list[str]] = defaultdict(list)
    for tag in tags:
        by_kind[tag.split(":", 1)[0]].append(tag)
    for values in by_kind.values():
        tagged = select(MembershipTag.membership_id).where(MembershipTag.tag.in_(values))
        query = query.where(Membership.id.in_(tagged))
    return query


async def start_round(
    session: AsyncSession,
    *,
    poll: Poll,
    kind: RoundKind,
    recipients: Any,
    followup_id: int | None = None,
    period_key: str | None = None,
    schedule_id: int | None = None,
) -> Round:
    """A round and one outbox row per recipient, in the caller's transaction.

    `period_key` makes the round unique per poll (and per schedule): a second attempt to start
    the same round fails on the unique key instead of sending twice."""
    sending = Round(
        poll_id=poll.id,
        kind=kind,
        followup_id=followup_id,
        period_key=period_key,
        schedule_id=schedule_id,
    )
    return await fill_round(session, sending, recipients)


async def fill_round_with(session: AsyncSession, sending: Round, people: Iterable[int]) -> Round:
    """Store a new round to people the bot worked out itself (a reminder: who has not
    answered, which only the pseudonym key tells): their ids go into `round_recipient`,
    `CHUNK` per statement, and the round is filled from there like any other, so no statement
    holds an IN list of every id."""
    session.add(sending)
    await session.flush()
    ids = sorted(set(people))
    for start in range(0, len(ids), CHUNK):
        await session.execute(
            insert(RoundRecipient),
            [{"round_id": sending.id, "person_id": p} for p in ids[start : start + CHUNK]],
        )
    recipients = select(RoundRecipient.person_id.label("person_id")).where(
        RoundRecipient.round_id == sending.id
    )
    return await fill_round(session, sending, recipients)


async def fill_round(session: AsyncSession, sending: Round, recipients: Any) -> Round:
    """Store a new round with one pending outbox row per recipient (a query of person ids).

    The rows are written by person id, `CHUNK` per transaction: the first ones in the caller's,
    the rest right after it commits, each chunk in a transaction of its own (the outbox sends
    them as they come), and after a restart by `finish_rounds`. The unique key (round, person)
    makes a chunk written twice harmless. `total` is counted at once."""
    session.add(sending)
    await session.flush()
    people = recipients.subquery()
    sending.total = (
        await session.scalar(
            select(func.count(distinct(people.c.person_id))).join(
                Person, Person.id == people.c.person_id
            )
        )
        or 0
    )
    compiled = recipients.compile(
        dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
    )
    fill = RoundFill(round_id=sending.id, recipients=str(compiled))
    if await _fill_chunk(session, fill):
        session.add(fill)
        _go_on_after_commit(session, sending.id)
    return sending


async def _fill_chunk(session: AsyncSession, fill: RoundFill) -> bool:
    """The next `CHUNK` recipients after `fill.after` get their outbox rows; True while more
    may follow (`fill.after` moved on)."""
    people = text(fill.recipients).columns(column("person_id", Integer)).subquery("people")
    page = (
        select(people.c.person_id)
        .where(people.c.person_id > fill.after)
        .distinct()
        .order_by(people.c.person_id)
        .limit(CHUNK)
        .subquery()
    )
    found = (await session.execute(select(func.count(), func.max(page.c.person_id)))).one()
    count, last = found
    if not count:
        return False
    insert = sqlite_insert if session.bind.dialect.name == "sqlite" else postgresql_insert
    await session.execute(
        insert(Delivery)
        .from_select(
            ["round_id", "person_id", "channel", "status", "attempts"],
            select(
                literal(fill.round_id),
                people.c.person_id,
                Person.channel,
                literal(DeliveryStatus.pending.value),
                literal(0),
            )
            .join(Person, Person.id == people.c.person_id)
            .where(people.c.person_id > fill.after, people.c.person_id <= last)
            .distinct(),
        )
        .on_conflict_do_nothing(index_elements=["round_id", "person_id"])
    )
    await session.execute(  # a worked-out recipient goes as its outbox row is written
        delete(RoundRecipient).where(
            RoundRecipient.round_id == fill.round_id, RoundRecipient.person_id <= last
        )
    )
    fill.after = last
    return count == CHUNK


_filling: set[asyncio.Task[None]] = set()


def _go_on_after_commit(session: AsyncSession, round_id: int) -> None:
    """Once the caller's transaction commits, write the rest of the round in chunks."""
    engine = session.bind

    @event.listens_for(session.sync_session, "after_commit", once=True)
    def committed(_session: Any) -> None:
        task = asyncio.get_running_loop().create_task(_fill_rest(engine, round_id))
        _filling.add(task)
        task.add_done_callback(_filling.discard)


async def _fill_rest(engine: AsyncEngine, round_id: int) -> None:
    try:
        await fill_rest(engine, round_id=round_id)
    except Exception as error:  # the scheduler's tick goes on with it (`finish_rounds`)
        log.warning("round %s not filled yet (%s)", round_id, type(error).__name__)


async def fill_rest(engine: AsyncEngine, *, round_id: int) -> None:
    """Write a round's remaining outbox rows, one chunk per transaction, until it is full.
    On PostgreSQL a round another process is filling is left to it."""
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    more = True
    while more:
        async with sessions() as session, session.begin():
            fill = await session.scalar(
                select(RoundFill)
                .where(RoundFill.round_id == round_id)
                .with_for_update(skip_locked=True)
            )
            if fill is None:
                return
            more = await _fill_chunk(session, fill)
            if not more:
                await session.delete(fill)


async def finish_rounds(engine: AsyncEngine) -> int:
    """Fill every round whose rows are not all written yet (after a restart, or when the
    filling failed); returns how many there were."""
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with sessions() as session:
        unfinished = list(await session.scalars(select(RoundFill.round_id)))
    for round_id in unfinished:
        await fill_rest(engine, round_id=round_id)
    return len(unfinished)


def asked(poll_id: int) -> Any:
    """Everyone who received the poll's questions, still subscribed and reachable."""
    return (
        select(Delivery.person_id)
        .join(Round, Round.id == Delivery.round_id)
        .join(Poll, Poll.id == Round.poll_id)
        .join(
            Membership,
            and_(
                Membership.person_id == Delivery.person_id, Membership.council_id == Poll.council_id
            ),
        )
        .where(
            Round.poll_id == poll_id,
            Round.kind == RoundKind.questions,
            Delivery.status == DeliveryStatus.sent,
            Membership.status == MembershipStatus.active,
        )
    )


async def asked_count(session: AsyncSession, *, poll_id: int) -> int:
    """How many people received the poll's questions (also those who later used /forget)."""
    return (await asked_counts(session, poll_ids=[poll_id])).get(poll_id, 0)


async def asked_counts(session: AsyncSession, *, poll_ids: list[int]) -> dict[int, int]:
    """Per poll: how many received its questions, counting those who later used /forget."""
    rounds = select(Round.id).where(Round.poll_id.in_(poll_ids), Round.kind == RoundKind.questions)
    sent = dict(
        (
            await session.execute(
                select(Round.poll_id, func.count(Delivery.id))
                .join(Delivery, Delivery.round_id == Round.id)
                .where(Round.id.in_(rounds), Delivery.status == DeliveryStatus.sent)
                .group_by(Round.poll_id)
            )
        ).all()
    )
    forgotten = dict(
        (
            await session.execute(
                select(Round.poll_id, func.sum(Round.forgotten))
                .where(Round.id.in_(rounds))
                .group_by(Round.poll_id)
            )
        ).all()
    )
    counted = {
        poll_id: sent.get(poll_id, 0) + (forgotten.get(poll_id) or 0)
        for poll_id in set(sent) | set(forgotten)
    }
    purged = await session.execute(
        select(Poll.id, Poll.summary).where(Poll.id.in_(poll_ids), Poll.purged_at.is_not(None))
    )
    for poll_id, summary in purged:  # the outbox rows went after the retention period
        counted[poll_id] = summary["asked"]
    return counted


async def polls_of(
    session: AsyncSession, *, council_ids: list[int], limit: int = 10
) -> list[PollLine]:
    """The newest polls of these councils, with asked and answered counts."""
    rows = (
        await session.execute(
            select(Poll, Council)
            .join(Council, Council.id == Poll.council_id)
            .where(Poll.council_id.in_(council_ids))
            .order_by(Poll.id.desc())
            .limit(limit)
        )
    ).all()
    ids = [poll.id for poll, _ in rows]
    asked = await asked_counts(session, poll_ids=ids)
    answered = dict(
        (
            await session.execute(
                select(Respondent.poll_id, func.count(Respondent.id))
                .where(Respondent.poll_id.in_(ids))
                .group_by(Respondent.poll_id)
            )
        ).all()
    )
    for poll, _ in rows:  # answers deleted after the retention period: their counts stay
        if poll.summary is not None:
            answered[poll.id] = poll.summary["respondents"]
    followups = dict(
        (
            await session.execute(
                select(FollowUp.poll_id, func.count(FollowUp.id))
                .where(FollowUp.poll_id.in_(ids))
                .group_by(FollowUp.poll_id)
            )
        ).all()
    )
    return [
        PollLine(
            poll,
            council,
            asked.get(poll.id, 0),
            answered.get(poll.id, 0),
            followups.get(poll.id, 0),
        )
        for poll, council in rows
    ]


async def polls_with_status(
    session: AsyncSession, *, council_ids: list[int], statuses: list[PollStatus], limit: int = 20
) -> list[Poll]:
    """The newest polls of these councils in one of `statuses` (for /close and /followup)."""
    return list(
        await session.scalars(
            select(Poll)
            .where(Poll.council_id.in_(council_ids), Poll.status.in_(statuses))
            .order_by(Poll.id.desc())
            .limit(limit)
        )
    )


async def close_poll(session: AsyncSession, *, poll_id: int, now: datetime) -> bool:
    """Close an open (or scheduled) poll and keep its counts; False when it was already closed.

    Answers check, in their own transaction, that the poll is still open (with a shared lock),
    so the counts taken here are final."""
    result = await session.execute(
        update(Poll)
        .where(Poll.id == poll_id, Poll.status.in_([PollStatus.open, PollStatus.scheduled]))
        .values(status=PollStatus.closed, closed_at=now)
    )
    if not result.rowcount:
        return False
    poll = await session.get(Poll, poll_id)
    await summarize(session, poll=poll)
    return True


async def summarize(session: AsyncSession, *, poll: Poll) -> None:
    """Keep the poll's counts with it: results of a closed poll read them (fast, whatever
    its size), and they stay when the answers are deleted after the retention period."""
    counts = await tallies.tally_poll(session, poll_id=poll.id)
    poll.summary = {
        "asked": await asked_count(session, poll_id=poll.id),
        "respondents": await tallies.respondents(session, poll_id=poll.id),
        "questions": tallies.to_summary(counts),
    }
    await keep_groups(session, poll_id=poll.id)


async def keep_groups(session: AsyncSession, *, poll_id: int) -> None:
    """Keep the poll's counts per group of each tag kind (`KeptGroups`): the breakdown of
    every question, and who was asked and who answered. A kind only the asked had (no
    respondent) has no breakdown."""
    groups = await hearing.live_groups_of(session, poll_id=poll_id)
    split_kinds = set(await segments.live_tag_kinds(session, poll_id=poll_id))
    await session.execute(delete(KeptGroups).where(KeptGroups.poll_id == poll_id))
    for kind in sorted(set(groups) | split_kinds):
        split = None
        if kind in split_kinds:
            split = segments.to_kept(
                await segments.live_tally_by_segment(session, poll_id=poll_id, kind=kind)
            )
        found = groups.get(kind, hearing.Groups())
        counts = {
            "asked": sorted(found.asked.items()),
            "answered": sorted(found.answered.items()),
            "split": split,
        }
        session.add(KeptGroups(poll_id=poll_id, kind=kind, counts=counts))


async def polls_to_open(session: AsyncSession, *, now: datetime) -> list[Poll]:
    return list(
        await session.scalars(
            select(Poll).where(Poll.status == PollStatus.scheduled, Poll.opens_at <= now)
        )
    )


async def polls_to_close(session: AsyncSession, *, now: datetime) -> list[Poll]:
    return list(
        await session.scalars(
            select(Poll).where(Poll.status == PollStatus.open, Poll.closes_at <= now)
        )
    )


async def open_poll(session: AsyncSession, *, poll: Poll) -> Round | None:
    """Open a scheduled poll: status open and a round to its audience (once)."""
    result = await session.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.status == PollStatus.scheduled)
        .values(status=PollStatus.open)
    )
    if not result.rowcount:
        return None
    return await start_round(
        session,
        poll=poll,
        kind=RoundKind.questions,
        recipients=audience(poll.council_id, poll.audience_tags),
        period_key="questions",
    )


async def add_followup(
    session: AsyncSession,
    *,
    poll: Poll,
    text: str,
    created_by: int | None,
    translations: dict[str, str] | None = None,
) -> Round:
    """Store what the council did with a poll (in its languages) and queue it for everyone
    who was asked."""
    followup = FollowUp(
        poll_id=poll.id, text=text, created_by=created_by, translations=translations or {}
    )
    session.add(followup)
    await session.flush()
    return await start_round(
        session,
        poll=poll,
        kind=RoundKind.followup,
        recipients=asked(poll.id),
        followup_id=followup.id,
        period_key=f"followup-{followup.id}",
    )


async def add_summary(session: AsyncSession, *, poll: Poll) -> Round:
    """Queue what others said (the results for families) for everyone who was asked; once
    per poll (its period key)."""
    return await start_round(
        session, poll=poll, kind=RoundKind.summary, recipients=asked(poll.id), period_key="summary"
    )


async def summary_sent_at(session: AsyncSession, *, poll_id: int) -> datetime | None:
    """When the poll's results went to the families (None: they did not)."""
    return await session.scalar(
        select(Round.created_at).where(
            Round.poll_id == poll_id, Round.kind == RoundKind.summary, Round.total > 0
        )
    )


async def got_summary(session: AsyncSession, *, poll_id: int, person_id: int) -> bool:
    """Whether this person was sent the poll's results (only they may ask for its charts)."""
    found = await session.scalar(
        select(Delivery.id)
        .join(Round, Round.id == Delivery.round_id)
        .where(
            Round.poll_id == poll_id,
            Round.kind == RoundKind.summary,
            Delivery.person_id == person_id,
            Delivery.status == DeliveryStatus.sent,
        )
        .limit(1)
    )
    return found is not None


async def followups_of(session: AsyncSession, *, poll_id: int) -> list[FollowUp]:
    return list(
        await session.scalars(
            select(FollowUp).where(FollowUp.poll_id == poll_id).order_by(FollowUp.id)
        )
    )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def earlier_rounds(session: AsyncSession, *, poll: Poll, limit: int = 12) -> list[Poll]:
    """Closed polls of the same recurring schedule up to this one, oldest first."""
    if poll.schedule_id is None:
        return []
    found = await session.scalars(
        select(Poll)
        .where(
            Poll.schedule_id == poll.schedule_id,
            Poll.status == PollStatus.closed,
            Poll.id <= poll.id,
        )
        .order_by(Poll.id.desc())
        .limit(limit)
    )
    return list(reversed(list(found)))
