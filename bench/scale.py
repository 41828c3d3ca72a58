"""National size: 300,000 families in 100 councils with tags, 10⁶ answers in closed polls.

    python -m bench.scale [--database-url URL] [--families 30000,300000] [--quick]
                          [--seconds 40] [--json PATH]

Per database (SQLite always; PostgreSQL too with a URL: a database of its own is created
beside the one named and dropped afterwards) and per size, a fresh database gets in bulk
(executemany on SQLite, COPY on PostgreSQL): 100 councils of very different sizes (the
largest holds about an eighth of the families), each family signed up with a language, an
age band and a few tags (`wijk:`, `leeftijd:`, `zorg:`; some have none of a kind, some two),
and per council one poll of five questions sent to its active families, about two thirds of
whom answered (respondents with their pseudonym and tags, as answering stores them): about
3.3 answers per family, 10⁶ at 300,000. Every poll is then closed as the bot closes it
(`polls.close_poll`, which keeps its counts). Measured:

1. making a round for every family: a poll per council sent to all its active families
   (`polls.start_round`, as /newpoll and the scheduler make one), in a fresh process of its
   own (the bot's Python): the time until every outbox row is written, the largest council's
   round alone, tracemalloc's peak and the growth of the resident set (sampled every 20 ms);
2. the bot (`python -m bot run`, against the local Bot API server in this process, a chat
   per family) with all of this loaded: its resident set idle, then while it opens a planned
   poll in every council (its scheduler makes the rounds) and sends them (`--seconds`);
3. `/participation` of the largest council, `/results` of its closed poll and its breakdown
   by `wijk` (what the handlers run, texts included; median of five after a warm-up); the
   kept counts are checked against counting the answers again;
4. how each figure grows from the smallest to the largest size;
5. answers/s and CPU per answer with one and with two handling processes on PostgreSQL
   (`bench.handling`: `achterban run`, then `run` + `worker`, 400 families tapping at once),
   once, at the largest size, on a database of its own: the inbox's queries go by index and
   do not grow with the number of families.

Prints a table (what, measured, target, ✔/✘) and writes JSON. Never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import (
    COUNCIL,
    PSEUDONYM_KEY,
    RESULTS,
    ROOT,
    machine,
    median,
    print_table,
    rss_mib,
    scratch_database,
    start_bot,
    stop_process,
    write_config,
    write_json,
)
from bench.memory import sample, until_polling
from bot.botapi import LocalBotApi
from bot.botapi.state import Chat
from bot.results.breakdown import breakdown_text
from bot.results.report import load_report
from bot.texts import texts_for
from handlers.participation import council_text
from storage import hearing, polls, segments
from storage.db import Database
from storage.models import (
    Address,
    AgeBand,
    Answer,
    Council,
    Delivery,
    DeliveryStatus,
    Membership,
    MembershipStatus,
    Person,
    Poll,
    PollStatus,
    QuestionKind,
    Respondent,
    Role,
    Round,
    RoundFill,
    RoundKind,
    random_id,
    utcnow,
)
from storage.participation import participation
from storage.pseudonyms import pseudonym

DEFAULT_FAMILIES = (30_000, 300_000)
DEFAULT_JSON = RESULTS / "scale.json"
COUNCILS = 100
FIRST_ID = 20_000_000
SEED = 2026
REPEAT = 5
CHUNK = 10_000
TARGET_MS = 100.0
TARGET_MIB = 200.0
OPENING = 45.0
"""Seconds the bot may take to open the planned polls (its scheduler ticks every 30 s)."""
EVERY = 0.5
KIND = "wijk"
LANGUAGES = (("nl", 70), ("en", 8), ("ar", 8), ("tr", 7), ("pl", 4), ("uk", 3))
STATUSES = (
    (MembershipStatus.active, 90),
    (MembershipStatus.paused, 4),
    (MembershipStatus.stopped, 4),
    (MembershipStatus.blocked, 2),
)
WIJKEN = ("noord", "oost", "zuid", "west", "centrum", "nieuw-west", "zuidoost", "haven")
LEEFTIJDEN = ("0-4", "4-12", "12-18", "18-23")
ZORG = ("jeugdhulp", "pleegzorg", "wonen", "ggz")
RESPONSE_RATE = 0.675
STOP_RATE = 0.04
SKIP_RATE = 0.03
POLL = {
    "title": "Hoe gaat het met de zorg?",
    "questions": [
        {
            "kind": "single",
            "text": "Hoe vaak spreek je je hulpverlener?",
            "options": ["Elke week", "Elke maand", "Minder vaak", "Nooit"],
        },
        {"kind": "faces", "text": "Hoe voel je je over de hulp?"},
        {
            "kind": "multiple",
            "text": "Waar wil je meer over horen?",
            "options": ["Wachttijden", "School", "Geld", "Wonen", "Vrije tijd"],
        },
        {"kind": "grade", "text": "Welk cijfer geef je de hulp?"},
        {"kind": "yes_no", "text": "Weet je bij wie je terecht kunt?"},
    ],
}
VALUES = {  # kind -> (values, relative weights), as bench/tallies.py
    QuestionKind.faces: (range(1, 6), (1, 2, 4, 6, 3)),
    QuestionKind.grade: (range(1, 11), (1, 1, 2, 3, 5, 8, 9, 6, 3, 1)),
    QuestionKind.yes_no: (range(1, 4), (6, 3, 1)),
}

Row = tuple[Any, ...]
DELIVERY_COLUMNS = ("round_id", "person_id", "channel", "status", "attempts", "message_id")
DELIVERY_COLUMNS += ("sent_at", "receipt", "template")
ANSWER_COLUMNS = ("id", "respondent_id", "question_id", "slot", "option_id", "value")
ANSWER_COLUMNS += ("text", "language", "skipped")


@dataclass
class World:
    """What was loaded for one size: the councils (id, families), the largest council and
    its closed poll, and how many rows of each kind."""

    councils: list[tuple[int, int]] = field(default_factory=list)
    largest: int = 0
    largest_poll: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    load_s: float = 0.0
    close_s: float = 0.0
    largest_close_ms: float = 0.0


@dataclass
class Figures:
    """One database at one size."""

    database: str
    families: int
    answers: int
    largest_council: int
    largest_poll_answers: int
    load_s: float
    close_all_s: float
    close_largest_ms: float
    rounds_s: float
    rounds_rows: int
    largest_round_s: float
    rounds_tracemalloc_mib: float
    rounds_rss_growth_mib: float
    bot_idle_mib: float
    bot_peak_mib: float
    bot_high_water_mib: float | None
    bot_sent: int
    participation_ms: float
    results_ms: float
    breakdown_ms: float
    breakdown_live_ms: float
    handling: dict[str, Any] | None
    samples: dict[str, list[float]] = field(default_factory=dict)


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


def council_sizes(families: int) -> list[int]:
    """Sizes like a country's: a few large councils, many small ones (Zipf, s = 0.8)."""
    weights = [1 / (rank**0.8) for rank in range(1, COUNCILS + 1)]
    sizes = [int(families * weight / sum(weights)) for weight in weights]
    sizes[-1] += families - sum(sizes)
    return sizes


def family_tags(rng: random.Random) -> list[str]:
    tags = [f"wijk:{rng.choice(WIJKEN)}"] if rng.random() < 0.95 else []
    if rng.random() < 0.85:
        tags.append(f"leeftijd:{rng.choice(LEEFTIJDEN)}")
    if rng.random() < 0.6:
        tags += [f"zorg:{zorg}" for zorg in rng.sample(ZORG, 1 if rng.random() < 0.85 else 2)]
    return tags


def choices(
    rng: random.Random, kind: QuestionKind, options: list[int]
) -> list[tuple[int, int | None, int | None, bool]]:
    """One answer as (slot, option id, value, skipped) rows, as answering stores them."""
    if rng.random() < SKIP_RATE:
        return [(0, None, None, True)]
    if kind is QuestionKind.single:
        return [(0, rng.choices(options, (4, 3, 2, 1))[0], None, False)]
    if kind is QuestionKind.multiple:
        picked = sorted(rng.sample(range(1, len(options) + 1), rng.randint(1, 3)))
        return [(position, options[position - 1], None, False) for position in picked]
    values, weights = VALUES[kind]
    return [(0, None, rng.choices(values, weights)[0], False)]


class Loader:
    """Bulk inserts of plain tuples: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db
        dialect = db.engine.dialect
        stamp = Person.__table__.c.consented_at.type
        self.convert = (
            stamp.bind_processor(dialect) if db.is_sqlite else None
        )  # asyncpg's COPY takes the datetime itself

    def moment(self, value: datetime) -> Any:
        return self.convert(value) if self.convert else value

    def flag(self, value: bool) -> Any:
        return int(value) if self.db.is_sqlite else value

    async def insert(self, table: str, columns: Sequence[str], records: list[Row]) -> None:
        async with self.db.engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            if self.db.is_sqlite:
                await raw.execute("PRAGMA synchronous=OFF")  # for the loading only
            async with connection.begin():
                if self.db.is_sqlite:
                    marks = ", ".join("?" * len(columns))
                    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})'
                    for chunk in chunks(records, CHUNK):
                        await connection.exec_driver_sql(sql, chunk)
                else:
                    await raw.copy_records_to_table(table, records=records, columns=list(columns))
            if self.db.is_sqlite:
                await raw.execute("PRAGMA synchronous=NORMAL")


def chunks(records: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


async def load_world(db: Database, families: int) -> World:
    """Councils, families with tags, a closed poll per council with its answers."""
    rng = random.Random(SEED)
    world = World()
    loader = Loader(db)
    no_text, skipped_row = (None, None, loader.flag(False)), (None, None, loader.flag(True))
    started = time.perf_counter()
    now = utcnow()
    opened = now - timedelta(days=8)
    async with db.begin() as session:
        made = [
            Council(
                slug=f"raad{number:03d}",
                name=f"Cliëntenraad {number:03d}",
                quiet_start="00:00",
                quiet_end="00:00",
            )
            for number in range(1, COUNCILS + 1)
        ]
        session.add_all(made)
        await session.flush()
        council_ids = [council.id for council in made]
    people: list[Row] = []
    members: list[Row] = []
    member_tags: list[Row] = []
    by_council: dict[int, list[tuple[int, str, list[str]]]] = defaultdict(list)
    joined = loader.moment(opened - timedelta(days=30))
    person_id = 0
    for council_id, size in zip(council_ids, council_sizes(families), strict=True):
        world.councils.append((council_id, size))
        for _ in range(size):
            person_id += 1
            address = str(FIRST_ID + person_id)
            under16 = rng.random() < 0.1
            age = (AgeBand.under16 if under16 else AgeBand.adult).value
            language = weighted(rng, LANGUAGES)
            people.append(
                (person_id, "telegram", address, language, age, loader.flag(under16), joined)
            )
            status = weighted(rng, STATUSES)
            members.append((person_id, person_id, council_id, Role.family.value, status, joined))
            tags = family_tags(rng)
            member_tags.extend((person_id, tag) for tag in tags)
            if status is MembershipStatus.active:
                by_council[council_id].append((person_id, address, tags))
    await loader.insert(
        "person",
        ("id", "channel", "address", "language", "age_band", "guardian_consent", "consented_at"),
        people,
    )
    await loader.insert(
        "membership", ("id", "person_id", "council_id", "role", "status", "joined_at"), members
    )
    await loader.insert("membershiptag", ("membership_id", "tag"), member_tags)
    world.largest = max(world.councils, key=lambda council: council[1])[0]
    del people, members, member_tags
    rows = {"families": families, "asked": 0, "respondents": 0, "answers": 0}
    deliveries: list[Row] = []
    respondents: list[Row] = []
    respondent_tags: list[Row] = []
    answers: list[Row] = []
    sent_at = loader.moment(opened + timedelta(minutes=5))
    for council_id in council_ids:
        async with db.begin() as session:
            body = POLL | {
                "opens_at": opened.isoformat(),
                "closes_at": (now - timedelta(days=1)).isoformat(),
            }
            poll = await polls.create_poll(
                session, council_id=council_id, body=body, created_by=None, now=now
            )
            view = await polls.load_poll(session, poll_id=poll.id)
            asked = by_council[council_id]
            sending = Round(
                poll_id=poll.id, kind=RoundKind.questions, period_key="questions", total=len(asked)
            )
            session.add(sending)
            await session.flush()
            questions = [(q.question.kind, q.id, [o.id for o in q.options]) for q in view.questions]
            poll_id, round_id = poll.id, sending.id
        if council_id == world.largest:
            world.largest_poll = poll_id
        for number, (person, address, tags) in enumerate(asked):
            deliveries.append(
                (
                    round_id,
                    person,
                    "telegram",
                    "sent",
                    1,
                    number + 1,
                    sent_at,
                    0,
                    loader.flag(False),
                )
            )
            if rng.random() >= RESPONSE_RATE:
                continue
            respondent = random_id()
            key = pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address.telegram(int(address)))
            respondents.append((respondent, poll_id, key, None))
            respondent_tags.extend((respondent, tag) for tag in tags)
            for index, (kind, question_id, options) in enumerate(questions):
                if index and rng.random() < STOP_RATE:
                    break
                for slot, option_id, value, skipped in choices(rng, kind, options):
                    answers.append(
                        (random_id(), respondent, question_id, slot, option_id, value, *no_text)
                        if not skipped
                        else (random_id(), respondent, question_id, 0, None, None, *skipped_row)
                    )
        rows["asked"] += len(asked)
    rows["respondents"], rows["answers"] = len(respondents), len(answers)
    await loader.insert(
        "delivery",
        DELIVERY_COLUMNS,
        deliveries,
    )
    await loader.insert("respondent", ("id", "poll_id", "pseudonym", "person_id"), respondents)
    await loader.insert("respondenttag", ("respondent_id", "tag"), respondent_tags)
    await loader.insert(
        "answer",
        ANSWER_COLUMNS,
        answers,
    )
    world.rows = rows
    del deliveries, respondents, respondent_tags, answers
    await analyze(db)
    world.load_s = round(time.perf_counter() - started, 1)
    return world


async def close_all(db: Database, world: World) -> None:
    """Close every poll as the bot does (`polls.close_poll` keeps its counts)."""
    now = utcnow()
    started = time.perf_counter()
    for council_id, poll_id in await polls_by_council(db):
        begun = time.perf_counter()
        async with db.begin() as session:
            await polls.close_poll(session, poll_id=poll_id, now=now)
        if council_id == world.largest:
            world.largest_close_ms = round((time.perf_counter() - begun) * 1000, 1)
    world.close_s = round(time.perf_counter() - started, 1)


async def polls_by_council(db: Database) -> list[tuple[int, int]]:
    async with db.read() as session:
        found = await session.execute(
            select(Poll.council_id, Poll.id).where(Poll.status == PollStatus.open)
        )
        return [(council_id, poll_id) for council_id, poll_id in found]


async def analyze(db: Database) -> None:
    """What autovacuum (PostgreSQL) or the planner's statistics (SQLite) have soon after."""
    if db.is_sqlite:
        async with db.engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE")
        return
    engine = create_async_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()


async def timed(action: Callable[[], Awaitable[Any]]) -> list[float]:
    """Milliseconds of REPEAT runs after one warm-up run."""
    await action()
    found = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        await action()
        found.append(round((time.perf_counter() - started) * 1000, 2))
    return found


async def staff_views(db: Database, world: World) -> dict[str, list[float]]:
    """/participation, /results and the breakdown by `KIND`, as their handlers run them."""
    t = texts_for("nl")
    async with db.read() as session:
        council = await session.get(Council, world.largest)

    async def participation_view() -> None:
        async with db.read() as session:
            counts = await participation(session, council_id=world.largest)
        council_text(t, council, counts)

    async def results_view() -> None:
        report = await load_report(db, poll_id=world.largest_poll, language="nl")
        report.text(t)
        async with db.read() as session:  # the buttons under it: one per tag kind
            await segments.tag_kinds(session, poll_id=world.largest_poll)

    async def breakdown_view(live: bool = False) -> None:
        report = await load_report(db, poll_id=world.largest_poll, language="nl")
        async with db.read() as session:
            await segments.tag_kinds(session, poll_id=world.largest_poll)
            count = segments.live_tally_by_segment if live else segments.tally_by_segment
            split = await count(session, poll_id=world.largest_poll, kind=KIND)
        breakdown_text(
            t,
            report.view,
            report.tallies,
            split,
            kind=KIND,
            asked=report.asked,
            answered=report.answered,
            k=report.k,
        )

    return {
        "participation": await timed(participation_view),
        "results": await timed(results_view),
        "breakdown": await timed(breakdown_view),
        "breakdown_live": await timed(lambda: breakdown_view(live=True)),
    }


async def check_kept(db: Database, world: World) -> None:
    """The counts kept at closing are those the answers give now."""
    async with db.read() as session:
        poll_id = world.largest_poll
        kinds = await segments.tag_kinds(session, poll_id=poll_id)
        if kinds != await segments.live_tag_kinds(session, poll_id=poll_id) or KIND not in kinds:
            raise SystemExit("bench: the kept tag kinds differ from the answers'")
        for kind in kinds:
            kept = await segments.tally_by_segment(session, poll_id=poll_id, kind=kind)
            live = await segments.live_tally_by_segment(session, poll_id=poll_id, kind=kind)
            if kept != live:
                raise SystemExit(f"bench: the kept breakdown by {kind} differs")
        if await hearing.groups_of(session, poll_id=poll_id) != await hearing.live_groups_of(
            session, poll_id=poll_id
        ):
            raise SystemExit("bench: the kept groups differ")


async def make_rounds(url: str) -> dict[str, Any]:
    """In a process of its own: a poll per council to all its active families, the largest
    council first; returns times and memory (`--make-rounds`)."""
    db = Database(url)
    async with db.read() as session:
        councils = list(
            await session.execute(
                select(Membership.council_id, func.count())
                .where(Membership.role == Role.family)
                .group_by(Membership.council_id)
                .order_by(func.count().desc())
            )
        )
        active = await session.scalar(
            select(func.count()).where(Membership.status == MembershipStatus.active)
        )
    pid = os.getpid()
    base = rss_mib(pid) or 0.0
    highest = base
    sampling = True

    async def watch() -> None:
        nonlocal highest
        while sampling:
            highest = max(highest, rss_mib(pid) or 0.0)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    tracemalloc.start()
    started = time.perf_counter()
    largest_s = 0.0
    now = utcnow()
    body = POLL | {"title": "Nieuwe peiling", "closes_at": (now + timedelta(days=7)).isoformat()}
    for index, (council_id, _) in enumerate(councils):
        async with db.begin() as session:
            poll = await polls.create_poll(
                session, council_id=council_id, body=body, created_by=None, now=now
            )
            await polls.start_round(
                session,
                poll=poll,
                kind=RoundKind.questions,
                recipients=polls.audience(council_id, []),
                period_key="questions",
            )
        if index == 0:
            await until_filled(db)
            largest_s = time.perf_counter() - started
    await until_filled(db)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sampling = False
    await watcher
    async with db.read() as session:
        written = await session.scalar(
            select(func.count()).where(Delivery.status == DeliveryStatus.pending)
        )
        distinct = await session.scalar(
            select(func.count()).select_from(
                select(Delivery.round_id, Delivery.person_id)
                .where(Delivery.status == DeliveryStatus.pending)
                .distinct()
                .subquery()
            )
        )
    await db.dispose()
    if written != active or distinct != written:
        raise SystemExit(f"bench: {written} outbox rows for {active} active families")
    return {
        "seconds": round(seconds, 2),
        "largest_s": round(largest_s, 2),
        "rows": written,
        "tracemalloc_mib": round(peak / 2**20, 1),
        "rss_growth_mib": round(highest - base, 1),
    }


async def until_filled(db: Database) -> None:
    """Until every round's outbox rows are written (their fill rows gone)."""
    while True:
        async with db.read() as session:
            if not await session.scalar(select(func.count()).select_from(RoundFill)):
                return
        await asyncio.sleep(0.01)


def rounds_in_a_process(db: Database) -> dict[str, Any]:
    url = db.engine.url.render_as_string(hide_password=False)
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--make-rounds", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"bench: making the rounds failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


async def bot_memory(db: Database, families: int, *, seconds: float) -> dict[str, Any]:
    """The bot with everything loaded: idle, then opening a planned poll in every council
    (its scheduler makes the rounds) and sending them."""
    async with db.begin() as session:  # the rounds of step 1 are not sent
        await session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.pending)
            .values(status=DeliveryStatus.skipped)
        )
    async with LocalBotApi() as api:
        for number in range(1, families + 1):
            api.state.chats[FIRST_ID + number] = Chat(FIRST_ID + number, "private", "Test")
        with tempfile.TemporaryDirectory() as folder, (Path(folder) / "bot.log").open("wb") as log:
            config = write_config(
                Path(folder),
                token=api.token,
                base_url=api.base_url,
                db=db,
                messages_per_second=1000,
            )
            process = start_bot(config, log=log)
            try:
                await until_polling(api, process, within=120.0)
                await asyncio.sleep(1.0)
                quiet = await sample(process.pid, api, seconds=5.0, since=time.monotonic())
                opened = time.monotonic()
                mark = len(api.sends)
                await plan_polls(db)
                busy = []  # the scheduler's tick (every 30 s) opens them, then they go out
                while len(api.sends) == mark and time.monotonic() - opened < OPENING:
                    busy += await sample(process.pid, api, seconds=EVERY, since=opened)
                busy += await sample(process.pid, api, seconds=seconds, since=opened)
                sent = len(api.sends) - mark
                high_water = rss_mib(process.pid, "VmHWM")
            except BaseException:
                log.flush()
                tail = (Path(folder) / "bot.log").read_text(errors="replace")[-3000:]
                print(f"--- the bot's log (end) ---\n{tail}", file=sys.stderr)
                raise
            finally:
                await stop_process(process)
    return {
        "idle_mib": median([s.rss_mib for s in quiet]),
        "peak_mib": max(s.rss_mib for s in busy),
        "high_water_mib": round(high_water, 1) if high_water is not None else None,
        "sent": sent,
    }


async def plan_polls(db: Database) -> None:
    """A poll per council, planned to open in two seconds: the bot's scheduler opens them."""
    now = utcnow()
    body = POLL | {
        "title": "Peiling van de maand",
        "opens_at": (now + timedelta(seconds=2)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
    }
    async with db.begin() as session:
        ids = await session.scalars(select(Council.id).where(Council.slug != COUNCIL.slug))
        for council_id in list(ids):
            await polls.create_poll(
                session, council_id=council_id, body=body, created_by=None, now=now
            )


async def handling_processes(server: str | None, families: int, *, largest: bool) -> Any:
    """Answers/s and bot CPU per answer with one and with two handling processes on the same
    PostgreSQL (`bench.handling`); None with SQLite (one process) or below the largest size."""
    if server is None or not largest:
        return None
    from bench.handling import handling_processes as measure

    print("  one and two handling processes ...", file=sys.stderr, flush=True)
    found = await measure(server, families=400, reps=2)
    return {key: found[key] for key in ("one", "two", "cpu_ratio", "rate_ratio")}


async def bench_size(
    server: str | None, families: int, *, seconds: float, largest: bool = False
) -> Figures:
    name = f"bench_scale_{os.getpid()}_{families}"
    label = f"SQLite {sqlite3.sqlite_version}" if server is None else "PostgreSQL"
    async with scratch_database(server, name) as db:
        print(f"{label}, {families} families: loading ...", file=sys.stderr, flush=True)
        world = await load_world(db, families)
        await close_all(db, world)
        print(
            f"  loaded in {world.load_s} s, closed in {world.close_s} s: {world.rows}",
            file=sys.stderr,
            flush=True,
        )
        await check_kept(db, world)
        views = await staff_views(db, world)
        async with db.read() as session:
            largest_answers = await session.scalar(
                select(func.count())
                .select_from(Answer)
                .join(Respondent, Respondent.id == Answer.respondent_id)
                .where(Respondent.poll_id == world.largest_poll)
            )
        print("  making the rounds ...", file=sys.stderr, flush=True)
        rounds = await asyncio.to_thread(rounds_in_a_process, db)
        print(f"  {rounds}; the bot ...", file=sys.stderr, flush=True)
        memory = await bot_memory(db, families, seconds=seconds)
        handling = await handling_processes(server, families, largest=largest)
    return Figures(
        database=label,
        families=families,
        answers=world.rows["answers"],
        largest_council=max(size for _, size in world.councils),
        largest_poll_answers=largest_answers or 0,
        load_s=world.load_s,
        close_all_s=world.close_s,
        close_largest_ms=world.largest_close_ms,
        rounds_s=rounds["seconds"],
        rounds_rows=rounds["rows"],
        largest_round_s=rounds["largest_s"],
        rounds_tracemalloc_mib=rounds["tracemalloc_mib"],
        rounds_rss_growth_mib=rounds["rss_growth_mib"],
        bot_idle_mib=memory["idle_mib"],
        bot_peak_mib=memory["peak_mib"],
        bot_high_water_mib=memory["high_water_mib"],
        bot_sent=memory["sent"],
        participation_ms=median(views["participation"]),
        results_ms=median(views["results"]),
        breakdown_ms=median(views["breakdown"]),
        breakdown_live_ms=median(views["breakdown_live"]),
        handling=handling,
        samples=views,
    )


def mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✔" if ok else "✘")


def table(runs: Sequence[Figures]) -> list[list[str]]:
    """One line per figure, database and size: what, database, families, measured, target."""
    lines = []
    for run in runs:
        where = (run.database.split()[0], f"{run.families:,}")
        lines += [
            [
                "round for every family (all councils)",
                *where,
                f"{run.rounds_s:.1f} s, {run.rounds_rows:,} rows"
                f" (largest council {run.largest_round_s:.1f} s)",
                "in chunks",
                "✔",
            ],
            [
                "  its memory",
                *where,
                f"tracemalloc peak {run.rounds_tracemalloc_mib:.1f} MiB,"
                f" RSS +{run.rounds_rss_growth_mib:.1f} MiB",
                "—",
                "—",
            ],
            [
                "bot RSS, everything loaded, broadcast",
                *where,
                f"idle {run.bot_idle_mib:.0f}, peak {run.bot_peak_mib:.0f} MiB"
                f" ({run.bot_sent:,} sent)",
                f"≤ {TARGET_MIB:.0f} MiB",
                mark(run.bot_peak_mib <= TARGET_MIB),
            ],
            [
                "/participation (largest council)",
                *where,
                f"{run.participation_ms:.1f} ms",
                f"< {TARGET_MS:.0f} ms",
                mark(run.participation_ms < TARGET_MS),
            ],
            [
                "/results, closed poll",
                *where,
                f"{run.results_ms:.1f} ms ({run.largest_poll_answers:,} answers)",
                f"< {TARGET_MS:.0f} ms",
                mark(run.results_ms < TARGET_MS),
            ],
            [
                "breakdown by group, closed poll",
                *where,
                f"{run.breakdown_ms:.1f} ms (counted live: {run.breakdown_live_ms:.0f} ms)",
                f"< {TARGET_MS:.0f} ms",
                mark(run.breakdown_ms < TARGET_MS),
            ],
            [
                "closing (counts kept)",
                *where,
                f"largest {run.close_largest_ms:.0f} ms; all {run.close_all_s:.1f} s",
                "—",
                "—",
            ],
            [
                "answers/s, CPU per answer, 1 and 2 processes",
                *where,
                _handling(run.handling),
                "CPU: 2 ≤ 1.1× 1",
                "—" if run.handling is None else mark(run.handling["cpu_ratio"] <= 1.1),
            ],
        ]
    return lines


def _handling(found: dict[str, Any] | None) -> str:
    if found is None:
        return "— (PostgreSQL, largest size)"
    one, two = found["one"], found["two"]
    return (
        f"{one['answers_per_s']} vs {two['answers_per_s']}/s, {one['cpu_ms_per_answer']} vs "
        f"{two['cpu_ms_per_answer']} ms ({found['cpu_ratio']}×)"
    )


GROWTH = (
    "rounds_s",
    "rounds_tracemalloc_mib",
    "rounds_rss_growth_mib",
    "bot_peak_mib",
    "participation_ms",
    "results_ms",
    "breakdown_ms",
    "close_largest_ms",
)


def growth(runs: Sequence[Figures]) -> dict[str, dict[str, float | None]]:
    """Per database: each figure at the largest size over the smallest."""
    found: dict[str, dict[str, float | None]] = {}
    for database in dict.fromkeys(run.database for run in runs):
        mine = sorted((r for r in runs if r.database == database), key=lambda r: r.families)
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        found[database] = {
            key: round(getattr(large, key) / getattr(small, key), 2)
            if getattr(small, key)
            else None
            for key in GROWTH
        }
    return found


async def main(server: str | None, sizes: Sequence[int], *, seconds: float) -> dict[str, Any]:
    runs = []
    for database in [None, server] if server else [None]:
        for size in sizes:
            runs.append(
                await bench_size(database, size, seconds=seconds, largest=size == max(sizes))
            )
    print()
    print_table(("what", "database", "families", "measured", "target", ""), table(runs))
    grown = growth(runs)
    for database, ratios in grown.items():
        print(f"\n{database}, {max(sizes):,} over {min(sizes):,} families:")
        print("  " + ", ".join(f"{key} ×{ratio}" for key, ratio in ratios.items()))
    return {"machine": machine(), "runs": [asdict(run) for run in runs], "growth": grown}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="a PostgreSQL server, measured after SQLite")
    parser.add_argument("--families", default=",".join(map(str, DEFAULT_FAMILIES)))
    parser.add_argument("--quick", action="store_true", help="30,000 families only")
    parser.add_argument("--seconds", type=float, default=40.0, help="broadcast sampling window")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--make-rounds", metavar="URL", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # SQLModel's session.execute
    args = parse_args()
    if args.make_rounds:
        print(json.dumps(asyncio.run(make_rounds(args.make_rounds))))
        sys.exit(0)
    if args.database_url and args.database_url.startswith("sqlite"):
        raise SystemExit("SQLite is always measured: --database-url is for PostgreSQL")
    chosen = [DEFAULT_FAMILIES[0]] if args.quick else [int(n) for n in args.families.split(",")]
    report = asyncio.run(main(args.database_url, chosen, seconds=args.seconds))
    write_json(args.json, report)
