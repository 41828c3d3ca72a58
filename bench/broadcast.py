"""How evenly and how fast the outbox sends a broadcast, next to the ceiling of a bare
python-telegram-bot `Bot` against the same server in the same run.

    python -m bench.broadcast [--database-url URL] [--recipients 10000] [--json PATH] [--quick]
    python -m bench.broadcast --repeat 3 --profile   # lifted runs and ceilings 3 times (medians),
                                                     # then profile a lifted run (pyinstrument)
    python -m bench.broadcast --channels whatsapp,mixed   # only some of the cases (default: all
                                                          # of telegram, whatsapp, mixed)

Who runs where: the local Telegram Bot API server (`bot.botapi.LocalBotApi`) runs in a child
process of its own (this module with `--serve`, driven over its stdin and stdout), so on two
cores it does not share an event loop with the bot; `--same-process` puts it in this process
instead, to see what sharing costs. The bot runs in this process the way `achterban run`
starts it (`bot.run.runner.running`: migrations, councils, `Application`, the outbox task), with
settings built directly, because the config file allows at most 1,000 messages per second.
Every run gets a scratch database (SQLite in a temporary folder by default, or a database of
its own beside the PostgreSQL one named), a council without quiet hours, `--recipients`
signed-up families, a council member whose chat shows the progress message (as when a poll
is sent with /nieuw), and a poll with one yes/no question opened for everyone.

1. "default": the configured default rate (`TelegramSettings.messages_per_second`). From the
   server's send log (its own clock, `SendRecord.at`): achieved rate = intervals / span
   between the first and the last send, divided by the configured rate; the most sends in
   any one-second window; how many 429s Telegram would have answered, modelled as a sliding
   one-second window of at most 30 accepted requests overall, the progress message's edits
   included (Telegram's documented broadcast limit; the local server enforces no limit), plus
   at most one message per chat per second; and how many whole seconds (counted from the
   first send) held more sends than configured. With --quick fewer recipients (20 seconds'
   worth).
2. "lifted": messages_per_second 100,000, so neither the outbox's pacing nor PTB's
   our rate limiter binds: what one process pushes. Then, against the same server, the
   ceilings with the outbox's concurrency (`bot.delivery.outbox.BATCH` sends in flight): a
   bare `Bot`
   with the request settings `ApplicationBuilder` gives the bot (`HTTPXRequest` with a pool of
   256 connections, default timeouts, HTTP/1.1) sending the same message to the same chats
   from BATCH workers; and PTB as the bot configures it (`ExtBot` with our `Defaults` and
   `SendLimiter`), to tell PTB's own cost from ours. ours/ceiling compares with the bare Bot
   of the same repetition; the summary gives medians over `--repeat` repetitions.
3. With --profile, one more lifted broadcast runs under pyinstrument (wall clock, all of the
   main thread, async mode off, so time in the gathered sends is shown where it is spent):
   the self time per library is printed and stored, the call tree is written beside the JSON.
   pyinstrument is a development tool, not a dependency of the bot: `pip install pyinstrument`.
4. and 5. (`bench/broadcast_whatsapp.py` says more): "whatsapp", `--recipients` WhatsApp
   families at the configured 80/s, measured from the WhatsApp simulator's send log like 1.;
   and "mixed", one poll to half Telegram and half WhatsApp families, whose total time should
   be the slower share's (Telegram's), not the sum of both. The simulator runs in a child
   process of its own. 1. to 3. are `--channels telegram`.

CPU columns: "bot CPU" and "server CPU" are seconds of CPU per second of the run (1.0 = one
core busy): the bot's process (every thread: aiosqlite runs SQLite in a thread of its own) and
the server's child process; PostgreSQL's own processes are not counted. "CPU ms/send" is the
bot's CPU per message, steadier than rates when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, update
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot
from telegram.request import HTTPXRequest

from bench.common import (
    COUNCIL,
    PSEUDONYM_KEY,
    RESULTS,
    ROOT,
    cpu_seconds,
    print_table,
    scratch_database,
    write_json,
)
from bot.botapi import LocalBotApi
from bot.chat.context import SERVICES
from bot.chat.keyboards import markup
from bot.config import Settings, TelegramSettings
from bot.delivery.health import Outage
from bot.delivery.outbox import BATCH, Outbox, Outboxes
from bot.delivery.rate import SendLimiter
from bot.polls.questions import asking
from bot.run.runner import running
from bot.texts import texts_for
from storage import polls
from storage.db import Database
from storage.models import Delivery, DeliveryStatus, Round

DEFAULT_JSON = RESULTS / "broadcast.json"
DEFAULT_RATE = TelegramSettings().messages_per_second
LIFTED_RATE = 100_000.0
TELEGRAM_LIMIT = 30  # messages per second overall, Telegram's limit for broadcasts
PER_CHAT_SECONDS = 1.0  # and one message per chat per second
POOL_SIZE = 256  # what ApplicationBuilder gives the bot's HTTPXRequest (bot/run/app.py sets none)
QUICK_SECONDS = 20  # --quick: the default-rate run sends this many seconds' worth
FIRST_ID = 7_000_000
MANAGER_ID = 1_000  # the council member who sent the poll: their chat shows the progress
QUESTION = [{"kind": "yes_no", "text": "Gaat het goed met je?"}]
OPEN = (DeliveryStatus.pending, DeliveryStatus.claimed)
WITHIN = 1_200.0  # seconds a broadcast may take before the bench gives up
VERSIONS = ("python-telegram-bot", "httpx", "httpcore", "anyio", "sniffio", "SQLAlchemy")

Send = tuple[float, int, str]
"""One line of the server's send log: monotonic time, chat id, "send" or "edit"."""


# --- the local Bot API server, here or in a child process ---------------------------------


class Api(Protocol):
    """What the bench needs of the server: its address, chats, the send log, its CPU time."""

    base_url: str
    token: str

    async def add_chats(self, first_id: int, count: int) -> None: ...

    async def take_sends(self) -> list[Send]: ...

    def cpu_seconds(self) -> float | None: ...

    async def close(self) -> None: ...


class ApiHere:
    """LocalBotApi in this process (its CPU time is counted as the bot's)."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api
        self.base_url = api.base_url
        self.token = api.token

    @classmethod
    async def start(cls) -> ApiHere:
        api = LocalBotApi()
        await api.start()
        return cls(api)

    async def add_chats(self, first_id: int, count: int) -> None:
        _add_chats(self.api, first_id, count)

    async def take_sends(self) -> list[Send]:
        return _take_sends(self.api)

    def cpu_seconds(self) -> float | None:
        return None

    async def close(self) -> None:
        await self.api.stop()


class ApiProcess:
    """LocalBotApi in a child process (`python -m bench.broadcast --serve`): one JSON line per
    request on its stdin, one JSON line per answer on its stdout."""

    def __init__(self, process: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.process = process
        self.base_url = hello["base_url"]
        self.token = hello["token"]

    @classmethod
    async def start(cls) -> ApiProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.broadcast",
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).parents[1],
            limit=1 << 26,  # the send log comes back as one line
        )
        assert process.stdout is not None
        line = await process.stdout.readline()
        if not line:
            raise SystemExit("the Bot API server process did not start")
        return cls(process, json.loads(line))

    async def _ask(self, **request: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def add_chats(self, first_id: int, count: int) -> None:
        await self._ask(op="chats", first_id=first_id, count=count)

    async def take_sends(self) -> list[Send]:
        return [(at, chat_id, action) for at, chat_id, action in await self._ask(op="sends")]

    def cpu_seconds(self) -> float | None:
        return cpu_seconds(self.process.pid)

    async def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), timeout=10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def _add_chats(api: LocalBotApi, first_id: int, count: int) -> None:
    for telegram_id in range(first_id, first_id + count):
        api.user(telegram_id)


def _take_sends(api: LocalBotApi) -> list[Send]:
    sends = [(record.at, record.chat_id, record.action) for record in api.sends]
    api.sends.clear()
    api.transcript.clear()
    return sends


async def serve() -> None:
    """The child process: a LocalBotApi that answers the parent's requests until stdin ends."""
    api = LocalBotApi()
    await api.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(value: Any) -> None:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    answer({"base_url": api.base_url, "token": api.token})
    try:
        while line := await reader.readline():
            request = json.loads(line)
            if request["op"] == "chats":
                _add_chats(api, request["first_id"], request["count"])
                answer(True)
            elif request["op"] == "sends":
                answer(_take_sends(api))
    finally:
        await api.stop()


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    """One measured run: figures from the server's send log (progress messages left out)."""

    run: str
    recipients: int
    configured_per_s: float | None
    sends: int
    span_s: float
    achieved_per_s: float
    achieved_over_configured: float | None
    busiest_second: int
    would_be_429: int
    seconds_over_configured: int | None
    wall_s: float
    bot_cpu: float
    bot_cpu_ms_per_send: float
    server_cpu: float | None
    outcomes: dict[str, int] | None = None


def achieved(moments: Sequence[float]) -> tuple[float, float]:
    """Span between the first and the last send, and sends per second over it (intervals /
    span, exact for evenly spaced sends)."""
    if len(moments) < 2:
        return 0.0, 0.0
    span = moments[-1] - moments[0]
    return span, (len(moments) - 1) / span if span else float("inf")


def busiest_second(moments: Sequence[float]) -> int:
    """The most sends in any one-second window (sliding)."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moments[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def would_be_refused(sends: Sequence[Send], *, limit: int = TELEGRAM_LIMIT) -> int:
    """How many sends Telegram would answer with 429 if it accepted at most `limit` in any
    sliding second overall and one per chat per second (refused sends do not count)."""
    accepted: deque[float] = deque()
    last_in_chat: dict[int, float] = {}
    refused = 0
    for moment, chat_id, _ in sends:
        while accepted and accepted[0] <= moment - 1.0:
            accepted.popleft()
        if len(accepted) >= limit or moment - last_in_chat.get(chat_id, -1e9) < PER_CHAT_SECONDS:
            refused += 1
            continue
        accepted.append(moment)
        last_in_chat[chat_id] = moment
    return refused


def seconds_over(moments: Sequence[float], rate: float) -> int:
    """Whole seconds, counted from the first send, that held more sends than `rate`."""
    if not moments:
        return 0
    per_second = Counter(int(moment - moments[0]) for moment in moments)
    return sum(1 for count in per_second.values() if count > rate)


def measure(
    name: str,
    sends: list[Send],
    *,
    recipients: int,
    rate: float | None,
    wall: float,
    bot_cpu: float,
    server_cpu: float | None,
    limit: int = TELEGRAM_LIMIT,
) -> Run:
    """A run's figures from its send log; `limit` is the platform's per-second limit that the
    would-be refusals are modelled with."""
    messages = sorted(send for send in sends if send[2] == "send" and send[1] != MANAGER_ID)
    moments = [moment for moment, _, _ in messages]
    span, per_second = achieved(moments)
    sends_and_edits = sorted(sends)  # Telegram counts the progress message's edits too
    return Run(
        run=name,
        recipients=recipients,
        configured_per_s=rate,
        sends=len(messages),
        span_s=round(span, 3),
        achieved_per_s=round(per_second, 1),
        achieved_over_configured=round(per_second / rate, 3) if rate else None,
        busiest_second=busiest_second(moments),
        would_be_429=would_be_refused(sends_and_edits, limit=limit),
        seconds_over_configured=seconds_over(moments, rate) if rate else None,
        wall_s=round(wall, 2),
        bot_cpu=round(bot_cpu / wall, 2) if wall else 0.0,
        bot_cpu_ms_per_send=round(bot_cpu * 1000 / len(messages), 3) if messages else 0.0,
        server_cpu=round(server_cpu / wall, 2) if wall and server_cpu is not None else None,
    )


class Clock:
    """Wall time and CPU time of this process and of the server, from start to `stop()`."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.wall = time.monotonic()
        self.cpu = time.process_time()
        self.server = api.cpu_seconds()

    def stop(self) -> tuple[float, float, float | None]:
        server = self.api.cpu_seconds()
        return (
            time.monotonic() - self.wall,
            time.process_time() - self.cpu,
            server - self.server if server is not None and self.server is not None else None,
        )


# --- the bot's broadcast ------------------------------------------------------------------


def bot_settings(api: Api, db: Database, rate: float) -> Settings:
    """The bot's settings for a run (directly: the config file caps the rate at 1,000/s)."""
    return Settings(
        telegram=TelegramSettings(token=api.token, base_url=api.base_url, messages_per_second=rate),
        database_url=db.engine.url.render_as_string(hide_password=False),
        admins=frozenset({MANAGER_ID}),
        pseudonym_key=PSEUDONYM_KEY,
        councils=(COUNCIL,),
    )


async def open_broadcast(db: Database, api: Api, recipients: int) -> int:
    """Families, their chats, and a poll opened for all of them whose round reports its
    progress to the council member; returns the poll id."""
    from tests.builders import open_poll_now, populate

    await populate(db, count=recipients, first_id=FIRST_ID, council=COUNCIL.slug)
    await api.add_chats(FIRST_ID, recipients)
    await api.add_chats(MANAGER_ID, 1)
    poll_id = await open_poll_now(db, questions=QUESTION, council=COUNCIL.slug)
    async with db.begin() as session:
        await session.execute(
            update(Round).where(Round.poll_id == poll_id).values(progress_chat_id=MANAGER_ID)
        )
    return poll_id


async def outcomes(db: Database) -> Counter[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return Counter({str(status): count for status, count in rows})


async def send_everything(outbox: Outbox | Outboxes, db: Database) -> Counter[str]:
    """Drain the outbox (beside its own task) until no row is pending or claimed."""
    deadline = time.monotonic() + WITHIN
    while True:
        await outbox.drain()
        counts = await outcomes(db)
        if not any(counts[str(status)] for status in OPEN):
            return counts
        if time.monotonic() > deadline:
            raise SystemExit(f"the broadcast did not finish in {WITHIN:g} s: {dict(counts)}")
        await asyncio.sleep(0.2)


async def broadcast(
    api: Api, server: str | None, *, name: str, recipients: int, rate: float, profile: Any = None
) -> tuple[Run, tuple[str, InlineKeyboardMarkup]]:
    """One broadcast by the bot; the run's figures and the message it sent."""
    async with scratch_database(server, f"bench_broadcast_{os.getpid()}_{name}") as db:
        poll_id = await open_broadcast(db, api, recipients)
        async with running(bot_settings(api, db, rate)) as app:
            outbox = app.bot_data[SERVICES].outbox
            await api.take_sends()  # start-up calls are not part of the broadcast
            clock = Clock(api)
            if profile is not None:
                profile.start()
            try:
                counts = await send_everything(outbox, db)
            finally:
                if profile is not None:
                    profile.stop()
            wall, bot_cpu, server_cpu = clock.stop()
        if counts[DeliveryStatus.sent.value] != recipients:
            raise SystemExit(f"{name}: not everyone got the poll: {dict(counts)}")
        async with db.read() as session:
            view = await polls.load_poll(session, poll_id=poll_id)
        screen = asking(texts_for("nl"), view, view.questions[0])
        message = screen.text, markup(screen)
    run = measure(
        name,
        await api.take_sends(),
        recipients=recipients,
        rate=rate,
        wall=wall,
        bot_cpu=bot_cpu,
        server_cpu=server_cpu,
    )
    run.outcomes = dict(counts)
    return run, message


# --- the ceiling: python-telegram-bot alone -----------------------------------------------


async def ceiling(
    api: Api, *, name: str, bot: Bot, chats: range, message: tuple[str, InlineKeyboardMarkup]
) -> Run:
    """`bot` sends `message` to every chat from BATCH workers side by side."""
    text, markup = message
    todo: Iterator[int] = iter(chats)

    async def worker() -> None:
        for chat_id in todo:  # one iterator: each chat is taken by one worker
            await bot.send_message(
                chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=markup,
            )

    async with bot:
        await api.take_sends()
        clock = Clock(api)
        await asyncio.gather(*(worker() for _ in range(BATCH)))
        wall, bot_cpu, server_cpu = clock.stop()
    return measure(
        name,
        await api.take_sends(),
        recipients=len(chats),
        rate=None,
        wall=wall,
        bot_cpu=bot_cpu,
        server_cpu=server_cpu,
    )


def bare_bot(api: Api) -> Bot:
    return Bot(api.token, base_url=api.base_url, request=HTTPXRequest(POOL_SIZE))


def configured_bot(api: Api) -> ExtBot[Any]:
    """PTB as bot/run/app.py configures it: defaults and our SendLimiter at the lifted rate."""
    return ExtBot(
        api.token,
        base_url=api.base_url,
        request=HTTPXRequest(POOL_SIZE),
        defaults=Defaults(
            parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        ),
        rate_limiter=SendLimiter(per_second=LIFTED_RATE, telegram=Outage("Telegram")),
    )


# --- the whole bench ----------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    os.environ["no_proxy"] = os.environ["NO_PROXY"]
    warnings.filterwarnings("ignore", r"\s+🚨 You probably want", DeprecationWarning)
    from bench import broadcast_whatsapp  # it imports this module, so not at the top

    api: Api = await (ApiHere.start() if args.same_process else ApiProcess.start())
    lifted: list[tuple[Run, Run, Run]] = []  # ours, bare Bot, ExtBot: one triple per repetition
    default = profiled = None
    try:
        if "telegram" in args.channels:
            default, lifted, profiled = await telegram_runs(api, args)
        found = await broadcast_whatsapp.run_cases(api, args, args.channels)
    finally:
        await api.close()
    runs = [
        *([default] if default else []),
        *(run for triple in lifted for run in triple),
        *broadcast_whatsapp.runs_of(found),
    ]
    print()
    print_table(HEADER, [row(run) for run in runs])
    summary = telegram_summary(args, default, lifted, profiled) if default else {}
    summary |= broadcast_whatsapp.report(found)
    return {
        "database": "SQLite" if args.database_url is None else "PostgreSQL",
        "server": "same process" if args.same_process else "separate process",
        "channels": sorted(args.channels),
        "concurrency": BATCH,
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in VERSIONS},
        "cpus": os.cpu_count(),
        "summary": summary,
        "runs": [asdict(run) for run in runs],
        "profile": profiled,
    }


async def telegram_runs(
    api: Api, args: argparse.Namespace
) -> tuple[Run, list[tuple[Run, Run, Run]], dict[str, Any] | None]:
    """1. to 3.: the default-rate run, the lifted runs with their ceilings, the profile."""
    default_count = (
        min(args.recipients, int(DEFAULT_RATE * QUICK_SECONDS)) if args.quick else args.recipients
    )
    print(f"default rate: {default_count} recipients at {DEFAULT_RATE:g}/s ...", flush=True)
    default, _ = await broadcast(
        api, args.database_url, name="default", recipients=default_count, rate=DEFAULT_RATE
    )
    lifted: list[tuple[Run, Run, Run]] = []
    chats = range(FIRST_ID, FIRST_ID + args.recipients)
    for repetition in range(args.repeat):
        print(f"lifted: {args.recipients} recipients at {LIFTED_RATE:g}/s ...", flush=True)
        ours, message = await broadcast(
            api,
            args.database_url,
            name=f"lifted{repetition}",
            recipients=args.recipients,
            rate=LIFTED_RATE,
        )
        bare = await ceiling(api, name="bare Bot", bot=bare_bot(api), chats=chats, message=message)
        ext = await ceiling(
            api, name="ExtBot as ours", bot=configured_bot(api), chats=chats, message=message
        )
        ours.run, bare.run, ext.run = (
            f"{name} #{repetition + 1}" for name in ("lifted", "bare Bot", "ExtBot as ours")
        )
        lifted.append((ours, bare, ext))
    profiled = await profile_lifted(api, args) if args.profile else None
    return default, lifted, profiled


def telegram_summary(
    args: argparse.Namespace,
    default: Run,
    lifted: list[tuple[Run, Run, Run]],
    profiled: dict[str, Any] | None,
) -> dict[str, Any]:
    """Print the Telegram runs' summary (and the profile); what goes into the JSON."""
    ratios = [ours.achieved_per_s / bare.achieved_per_s for ours, bare, _ in lifted]
    summary = {
        "default_achieved_over_configured": default.achieved_over_configured,
        "default_would_be_429": default.would_be_429,
        "lifted_per_s": statistics.median(ours.achieved_per_s for ours, _, _ in lifted),
        "ceiling_per_s": statistics.median(bare.achieved_per_s for _, bare, _ in lifted),
        "ours_over_ceiling": round(statistics.median(ratios), 3),
    }
    print(
        f"\ndefault rate: achieved/configured {default.achieved_over_configured:.3f}"
        f" (target >= 0.95), would-be 429s {default.would_be_429}"
        f"\nlifted (medians of {args.repeat}): {summary['lifted_per_s']:.0f}/s (target >= 1000/s),"
        f" bare Bot ceiling {summary['ceiling_per_s']:.0f}/s,"
        f" ours/ceiling {summary['ours_over_ceiling']:.2f} (each repetition's ratio:"
        f" {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
    )
    if profiled:
        seconds = profiled["seconds_by_library"]
        total = sum(seconds.values())
        print(f"\nwhere a lifted run's time goes ({profiled['per_s']:.0f}/s under the profiler;")
        print(f"self time by library, the call tree is in {profiled['tree']}):")
        shares = [(name, f"{t:.2f}", f"{t / total:.1%}") for name, t in seconds.items()]
        print_table(("library", "s", "share"), shares[:12])
    return summary


def _version(name: str) -> str | None:
    """The installed version of a distribution (None: not installed, e.g. sniffio: without it
    httpcore tries `import sniffio` again for every lock it makes)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


async def profile_lifted(api: Api, args: argparse.Namespace) -> dict[str, Any]:
    """One more lifted broadcast under pyinstrument: the call tree goes to a text file beside
    the JSON, the time per library (self time, in seconds and shares) into the report."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    print("lifted, under the profiler ...", flush=True)
    run, _ = await broadcast(
        api,
        args.database_url,
        name="profiled",
        recipients=args.recipients,
        rate=LIFTED_RATE,
        profile=profiler,
    )
    path = args.json.with_name(args.json.stem + "-profile.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = profiler.output_text(unicode=True, color=False, show_all=False)
    for local, shown in (
        (ROOT, "."),
        (Path(sys.prefix), "<venv>"),
        (Path(sys.base_prefix), "<py>"),
    ):
        tree = tree.replace(f"{local}{os.sep}", f"{shown}{os.sep}")  # no paths of this machine
    path.write_text(tree)
    seconds: Counter[str] = Counter()
    _self_times(profiler.last_session.root_frame(trim_stem=False), "other", seconds)
    return {
        "tree": path.name,
        "per_s": run.achieved_per_s,
        "seconds_by_library": {name: round(time, 3) for name, time in seconds.most_common()},
    }


def _self_times(frame: Any, parent: str, seconds: Counter[str]) -> None:
    """Add each frame's own time (not its callees') to its library; a built-in counts for its
    caller's library, except waiting for the network (the event loop had nothing to do)."""
    library = _library(frame.file_path or "", frame.function, parent)
    seconds[library] += frame.time - sum(child.time for child in frame.children)
    for child in frame.children:
        _self_times(child, library, seconds)


def _library(path: str, function: str, parent: str) -> str:
    if path.startswith("<built-in>") or not path:
        return "idle (waiting in epoll)" if "poll" in function else parent
    if "importlib" in path or "_distutils_hack" in path:
        return "import system"  # httpcore's `import sniffio` fails again on every call
    if "site-packages" in path:
        return Path(path.split("site-packages", 1)[1]).parts[1]
    if Path(path).is_relative_to(ROOT):
        return "achterban" if Path(path).relative_to(ROOT).parts[0] != "bench" else "bench"
    if "/asyncio/" in path or path.endswith("selectors.py"):
        return "asyncio"
    return "python (other)"


HEADER = (
    *("run", "recipients", "configured/s", "sends", "span s", "achieved/s"),
    *("achieved/configured", "busiest 1 s", "would-be 429s", "seconds over"),
    *("wall s", "bot CPU", "CPU ms/send", "server CPU"),
)


def row(run: Run) -> tuple[Any, ...]:
    def shown(value: Any) -> Any:
        return "-" if value is None else value

    return (
        *(run.run, run.recipients, shown(run.configured_per_s), run.sends, run.span_s),
        *(run.achieved_per_s, shown(run.achieved_over_configured), run.busiest_second),
        *(run.would_be_429, shown(run.seconds_over_configured), run.wall_s, run.bot_cpu),
        *(run.bot_cpu_ms_per_send, shown(run.server_cpu)),
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.broadcast",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite)")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--quick", action="store_true", help="fewer at the configured rates")
    parser.add_argument("--repeat", type=int, default=3, help="lifted runs and ceilings")
    parser.add_argument("--profile", action="store_true", help="profile a lifted run too")
    parser.add_argument(
        "--same-process", action="store_true", help="run the Bot API server in this process"
    )
    parser.add_argument(
        "--channels",
        type=channels,
        default=CHANNELS,
        help=f"comma-separated, of {','.join(CHANNELS)} (default: all)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


CHANNELS = frozenset({"telegram", "whatsapp", "mixed"})


def channels(value: str) -> frozenset[str]:
    chosen = frozenset(name.strip() for name in value.split(",") if name.strip())
    if not chosen or chosen - CHANNELS:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(sorted(CHANNELS))}")
    return chosen


def cli() -> None:
    args = parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    if args.database_url and args.database_url.startswith("sqlite"):
        raise SystemExit("SQLite is the default: leave out --database-url (a temp file is used)")
    report = asyncio.run(main(args))
    write_json(args.json, report)


if __name__ == "__main__":
    from bench import broadcast  # the module bench.broadcast_whatsapp imports, not a second copy

    broadcast.cli()
