"""How much memory the bot process holds with many subscribers: idle, and while a broadcast
(one poll to all of them) goes out.

    python -m bench.memory [--sizes 10000,100000] [--seconds 25] [--rate 1000] [--json PATH]

Per size: a fresh SQLite file (migrated, one council without quiet hours) gets `size`
signed-up families in bulk; the local Bot API server (`bot.botapi.LocalBotApi`) runs in this
process with a chat for each of them; the bot runs as its own process, started the way
`achterban run` starts (a config file, `python -m bot run --config ...`, as
tests/e2e/test_crash.py does) with `messages_per_second = --rate` (1,000, the most the config
allows, so it is busy). Its resident set size (VmRSS in /proc/<pid>/status) is sampled every
0.5 s: for `--idle` seconds once it polls ("idle": the median), then for `--seconds` seconds
from the moment a poll with one yes/no question is opened for everyone ("peak": the highest
sample; VmHWM, the kernel's high-water mark since start, is reported beside it). Two sizes
give MiB per 10,000 subscribers as the slope between them, so that what the process holds
anyway (Python, the libraries, SQLite's page cache) does not count.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import (
    COUNCIL,
    RESULTS,
    cpu_seconds,
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
from bot.botapi import LocalBotApi
from bot.botapi.state import Chat
from storage.db import Database
from storage.models import (
    AgeBand,
    Council,
    Membership,
    MembershipStatus,
    Person,
    Role,
    utcnow,
)
from tests.builders import open_poll_now

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_JSON = RESULTS / "memory.json"
QUESTION = [{"kind": "yes_no", "text": "Gaat het goed met je?"}]
FIRST_ID = 10_000_000
CHUNK = 10_000
EVERY = 0.5


@dataclass(frozen=True)
class Sample:
    """One look at the bot process: seconds since the poll opened, RSS, messages sent so far."""

    at: float
    rss_mib: float
    sent: int


@dataclass
class Run:
    subscribers: int
    load_s: float
    idle_mib: float
    peak_mib: float
    growth_mib: float
    high_water_mib: float | None
    sent: int
    sent_per_s: float
    bot_cpu: float | None
    server_cpu: float
    idle: list[Sample]
    broadcast: list[Sample]


async def load_families(db: Database, count: int) -> None:
    """`count` signed-up families of `COUNCIL`, straight into the tables in chunks."""
    now = utcnow()
    async with db.begin() as session:
        council_id = await session.scalar(select(Council.id).where(Council.slug == COUNCIL.slug))
        first = (await session.scalar(select(func.max(Person.id))) or 0) + 1
        connection = await session.connection()
        for start in range(0, count, CHUNK):
            numbers = range(start, min(start + CHUNK, count))
            people = [
                {
                    "id": first + n,
                    "address": str(FIRST_ID + n),
                    "language": "nl",
                    "age_band": AgeBand.adult,
                    "guardian_consent": False,
                    "consented_at": now,
                }
                for n in numbers
            ]
            await connection.execute(insert(Person), people)
            memberships = [
                {
                    "person_id": first + n,
                    "council_id": council_id,
                    "role": Role.family,
                    "status": MembershipStatus.active,
                    "joined_at": now,
                }
                for n in numbers
            ]
            await connection.execute(insert(Membership), memberships)


async def sample(
    pid: int, api: LocalBotApi, *, seconds: float, since: float, done_at: int | None = None
) -> list[Sample]:
    """RSS every EVERY seconds for `seconds` (or until `done_at` messages went out)."""
    found: list[Sample] = []
    mark = len(api.sends)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rss = rss_mib(pid)
        if rss is None:
            raise SystemExit("bench: the bot process is gone; see its log")
        sent = len(api.sends) - mark
        found.append(Sample(round(time.monotonic() - since, 2), round(rss, 1), sent))
        if done_at is not None and sent >= done_at:
            break
        await asyncio.sleep(EVERY)
    return found


async def until_polling(api: LocalBotApi, process: Any, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not api.queue.poller_busy:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("bench: the bot did not start polling; see its log")
        await asyncio.sleep(0.05)


async def bench_size(size: int, *, seconds: float, idle: float, rate: int) -> Run:
    async with scratch_database(None, f"bench_memory_{size}") as db, LocalBotApi() as api:
        start = time.monotonic()
        await load_families(db, size)
        load_s = time.monotonic() - start
        for number in range(size):  # a chat per family, so sendMessage finds it
            api.state.chats[FIRST_ID + number] = Chat(FIRST_ID + number, "private", "Test")
        with tempfile.TemporaryDirectory() as folder, (Path(folder) / "bot.log").open("wb") as log:
            config = write_config(
                Path(folder),
                token=api.token,
                base_url=api.base_url,
                db=db,
                messages_per_second=rate,
            )
            process = start_bot(config, log=log)
            try:
                await until_polling(api, process)
                await asyncio.sleep(1.0)  # start-up settles (menus, the first scheduler tick)
                quiet = await sample(process.pid, api, seconds=idle, since=time.monotonic())
                opened = time.monotonic()
                cpu_before, server_before = cpu_seconds(process.pid), time.process_time()
                await open_poll_now(db, questions=QUESTION, council=COUNCIL.slug)
                busy = await sample(process.pid, api, seconds=seconds, since=opened, done_at=size)
                high_water = rss_mib(process.pid, "VmHWM")
                cpu_after, server = cpu_seconds(process.pid), time.process_time() - server_before
                window = time.monotonic() - opened
            except BaseException:
                log.flush()
                tail = (Path(folder) / "bot.log").read_text(errors="replace")[-3000:]
                print(f"--- the bot's log (end) ---\n{tail}", file=sys.stderr)
                raise
            finally:
                await stop_process(process)
    idle_mib = median([s.rss_mib for s in quiet])
    peak = max(s.rss_mib for s in busy)
    sent = busy[-1].sent
    span = busy[-1].at - next((s.at for s in busy if s.sent), busy[-1].at)
    return Run(
        subscribers=size,
        load_s=round(load_s, 1),
        idle_mib=round(idle_mib, 1),
        peak_mib=peak,
        growth_mib=round(peak - idle_mib, 1),
        high_water_mib=round(high_water, 1) if high_water is not None else None,
        sent=sent,
        sent_per_s=round(sent / span, 1) if span > 0 else 0.0,
        bot_cpu=round((cpu_after - cpu_before) / window, 2) if cpu_after and cpu_before else None,
        server_cpu=round(server / window, 2),
        idle=quiet,
        broadcast=busy,
    )


def per_10k(runs: Sequence[Run], key: str) -> float | None:
    """MiB per 10,000 subscribers: the slope between the smallest and the largest size."""
    small, large = min(runs, key=lambda r: r.subscribers), max(runs, key=lambda r: r.subscribers)
    if large.subscribers == small.subscribers:
        return None
    slope = (getattr(large, key) - getattr(small, key)) / (large.subscribers - small.subscribers)
    return round(slope * 10_000, 2)


HEADER = ("subscribers", "load s", "idle MiB", "peak MiB", "growth MiB", "VmHWM MiB")
HEADER += ("sent", "sent/s", "bot cpu", "server cpu")
COLUMNS = ("subscribers", "load_s", "idle_mib", "peak_mib", "growth_mib", "high_water_mib")
COLUMNS += ("sent", "sent_per_s", "bot_cpu", "server_cpu")


async def main(sizes: Sequence[int], *, seconds: float, idle: float, rate: int) -> dict[str, Any]:
    runs = []
    for size in sizes:
        print(f"{size} subscribers ...", file=sys.stderr, flush=True)
        runs.append(await bench_size(size, seconds=seconds, idle=idle, rate=rate))
    rows = [[getattr(run, column) for column in COLUMNS] for run in runs]
    print(f"\nbot process RSS, SQLite, messages_per_second = {rate}, sampled every {EVERY} s;")
    print("cpu: seconds of CPU per second of the broadcast window (1.0 = one core busy)")
    print_table(HEADER, rows)
    slopes = {key: per_10k(runs, key) for key in ("idle_mib", "peak_mib")}
    if slopes["peak_mib"] is not None:
        print(
            f"\nper 10,000 subscribers: idle {slopes['idle_mib']:+.2f} MiB,"
            f" peak {slopes['peak_mib']:+.2f} MiB (slope between {min(sizes)} and {max(sizes)})"
        )
    return {
        "machine": machine(),
        "database": "SQLite",
        "rate": rate,
        "seconds": seconds,
        "per_10k_mib": slopes,
        "runs": [asdict(run) for run in runs],
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--seconds", type=float, default=25.0, help="broadcast sampling window")
    parser.add_argument("--idle", type=float, default=5.0, help="idle sampling before the poll")
    parser.add_argument("--rate", type=int, default=1000, help="messages_per_second (max 1000)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    chosen = [int(size) for size in args.sizes.split(",") if size.strip()]
    report = asyncio.run(main(chosen, seconds=args.seconds, idle=args.idle, rate=args.rate))
    write_json(args.json, report)
