"""How fast the bot stores the answers of many families tapping at once, next to the ceiling
of python-telegram-bot itself on the same machine in the same run.

    python -m bench.answers [--families 200] [--reps 3] [--json PATH] [--profile PATH]
    python -m bench.answers --database-url postgresql://postgres@127.0.0.1:5432/test
    python -m bench.answers --both      # SQLite, then PostgreSQL ($DATABASE_URL or the local one)

Who runs where: the local Bot API server (`bot.botapi.LocalBotApi`) and the simulated families
live in this process; the bot runs as its own process, started the way `achterban run` starts
(a config file, `python -m bot run --config ...`, as tests/e2e/test_crash.py does), so on two
cores the bot and the server each get one. The database is a SQLite file in a temporary
folder, or with a PostgreSQL URL a database of its own created beside the one named and
dropped afterwards. Both the bot and the ceiling get `messages_per_second = --rate` (1,000,
the most the config allows, so that the rate limiter does not decide the outcome; with the
default of 30 it does: see --rate 30).

One repetition: a poll with one yes/no question is opened for every family; the bot starts
and its outbox sends the question; a few families tap "Ja" one after another (warm-up), then
`--solo` families one at a time (the latency of a tap with nothing else going on), then
`--families` families all at once (the burst). The bot stops, and the ceiling starts in its
place: a bare python-telegram-bot Application whose only handler is a CallbackQueryHandler,
fed by the same polling loop (`bot.run.polling.poll_until`: a batch of up to 100 updates handled
side by side, one lane per user), with the same rate limiter as the bot
(`bot.delivery.rate.SendLimiter`) and the same rate. The same families tap the same
buttons twice more: "answer" only calls `query.answer()` (the framework's ceiling), "same
calls" makes the Telegram calls our bot makes for an answer (answerCallbackQuery with a toast,
editMessageText, sendMessage) without any database, to tell Telegram calls from our own work.

Measured in the server: a tap starts when its update is queued (available to getUpdates).
"Stored" is when the bot's answerCallbackQuery for it arrives: bot/family/answering.py
`_store` commits its unit of work and only then does handlers/ui.py `show` answer the
query, so the answer is in
the database by then (checked: the poll has one answer per family afterwards). "Done" is when
the update is confirmed (the next getUpdates offset), after the edit and the next message.
answers/s = burst size / (last answerCallbackQuery - first tap). The bot's CPU time during
the burst (user + system, /proc) is reported per answer: less noisy than wall time when other
work shares the machine (with PostgreSQL the server's own CPU is not in it). The targets are
printed against the "same calls" ceiling: answers/s at least 0.7 of its, bot CPU per answer at
most 1.5 times its. The ceiling gets the bot's `Defaults` (HTML, no link previews), so its
calls carry the same parameters.

With --profile PATH one more burst of the bot runs under pyinstrument (a development tool:
`pip install -e '.[bench]'`), from just before the taps until the last was confirmed; the
text written to PATH (with -sqlite / -postgresql added) starts with the main thread's time
per package and the SQL statements sent, then pyinstrument's call tree. `ceiling-bot` and
`profiled-bot` are this module's helper processes, not meant to be started by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select

from bench.common import (
    COUNCIL,
    RESULTS,
    ROOT,
    cpu_seconds,
    machine,
    median,
    percentile,
    print_table,
    scratch_database,
    start_bot,
    start_process,
    stop_process,
    write_config,
    write_json,
)
from bot.botapi import LocalBotApi, SimUser
from bot.botapi.markup import inline_buttons
from bot.botapi.simuser import bot_messages
from bot.botapi.state import StoredMessage
from storage.db import Database
from storage.models import Answer, Question
from tests.builders import open_poll_now, populate

DEFAULT_JSON = RESULTS / "answers.json"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"
QUESTION = [{"kind": "yes_no", "text": "Gaat het goed met je?"}]
YES = "Ja"
SAVED = "Bewaard ✓"  # bot/texts/nl.toml [poll] saved: the toast of a first answer
WARM = 5
FIRST_ID = 3_000_000
RATE = 1000  # messages_per_second: the highest the config allows, so the limiter hardly binds
WITHIN = 120.0
PING = "bench:ping"
ME = "bench.answers"


@dataclass
class Tap:
    """One callback query, timed in the server (time.perf_counter)."""

    update_id: int
    put: float
    handed: float | None = None
    answered: float | None = None
    toast: str | None = None
    answer: asyncio.Future[str | None] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Button:
    """Where a family taps: the question message and its "Ja" button's data."""

    user: SimUser
    message: StoredMessage
    data: str


@dataclass
class Phase:
    """The figures of one kind of handler in one repetition."""

    who: str
    burst: int
    answers_per_s: float
    done_per_s: float
    p50_ms: float
    p99_ms: float
    queued_p50_ms: float
    solo_p50_ms: float
    cpu_ms_per_answer: float | None
    server_cpu_ms_per_answer: float
    toasts_wrong: int


class Recorder:
    """Queues taps on the local server and notes when each is handed out and answered."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api
        self.taps: dict[int, Tap] = {}
        api.queue.on_hand_out = self._handed

    def tap(self, button: Button, data: str | None = None) -> Tap:
        put = time.perf_counter()
        update_id, answer = button.user.queue_callback(
            button.user.chat, button.message, data or button.data, YES
        )
        tap = Tap(update_id=update_id, put=put, answer=answer)
        answer.add_done_callback(lambda done: self._answered(tap, done))
        self.taps[update_id] = tap
        return tap

    async def settled(self, taps: Sequence[Tap]) -> float:
        """Wait until every tap was answered and confirmed; the moment the last was confirmed."""
        waits = [tap.answer for tap in taps if tap.answer is not None]
        await asyncio.wait_for(asyncio.gather(*waits), WITHIN)
        await asyncio.gather(*(self.api.queue.wait_confirmed(t.update_id, WITHIN) for t in taps))
        return time.perf_counter()

    def _handed(self, batch: list[dict[str, object]]) -> None:
        now = time.perf_counter()
        for update in batch:
            tap = self.taps.get(int(update["update_id"]))  # type: ignore[call-overload]
            if tap is not None and tap.handed is None:
                tap.handed = now

    @staticmethod
    def _answered(tap: Tap, done: asyncio.Future[str | None]) -> None:
        tap.answered = time.perf_counter()
        tap.toast = None if done.cancelled() or done.exception() else done.result()


async def solo(recorder: Recorder, buttons: Sequence[Button], data: str | None) -> list[Tap]:
    """One tap at a time: each waits until the one before was answered and confirmed."""
    taps = []
    for button in buttons:
        tap = recorder.tap(button, data)
        await recorder.settled([tap])
        taps.append(tap)
    await recorder.api.wait_idle(quiet=0.05, within=WITHIN)
    return taps


async def burst(
    recorder: Recorder, buttons: Sequence[Button], data: str | None, pid: int
) -> tuple[list[Tap], float, float | None, float]:
    """Everyone taps at once; the taps, when the last was confirmed, and the CPU seconds of
    the bot and of this process (the server) meanwhile."""
    cpu_before, server_before = cpu_seconds(pid), time.process_time()
    taps = [recorder.tap(button, data) for button in buttons]
    confirmed = await recorder.settled(taps)
    cpu_after, server = cpu_seconds(pid), time.process_time() - server_before
    await recorder.api.wait_idle(quiet=0.05, within=WITHIN)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return taps, confirmed, cpu, server


async def measure(
    who: str,
    recorder: Recorder,
    families: tuple[Sequence[Button], Sequence[Button], Sequence[Button]],
    *,
    pid: int,
    data: str | None = None,
    expected_toast: str | None,
    during_burst: tuple[Callable[[], None], Callable[[], None]] | None = None,
) -> Phase:
    """Warm up, time single taps, then the burst; `data` replaces the buttons' data."""
    warm, single, crowd = families
    await solo(recorder, warm, data)
    singles = await solo(recorder, single, data)
    if during_burst:
        during_burst[0]()
    taps, confirmed, cpu, server = await burst(recorder, crowd, data, pid)
    if during_burst:
        during_burst[1]()
    start = min(tap.put for tap in taps)
    last = max(tap.answered or confirmed for tap in taps)
    latencies = [((tap.answered or confirmed) - tap.put) * 1000 for tap in taps]
    queued = [((tap.handed or tap.put) - tap.put) * 1000 for tap in taps]
    wrong = sum(tap.toast != expected_toast for tap in [*singles, *taps])
    return Phase(
        who=who,
        burst=len(taps),
        answers_per_s=round(len(taps) / (last - start), 1),
        done_per_s=round(len(taps) / (confirmed - start), 1),
        p50_ms=round(percentile(latencies, 0.5), 1),
        p99_ms=round(percentile(latencies, 0.99), 1),
        queued_p50_ms=round(percentile(queued, 0.5), 1),
        solo_p50_ms=round(median([((t.answered or t.put) - t.put) * 1000 for t in singles]), 1),
        cpu_ms_per_answer=round(cpu * 1000 / len(taps), 2) if cpu is not None else None,
        server_cpu_ms_per_answer=round(server * 1000 / len(taps), 2),
        toasts_wrong=wrong,
    )


def question_buttons(api: LocalBotApi, ids: Sequence[int]) -> list[Button]:
    """Each family's newest "Ja" button (the question just sent)."""
    found = []
    for telegram_id in ids:
        user = api.user(telegram_id)
        message, data = next(
            (message, button.callback_data)
            for message in reversed(bot_messages(user.chat))
            for row in inline_buttons(message.reply_markup)
            for button in row
            if button.text == YES and button.callback_data
        )
        found.append(Button(user, message, data))
    return found


async def until(condition: Callable[[], bool], *, what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {within:g}s")
        await asyncio.sleep(0.05)


async def until_polling(api: LocalBotApi, process: Any) -> None:
    def polling() -> bool:
        if process.poll() is not None:
            raise SystemExit(f"bench: the process exited with {process.returncode}; see its log")
        return api.queue.poller_busy

    await until(polling, what="a long poll (getUpdates) from the started process")


async def stored_answers(db: Database, poll_id: int) -> int:
    async with db.read() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.poll_id == poll_id)
        )
    return found or 0


@dataclass
class Bench:
    """One database: the server, the families and the bot's config."""

    api: LocalBotApi
    db: Database
    config: Path
    log: IO[bytes]
    ids: list[int]
    solo_count: int
    buttons: list[Button] = field(default_factory=list)

    def groups(self, buttons: list[Button]) -> tuple[list[Button], list[Button], list[Button]]:
        split = WARM + self.solo_count
        return buttons[:WARM], buttons[WARM:split], buttons[split:]


async def our_bot(bench: Bench, recorder: Recorder, *, profile: Path | None) -> Phase:
    """Open a poll, start the bot, let it send the question, then time the taps."""
    poll_id = await open_poll_now(bench.db, questions=QUESTION, council=COUNCIL.slug)
    mark = len(bench.api.sends)
    arguments = ["-m", ME, "profiled-bot", "--config", str(bench.config), "--out", str(profile)]
    process = (
        start_process(arguments, log=bench.log)
        if profile
        else start_bot(bench.config, log=bench.log)
    )
    try:
        everyone = set(bench.ids)
        await until(
            lambda: everyone <= {s.chat_id for s in bench.api.sends[mark:] if s.action == "send"},
            what="the question sent to every family",
        )
        await until_polling(bench.api, process)
        await bench.api.wait_idle(quiet=0.2, within=WITHIN)
        buttons = question_buttons(bench.api, bench.ids)
        marks = None
        if profile:
            marks = (
                lambda: process.send_signal(signal.SIGUSR1),
                lambda: process.send_signal(signal.SIGUSR2),
            )
        phase = await measure(
            "achterban",
            recorder,
            bench.groups(buttons),
            pid=process.pid,
            expected_toast=SAVED,
            during_burst=marks,
        )
    finally:
        await stop_process(process)
    stored = await stored_answers(bench.db, poll_id)
    if stored != len(bench.ids):
        raise SystemExit(f"bench: {stored} answers stored for {len(bench.ids)} taps")
    bench.buttons = buttons
    return phase


async def ceiling(bench: Bench, recorder: Recorder, rate: int) -> list[Phase]:
    """The bare Application on the same buttons: answer only, then the same Telegram calls."""
    arguments = ["-m", ME, "ceiling-bot", "--token", bench.api.token]
    arguments += ["--base-url", bench.api.base_url, "--rate", str(rate)]
    process = start_process(arguments, log=bench.log)
    try:
        await until_polling(bench.api, process)
        groups = bench.groups(bench.buttons)
        answer = await measure(
            "ceiling: answer", recorder, groups, pid=process.pid, data=PING, expected_toast=None
        )
        same = await measure(
            "ceiling: same calls", recorder, groups, pid=process.pid, expected_toast=SAVED
        )
    finally:
        await stop_process(process)
    return [answer, same]


async def bench_database(
    server: str | None,
    *,
    families: int,
    solo_count: int,
    reps: int,
    rate: int,
    profile: Path | None,
) -> dict[str, Any]:
    name = f"bench_answers_{os.getpid()}"
    async with (
        scratch_database(server, name) as db,
        LocalBotApi() as api,
    ):
        count = WARM + solo_count + families
        ids = await populate(db, count=count, first_id=FIRST_ID, council=COUNCIL.slug)
        for telegram_id in ids:
            api.user(telegram_id)
        with tempfile.TemporaryDirectory() as folder, (Path(folder) / "bot.log").open("wb") as log:
            config = write_config(
                Path(folder),
                token=api.token,
                base_url=api.base_url,
                db=db,
                messages_per_second=rate,
            )
            bench = Bench(api, db, config, log, ids, solo_count)
            recorder = Recorder(api)
            phases: list[list[Phase]] = []
            try:
                for rep in range(reps):
                    ours = await our_bot(bench, recorder, profile=None)
                    phases.append([ours, *await ceiling(bench, recorder, rate)])
                    print(f"  repetition {rep + 1}/{reps} done", file=sys.stderr, flush=True)
                if profile:
                    await our_bot(bench, recorder, profile=profile)
                    print(f"  profile of one burst: {profile}", file=sys.stderr)
            except BaseException:
                log.flush()
                tail = (Path(folder) / "bot.log").read_text(errors="replace")[-3000:]
                print(f"--- the bot's log (end) ---\n{tail}", file=sys.stderr)
                raise
    return summary(phases, database="SQLite" if server is None else "PostgreSQL")


def summary(phases: list[list[Phase]], *, database: str) -> dict[str, Any]:
    """Medians over the repetitions, and the ratios taken within each repetition."""

    def med(who: int, name: str) -> float | None:
        values = [getattr(rep[who], name) for rep in phases]
        return None if None in values else round(median(values), 2)

    names = [phase.who for phase in phases[0]]
    fields = [f for f in Phase.__dataclass_fields__ if f not in ("who", "burst")]
    medians = {who: {f: med(index, f) for f in fields} for index, who in enumerate(names)}
    ratio = median([rep[0].answers_per_s / rep[1].answers_per_s for rep in phases])
    ratio_same = median([rep[0].answers_per_s / rep[2].answers_per_s for rep in phases])
    cpu = [rep for rep in phases if all(phase.cpu_ms_per_answer for phase in rep)]
    cpu_ratio = median([r[1].cpu_ms_per_answer / r[0].cpu_ms_per_answer for r in cpu]) if cpu else 0
    cpu_same = median([r[0].cpu_ms_per_answer / r[2].cpu_ms_per_answer for r in cpu]) if cpu else 0
    return {
        "database": database,
        "burst": phases[0][0].burst,
        "medians": medians,
        "ratio": round(ratio, 3),
        "ratio_same_calls": round(ratio_same, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "cpu_vs_same_calls": round(cpu_same, 3),
        "repetitions": [[asdict(phase) for phase in rep] for rep in phases],
    }


HEADER = (
    "database",
    "who",
    "answers/s",
    "done/s",
    "p50 ms",
    "p99 ms",
    "queued p50",
    "solo p50 ms",
    "bot cpu ms",
    "server cpu ms",
)


def print_report(reports: list[dict[str, Any]]) -> None:
    rows = []
    for report in reports:
        for who, m in report["medians"].items():
            cpu = m["cpu_ms_per_answer"]
            rows.append(
                (
                    report["database"],
                    who,
                    m["answers_per_s"],
                    m["done_per_s"],
                    m["p50_ms"],
                    m["p99_ms"],
                    m["queued_p50_ms"],
                    m["solo_p50_ms"],
                    "-" if cpu is None else cpu,
                    m["server_cpu_ms_per_answer"],
                )
            )
    print(
        f"\nmedians of {len(reports[0]['repetitions'])} repetitions; burst of"
        f" {reports[0]['burst']} families tapping at once"
    )
    print_table(HEADER, rows)
    print()
    for report in reports:
        print(
            f"{report['database']}: answers/s achterban / same calls ="
            f" {report['ratio_same_calls']:.2f} (target >= 0.7); bot CPU per answer achterban /"
            f" same calls = {report['cpu_vs_same_calls']:.2f} (target <= 1.5); achterban /"
            f" ceiling (answer only) = {report['ratio']:.2f}"
        )
        wrong = sum(p["toasts_wrong"] for rep in report["repetitions"] for p in rep)
        if wrong:
            print(f"  {wrong} taps got an unexpected toast (an error?): see the JSON")


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    servers: list[str | None] = [None]
    if args.database_url:
        servers = [args.database_url]
    if args.both:
        servers = [None, args.database_url or os.environ.get("DATABASE_URL") or DEFAULT_POSTGRESQL]
    if args.profile and importlib.util.find_spec("pyinstrument") is None:
        raise SystemExit("--profile needs pyinstrument: pip install -e '.[bench]'")
    reports = []
    for server in servers:
        print(f"{'SQLite' if server is None else 'PostgreSQL'}:", file=sys.stderr, flush=True)
        profile = None
        if args.profile:
            suffix = "sqlite" if server is None else "postgresql"
            profile = args.profile.with_name(f"{args.profile.stem}-{suffix}{args.profile.suffix}")
        reports.append(
            await bench_database(
                server,
                families=args.families,
                solo_count=args.solo,
                reps=args.reps,
                rate=args.rate,
                profile=profile,
            )
        )
    return reports


# The two helper processes this bench starts besides `python -m bot run`.


async def ceiling_tapped(update: Any, context: Any) -> None:
    """The ceiling's only handler: answer; for our buttons also edit and send like our bot."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    query = update.callback_query
    if query.data == PING:
        await query.answer()
        return
    await query.answer(SAVED)
    change = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Antwoord veranderen", callback_data="x")]]
    )
    text = (
        f"<b>Vraag 1 van 1</b>\n\nGaat het goed met je?\n\n✓ Jouw antwoord: Ja ({update.update_id})"
    )
    await query.edit_message_text(text, reply_markup=change, parse_mode="HTML")
    await update.effective_chat.send_message(
        "Dank je wel! Dat was de laatste vraag.", parse_mode="HTML"
    )


async def serve_ceiling(token: str, base_url: str, rate: int) -> None:
    """A bare Application: one CallbackQueryHandler, our polling loop, the same rate limiter."""
    from telegram import LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, Defaults

    from bot.delivery.health import Outage
    from bot.delivery.rate import SendLimiter
    from bot.run.polling import poll_until

    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .defaults(  # the bot's, so that its calls carry the same parameters
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(SendLimiter(per_second=rate, telegram=Outage("Telegram")))
        .updater(None)
        .build()
    )
    app.add_handler(CallbackQueryHandler(ceiling_tapped))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with app:
        await app.start()
        await poll_until(app, stop)
        await app.stop()


def run_profiled_bot(config: str, out: Path) -> int:
    """`achterban run`, profiled by pyinstrument from SIGUSR1 until SIGUSR2 (one burst): the
    main thread's time by package, the SQL statements sent, and pyinstrument's call tree."""
    from pyinstrument import Profiler
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from bot.__main__ import main as achterban

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    statements: Counter[str] = Counter()
    cpu = [0.0]

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if profiler.is_running:
            statements[_statement_kind(statement)] += 1

    def started(*_: object) -> None:
        cpu[0] = time.process_time()
        profiler.start()

    def stopped(*_: object) -> None:
        session = profiler.stop()
        used = time.process_time() - cpu[0]
        lines = [f"process CPU (all threads): {used:.2f} s", "", "main thread by package:"]
        packages = _by_package(session.root_frame(trim_stem=False))
        total = sum(packages.values())
        for name, seconds in packages.most_common(14):
            lines.append(f"  {seconds:7.2f} s  {seconds / total:6.1%}  {name}")
        lines += ["", f"SQL statements: {statements.total()}"]
        lines += [f"  {n:6}  {kind}" for kind, n in statements.most_common()]
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n" + tree)

    event.listen(Engine, "before_cursor_execute", count)
    signal.signal(signal.SIGUSR1, started)
    signal.signal(signal.SIGUSR2, stopped)
    return achterban(["run", "--config", config])


def _statement_kind(statement: str) -> str:
    """ "SELECT answer", "INSERT respondent", "BEGIN", ...: the verb and the first table."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.IGNORECASE)
    return f"{verb} {table.group(1)}" if table and verb != "BEGIN" else verb


def _by_package(root: Any) -> Counter[str]:
    """Self time of the frame tree per package (built-ins count for their caller's package;
    waiting in epoll is "(idle)")."""
    found: Counter[str] = Counter()
    stack = [(root, "?")]
    while stack:
        frame, inherited = stack.pop()
        if frame is None:
            continue
        own = _package(frame.file_path)
        package = own or ("(idle)" if inherited == "selectors" else inherited)
        found[package] += frame.time - sum(child.time for child in frame.children)
        stack.extend((child, package) for child in frame.children)
    return found


def _package(path: str | None) -> str | None:
    if not path or path.startswith("<"):
        return None
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    if Path(path).is_relative_to(ROOT):
        return Path(path).relative_to(ROOT).parts[0] + " (ours)"
    python = next((i for i, part in enumerate(parts) if part.startswith("python3")), None)
    if python is not None and python + 1 < len(parts):
        return parts[python + 1].removesuffix(".py")
    return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {ME}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite)")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--families", type=int, default=200, help="the burst (default 200)")
    parser.add_argument("--solo", type=int, default=20, help="single taps timed (default 20)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--rate", type=int, default=RATE, help="messages_per_second of both")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--profile", type=Path, help="also profile one burst of the bot (text)")
    return parser.parse_args(argv)


def helper(argv: list[str]) -> int:
    """The helper processes: `ceiling-bot` and `profiled-bot`."""
    parser = argparse.ArgumentParser(prog=f"python -m {ME} {argv[0]}")
    if argv[0] == "ceiling-bot":
        for name in ("--token", "--base-url", "--rate"):
            parser.add_argument(name, required=True)
        args = parser.parse_args(argv[1:])
        asyncio.run(serve_ceiling(args.token, args.base_url, int(args.rate)))
        return 0
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv[1:])
    return run_profiled_bot(args.config, args.out)


if __name__ == "__main__":
    if sys.argv[1:2] in (["ceiling-bot"], ["profiled-bot"]):
        raise SystemExit(helper(sys.argv[1:]))
    arguments = parse_args()
    if arguments.database_url and arguments.database_url.startswith("sqlite"):
        raise SystemExit("SQLite is the default: leave out --database-url (a temp file is used)")
    found = asyncio.run(main(arguments))
    print_report(found)
    write_json(arguments.json, {"machine": machine(), "rate": arguments.rate, "databases": found})
