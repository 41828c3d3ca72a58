"""How long /results takes (`tally_poll` + `respondents`) as a poll grows.

    python -m bench.tallies [--database-url URL] [--sizes 10000,100000,1000000] [--json PATH]

Each size gets a fresh database: a SQLite file in a temporary folder (the default), or, with a
PostgreSQL URL, a database of its own created beside the one named and dropped afterwards.
The schema comes from the migrations. One poll of five questions (single choice with 4
options, faces, multiple choice with 5 options, grade, yes/no) gets `size` answer rows from
respondents with a couple of tags each, inserted in bulk. The results queries then run with a
warm cache; the script checks their counts against the generated rows, prints best and median
of five runs, the query plans of the largest size, and writes everything as JSON. The
breakdown by segment (`storage.segments`, by the "kind:" tags) is timed alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import URL, event, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import database_url
from bot.results.report import load_report
from storage import polls, segments, tallies
from storage.db import Database
from storage.models import (
    Answer,
    Council,
    Option,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    Respondent,
    RespondentTag,
    utcnow,
)

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_JSON = Path(__file__).parent / "results" / "tallies.json"
REPEAT = 5
CHUNK = 10_000
SEED = 2024
QUESTIONS = (  # kind, number of options
    (QuestionKind.single, 4),
    (QuestionKind.faces, 0),
    (QuestionKind.multiple, 5),
    (QuestionKind.grade, 0),
    (QuestionKind.yes_no, 0),
)
VALUES = {  # kind -> (values, relative weights)
    QuestionKind.faces: (range(1, 6), (1, 2, 4, 6, 3)),
    QuestionKind.grade: (range(1, 11), (1, 1, 2, 3, 5, 8, 9, 6, 3, 1)),
    QuestionKind.yes_no: (range(1, 4), (6, 3, 1)),
}
SINGLE_WEIGHTS = (4, 3, 2, 1)
SKIP_RATE = 0.03  # a question skipped
STOP_RATE = 0.04  # a respondent stops before the next question
SEGMENT_KIND = "kind"
KINDS = ("kind:youth", "kind:parent", "kind:carer")
LOCATIONS = ("location:noord", "location:oost", "location:zuid", "location:west")
ANSWER_COLUMNS = (
    *("id", "respondent_id", "question_id", "slot"),
    *("option_id", "value", "text", "skipped"),
)

Row = tuple[Any, ...]


@dataclass
class Generated:
    """The rows of one poll, ready for a bulk insert."""

    respondents: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    answers: list[Row] = field(default_factory=list)


@dataclass
class Run:
    """The figures of one size; times of `tally_poll` + `respondents` in milliseconds."""

    answers: int
    respondents: int
    load_s: float
    median_ms: float
    best_ms: float
    growth: float | None
    segments_median_ms: float
    close_ms: float
    """Closing the poll, which keeps its counts."""
    closed_median_ms: float
    """/results of the closed poll: `load_report`, which reads the kept counts."""
    samples_ms: list[float]


def generate(
    rng: random.Random, size: int, *, poll_id: int, questions: Sequence[tuple[int, list[int]]]
) -> Generated:
    """Respondents, their tags and exactly `size` answer rows for the questions
    (question id, option ids in position order)."""
    rows = Generated()
    while len(rows.answers) < size:
        respondent = rng.getrandbits(62)
        rows.respondents.append((respondent, poll_id, f"{rng.getrandbits(256):064x}", None))
        tags = {rng.choice(KINDS), rng.choice(LOCATIONS)}
        if rng.random() < 0.3:
            tags.add(f"group:{rng.randrange(12)}")
        rows.tags.extend((respondent, tag) for tag in sorted(tags))
        for index, ((kind, _), (question_id, options)) in enumerate(
            zip(QUESTIONS, questions, strict=True)
        ):
            if index and rng.random() < STOP_RATE:
                break
            for slot, option_id, value, skipped in _choices(rng, kind, options):
                answer = rng.getrandbits(62)
                rows.answers.append(
                    (answer, respondent, question_id, slot, option_id, value, None, skipped)
                )
    del rows.answers[size:]
    return rows


def _choices(
    rng: random.Random, kind: QuestionKind, options: list[int]
) -> list[tuple[int, int | None, int | None, bool]]:
    """One answer as (slot, option id, value, skipped) rows, like handlers/answering.py."""
    if rng.random() < SKIP_RATE:
        return [(0, None, None, True)]
    if kind is QuestionKind.single:
        return [(0, rng.choices(options, SINGLE_WEIGHTS)[0], None, False)]
    if kind is QuestionKind.multiple:
        picked = sorted(rng.sample(range(1, len(options) + 1), rng.randint(1, 3)))
        return [(position, options[position - 1], None, False) for position in picked]
    values, weights = VALUES[kind]
    return [(0, None, rng.choices(values, weights)[0], False)]


def expected_tallies(answers: list[Row]) -> dict[int, tallies.QuestionTally]:
    """What `tally_poll` must return for these rows (no open texts in this mix)."""
    who: defaultdict[int, set[int]] = defaultdict(set)
    groups: Counter[tuple[int, int | None, int | None, int]] = Counter()
    for _, respondent, question_id, slot, option_id, value, _, skipped in answers:
        if not skipped:
            who[question_id].add(respondent)
            groups[question_id, option_id, value, slot] += 1
    expected: defaultdict[int, tallies.QuestionTally] = defaultdict(tallies.QuestionTally)
    for question_id, respondents in who.items():
        expected[question_id].answered = len(respondents)
    for (question_id, option_id, value, slot), count in groups.items():
        tally = expected[question_id]
        key = option_id if option_id is not None else value
        tally.counts[key] = tally.counts.get(key, 0) + count
        if option_id is not None and slot:
            tally.ranks[option_id][slot] = count
    return dict(expected)


def _comparable(found: dict[int, tallies.QuestionTally]) -> dict[int, Any]:
    return {
        question_id: (t.answered, t.counts, {o: dict(r) for o, r in t.ranks.items()}, t.texts)
        for question_id, t in found.items()
    }


async def create_poll(db: Database) -> tuple[int, list[tuple[int, list[int]]]]:
    """A council and an open poll with the five questions; returns ids for the rows."""
    async with db.begin() as session:
        council = Council(slug="bench", name="Bench council")
        session.add(council)
        await session.flush()
        poll = Poll(council_id=council.id, title="Bench poll", status=PollStatus.open)
        session.add(poll)
        await session.flush()
        questions: list[tuple[int, list[int]]] = []
        for position, (kind, count) in enumerate(QUESTIONS, start=1):
            question = Question(poll_id=poll.id, position=position, kind=kind, text=kind.value)
            session.add(question)
            await session.flush()
            options = [
                Option(question_id=question.id, position=index, label=f"option {index}")
                for index in range(1, count + 1)
            ]
            session.add_all(options)
            await session.flush()
            questions.append((question.id, [option.id for option in options]))
        return poll.id, questions


async def load(db: Database, rows: Generated) -> None:
    """Bulk insert in one transaction: executemany in chunks on SQLite, COPY on PostgreSQL."""
    batches = (
        (Respondent.__table__.name, ("id", "poll_id", "pseudonym", "person_id"), rows.respondents),
        (RespondentTag.__table__.name, ("respondent_id", "tag"), rows.tags),
        (Answer.__table__.name, ANSWER_COLUMNS, rows.answers),
    )
    async with db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        if db.is_sqlite:
            await raw.execute("PRAGMA synchronous=OFF")  # for the loading only
        async with connection.begin():
            for table, columns, records in batches:
                if db.is_sqlite:
                    marks = ", ".join("?" * len(columns))
                    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                    for chunk in _chunks(records, CHUNK):
                        await connection.exec_driver_sql(sql, chunk)
                else:
                    await raw.copy_records_to_table(table, records=records, columns=list(columns))
        if db.is_sqlite:
            await raw.execute("PRAGMA synchronous=NORMAL")
    if not db.is_sqlite:  # what autovacuum would do soon after: statistics and the visibility map
        engine = create_async_engine(db.engine.url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            for table, _, _ in batches:
                await connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
        await engine.dispose()


def _chunks(records: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


async def results_once(db: Database, poll_id: int) -> dict[int, tallies.QuestionTally]:
    """What /results asks the database: the tallies and the number of respondents."""
    async with db.read() as session:
        found = await tallies.tally_poll(session, poll_id=poll_id)
        await tallies.respondents(session, poll_id=poll_id)
    return found


async def segments_once(db: Database, poll_id: int) -> None:
    """The breakdown of /results by the segments of one tag kind ("kind:youth", ...)."""
    async with db.read() as session:
        await segments.tally_by_segment(session, poll_id=poll_id, kind=SEGMENT_KIND)


async def timed(action: Any, repeat: int) -> list[float]:
    """Milliseconds of `repeat` runs after one warm-up run."""
    await action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def plans(db: Database, poll_id: int) -> dict[str, list[str]]:
    """The query plans of the statements /results runs, and of the breakdown by segment."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.reader.sync_engine, "before_cursor_execute", capture)
    try:
        await results_once(db, poll_id)
        await segments_once(db, poll_id)
    finally:
        event.remove(db.reader.sync_engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
    found: dict[str, list[str]] = {}
    async with db.reader.connect() as connection:
        for statement, parameters in statements:
            result = await connection.exec_driver_sql(prefix + statement, parameters)
            rows = result.all()
            found[" ".join(statement.split())] = (
                _tree(rows) if db.is_sqlite else [row[0] for row in rows]
            )
    return found


def _tree(rows: Sequence[Row]) -> list[str]:
    """SQLite's plan rows (id, parent, notused, detail), indented like the sqlite3 shell."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append(f"{'  ' * depth[node]}{detail}")
    return lines


@asynccontextmanager
async def fresh_database(url: str | None, size: int) -> AsyncIterator[Database]:
    """An empty, migrated database for one size, removed afterwards."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}")
            try:
                await db.upgrade()
                yield db
            finally:
                await db.dispose()
        return
    server = make_url(database_url(url, base_dir=Path.cwd()))
    name = f"bench_tallies_{os.getpid()}_{size}"
    await _on_server(server, f'CREATE DATABASE "{name}"')
    db = Database(server.set(database=name).render_as_string(hide_password=False))
    try:
        await db.upgrade()
        yield db
    finally:
        await db.dispose()
        await _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _on_server(server: URL, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


async def bench_size(
    url: str | None, size: int, previous: float | None, *, explain: bool
) -> tuple[Run, dict[str, list[str]]]:
    async with fresh_database(url, size) as db:
        poll_id, questions = await create_poll(db)
        rows = generate(random.Random(SEED), size, poll_id=poll_id, questions=questions)
        start = time.perf_counter()
        await load(db, rows)
        load_s = time.perf_counter() - start
        found = await results_once(db, poll_id)
        if _comparable(found) != _comparable(expected_tallies(rows.answers)):
            raise SystemExit(f"tally_poll returned wrong counts for {size} answers")
        samples = await timed(lambda: results_once(db, poll_id), REPEAT)
        breakdown = await timed(lambda: segments_once(db, poll_id), REPEAT)
        start = time.perf_counter()
        async with db.begin() as session:
            await polls.close_poll(session, poll_id=poll_id, now=utcnow())
        close_ms = (time.perf_counter() - start) * 1000
        report = await load_report(db, poll_id=poll_id)
        if report is None or _comparable(report.tallies) != _comparable(found):
            raise SystemExit(f"the counts kept at closing differ for {size} answers")
        closed = await timed(lambda: load_report(db, poll_id=poll_id), REPEAT)
        median = statistics.median(samples)
        run = Run(
            answers=size,
            respondents=len(rows.respondents),
            load_s=round(load_s, 2),
            median_ms=round(median, 2),
            best_ms=round(min(samples), 2),
            growth=round(median / previous, 2) if previous else None,
            segments_median_ms=round(statistics.median(breakdown), 2),
            close_ms=round(close_ms, 1),
            closed_median_ms=round(statistics.median(closed), 2),
            samples_ms=[round(sample, 2) for sample in samples],
        )
        return run, (await plans(db, poll_id) if explain else {})


HEADER = (
    "answers",
    "respondents",
    "load s",
    "median ms",
    "best ms",
    "growth",
    "segments ms",
    "close ms",
    "closed ms",
)
WIDTHS = (10, 11, 7, 10, 8, 7, 12, 9, 10)


async def main(url: str | None, sizes: list[int]) -> dict[str, Any]:
    """Bench every size, print the table and the plans; returns the report for the JSON."""
    runs: list[Run] = []
    found_plans: dict[str, list[str]] = {}
    print(" ".join(f"{name:>{width}}" for name, width in zip(HEADER, WIDTHS, strict=True)))
    for index, size in enumerate(sizes):
        previous = runs[-1].median_ms if runs else None
        explain = index == len(sizes) - 1
        run, run_plans = await bench_size(url, size, previous, explain=explain)
        runs.append(run)
        found_plans |= run_plans
        growth = f"x{run.growth:.1f}" if run.growth else "-"
        print(
            f"{run.answers:>10} {run.respondents:>11} {run.load_s:>7.1f} {run.median_ms:>10.1f}"
            f" {run.best_ms:>8.1f} {growth:>7} {run.segments_median_ms:>12.1f}"
            f" {run.close_ms:>9.1f} {run.closed_median_ms:>10.2f}",
            flush=True,
        )
    print(f"\nQuery plans at {sizes[-1]} answers:")
    for statement, lines in found_plans.items():
        print(f"\n{statement}")
        print("\n".join(f"  {line}" for line in lines))
    return {
        "database": f"SQLite {sqlite3.sqlite_version}" if url is None else "PostgreSQL",
        "repeat": REPEAT,
        "runs": [asdict(run) for run in runs],
        "plans": found_plans,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.tallies", description=__doc__)
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite)")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if args.database_url and args.database_url.startswith("sqlite"):
        raise SystemExit("SQLite is the default: leave out --database-url (a temp file is used)")
    report = asyncio.run(main(args.database_url, sizes))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.json}")
