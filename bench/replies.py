"""Whether families' taps still get their next message fast while a round goes out at the
default rate, and whether the bot stays under Telegram's rate meanwhile.

    python -m bench.replies [--database-url URL] [--recipients 10000] [--rate 30]
                            [--share 0.25] [--seed 1] [--quick] [--json PATH]

Who runs where: the local Bot API server (`bot.botapi.LocalBotApi`) and the simulated families
live in this process; the bot runs as its own process, started the way `achterban run` starts
(a config file, `python -m bot run --config ...`, as bench/answers.py does), with
`messages_per_second = --rate` (default: the configured default,
`TelegramSettings.messages_per_second`, 30). The database is a SQLite file in a temporary
folder, or with a PostgreSQL URL a database of its own created beside the one named and
dropped afterwards. It holds `--recipients` signed-up families (10,000: about 8 minutes;
--quick: 1,000, about a minute; a quarter tapping makes a third of the calls replies, so the
round itself goes at about two thirds of the rate), a council member whose chat shows the
round's progress message (as when a poll is sent with /nieuw; its edits count toward the rate
too), and a poll with two yes/no questions opened for every family before the bot starts, so
its outbox sends question 1 to everyone as soon as it runs.

The people: a random `--share` of the families (a quarter; `--seed` makes the choice and the
delays repeatable) answer as people do. When question 1 arrives at the server in such a
family's chat, the family taps "Ja" a uniformly random 1-2 s later (a callback query queued
for getUpdates, as `SimUser.tap_nowait` does). The bot then answers the query (the toast),
edits question 1 to show the answer and sends question 2: the next message. The others never
tap. The bench ends when every family has question 1 and every tap its next message, and
fails loudly (with the end of the bot's log) if that takes longer than three times what the
round alone would take plus a minute, or if the bot exits; afterwards the database must hold
every delivery as sent and one answer per tap.

How each number is measured, all on the server's clock (time.monotonic()):
- tap → next message: from when the tap's update is queued at the server to when the bot's
  next sendMessage to that chat arrives there (`LocalBotApi.arrivals`, failed attempts left
  out; where the server keeps no arrivals, when it stored the message). It must carry
  question 2, or it is counted as a "wrong next message". The same for the edit of question
  1; the toast is when answerCallbackQuery answered the query (it names no chat, so it is
  neither in the arrivals nor in the rate); "handed out" is when getUpdates gave the update
  to the bot, polling's share of the wait. p50 and p99 are nearest-rank percentiles over all
  taps; the target is p99 < 1 s.
- the rate: every call that names a chat (chat_id), failed or not, as it arrives at the
  server (where the server keeps no arrivals: the sends and edits it stored, which the
  output says). Busiest second = the most such calls in any sliding one-second window while
  the bot ran (target: at most --rate); "seconds over" = whole seconds, counted from the
  first question 1, holding more than --rate of them.
- the round's rate: question 1 sends per second between the first and the last
  (intervals / span), and the same over the configured rate.
- bulk + replies together: all chat_id calls from the first question 1 up to (not including)
  the last, per second of that span, over the configured rate (target >= 0.9: while there is
  work, the bot uses the rate it may use).
- CPU: the bot's process (user + system, /proc, every thread) and this process (the server
  and the families), seconds of CPU per second from the first question 1 to the last next
  message (1.0 = one core busy).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, update

from bench.common import (
    COUNCIL,
    RESULTS,
    cpu_seconds,
    machine,
    percentile,
    print_table,
    scratch_database,
    start_bot,
    stop_process,
    write_config,
    write_json,
)
from bot.botapi import LocalBotApi
from bot.botapi.markup import inline_buttons
from bot.botapi.state import StoredMessage
from bot.config import TelegramSettings
from storage.db import Database
from storage.models import Answer, Delivery, DeliveryStatus, Question, Round
from tests.builders import open_poll_now, populate

DEFAULT_JSON = RESULTS / "replies.json"
DEFAULT_RATE = int(TelegramSettings().messages_per_second)
RECIPIENTS = 10_000
QUICK = 1_000
SHARE = 0.25
DELAY = (1.0, 2.0)  # seconds between question 1 arriving and a family's tap
FIRST_ID = 5_000_000
MANAGER_ID = 1_000  # the council member who sent the poll: their chat shows the progress
FIRST, SECOND = "Gaat het goed met je?", "Heb je vannacht goed geslapen?"
QUESTIONS = [{"kind": "yes_no", "text": FIRST}, {"kind": "yes_no", "text": SECOND}]
YES = "Ja"
SAVED = "Bewaard ✓"  # bot/texts/nl.toml [poll] saved: the toast of a first answer
P99_TARGET_MS = 1_000.0
TOGETHER_TARGET = 0.9
STARTUP = 60.0  # seconds the bot may take to start sending, besides the round itself
ME = "bench.replies"

Call = tuple[float, str, int | None, bool | None]
"""A call to the server that names a chat: when it arrived, the method, the chat id, and
whether it succeeded (None: not answered yet)."""


@dataclass
class Family:
    """One family's chat, timed on the server's clock (time.monotonic())."""

    chat_id: int
    taps: bool
    delay: float
    asked: float | None = None  # question 1 arrived
    asked_right: bool = True  # ... and it was question 1
    put: float | None = None  # the tap was queued
    handed: float | None = None  # getUpdates handed it to the bot
    toast: float | None = None  # answerCallbackQuery
    toast_text: str | None = None
    next_at: float | None = None  # the next message was stored
    next_right: bool | None = None  # ... and it was question 2


class Server(LocalBotApi):
    """The local Bot API server, with families that tap a while after question 1 arrives.

    A subclass rather than a patch: the server calls `note_bot_message` for every send and
    edit it stores, which is exactly when a person would see the message."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng
        self.families: dict[int, Family] = {}
        self.by_update: dict[int, Family] = {}
        self.pending_taps: set[asyncio.TimerHandle] = set()
        self.first_asked: float | None = None
        self.asked = 0  # families that have question 1
        self.answered = 0  # taps with their toast and next message
        self.last_moment = 0.0  # when the last of those arrived
        self.on_first_asked: list[Callable[[], None]] = []
        self.queue.on_hand_out = self._handed

    def add_families(self, ids: Sequence[int], share: float) -> None:
        tapping = set(self.rng.sample(list(ids), round(share * len(ids))))
        for chat_id in ids:
            self.user(chat_id)
            delay = self.rng.uniform(*DELAY) if chat_id in tapping else 0.0
            self.families[chat_id] = Family(chat_id, chat_id in tapping, delay)

    def note_bot_message(self, message: StoredMessage, action: str) -> None:
        super().note_bot_message(message, action)
        family = self.families.get(message.chat.id)
        if family is None or action == "delete":
            return
        now = time.monotonic()
        text = message.text or ""
        if family.asked is None and action == "send":
            family.asked, family.asked_right = now, FIRST in text
            self.asked += 1
            self.last_moment = now
            if self.first_asked is None:
                self.first_asked = now
                for callback in self.on_first_asked:
                    callback()
            if family.taps:
                handle = asyncio.get_running_loop().call_later(
                    family.delay, self._tap, family, message
                )
                self.pending_taps.add(handle)
        elif family.put is not None and action == "send" and family.next_at is None:
            family.next_at, family.next_right = now, SECOND in text
            self._maybe_answered(family, now)

    def _tap(self, family: Family, message: StoredMessage) -> None:
        """The family taps "Ja" on question 1."""
        data = next(
            button.callback_data
            for row in inline_buttons(message.reply_markup)
            for button in row
            if button.text == YES and button.callback_data
        )
        user = self.users[family.chat_id]
        family.put = time.monotonic()
        update_id, answer = user.queue_callback(user.chat, message, data, YES)
        self.by_update[update_id] = family
        answer.add_done_callback(lambda done: self._toasted(family, done))

    def _toasted(self, family: Family, answer: asyncio.Future[str | None]) -> None:
        family.toast = time.monotonic()
        if not answer.cancelled() and answer.exception() is None:
            family.toast_text = answer.result()
        self._maybe_answered(family, family.toast)

    def _maybe_answered(self, family: Family, now: float) -> None:
        if family.toast is not None and family.next_at is not None:
            self.answered += 1
            self.last_moment = max(self.last_moment, now)

    def _handed(self, batch: list[dict[str, object]]) -> None:
        now = time.monotonic()
        for handed in batch:
            family = self.by_update.get(handed["update_id"])  # type: ignore[call-overload]
            if family is not None and family.handed is None:
                family.handed = now

    def chat_calls(self) -> tuple[list[Call], str]:
        """Every call that names a chat as it arrived, in order, and where that was read from:
        the server's arrivals, or where it keeps none, the sends and edits it stored."""
        arrivals = getattr(self, "arrivals", None)
        if arrivals is not None:
            calls = [(a.at, a.method, a.chat_id, a.ok) for a in arrivals]
            return sorted(calls, key=lambda call: call[0]), "arrivals"
        methods = {"send": "sendMessage", "edit": "editMessageText"}
        calls = [(r.at, methods.get(r.action, r.action), r.chat_id, True) for r in self.sends]
        return sorted(calls, key=lambda call: call[0]), "sends and edits (it keeps no arrivals)"


@dataclass
class Latency:
    what: str
    count: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def latency(what: str, pairs: Sequence[tuple[float | None, float | None]]) -> Latency:
    values = [(end - start) * 1000 for start, end in pairs if start is not None and end is not None]
    if not values:
        return Latency(what, 0, None, None, None)
    return Latency(
        what,
        len(values),
        round(percentile(values, 0.5), 1),
        round(percentile(values, 0.99), 1),
        round(max(values), 1),
    )


def most_in_window(moments: Sequence[float], window: float = 1.0) -> int:
    """The most moments (sorted) in any sliding window of `window` seconds."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moments[first] <= moment - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def per_second(moments: Sequence[float], start: float) -> Counter[int]:
    """How many moments fall in each whole second counted from `start`."""
    return Counter(math.floor(moment - start) for moment in moments)


async def until_done(server: Server, process: subprocess.Popen[bytes], within: float) -> float:
    """Wait until every family has question 1 and every tap its toast and next message; the
    moment the last of them arrived. Fails loudly on a timeout or when the bot exits."""
    families = len(server.families)
    tapping = sum(f.taps for f in server.families.values())
    deadline = time.monotonic() + within
    while server.asked < families or server.answered < tapping:
        if process.poll() is not None:
            raise SystemExit(f"{ME}: the bot exited with {process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{ME}: the round did not complete within {within:g} s: question 1 in"
                f" {server.asked}/{families} chats, {server.answered}/{tapping} taps answered"
            )
        await asyncio.sleep(0.1)
    return server.last_moment


async def check_database(db: Database, poll_id: int, *, recipients: int, taps: int) -> None:
    """Every delivery sent, one answer per tap: or the figures mean nothing."""
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        statuses = {str(status): count for status, count in rows}
        answers = await session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.poll_id == poll_id)
        )
    if statuses.get(DeliveryStatus.sent.value, 0) != recipients:
        raise SystemExit(f"{ME}: not every delivery was sent: {statuses}")
    if answers != taps:
        raise SystemExit(f"{ME}: {answers} answers stored for {taps} taps")


async def run(
    server_url: str | None, *, recipients: int, rate: int, share: float, seed: int
) -> dict[str, Any]:
    server = Server(random.Random(seed))
    async with scratch_database(server_url, f"bench_replies_{os.getpid()}") as db:
        await server.start()
        try:
            ids = await populate(db, count=recipients, first_id=FIRST_ID, council=COUNCIL.slug)
            server.add_families(ids, share)
            server.user(MANAGER_ID)
            poll_id = await open_poll_now(db, questions=QUESTIONS, council=COUNCIL.slug)
            async with db.begin() as session:
                await session.execute(
                    update(Round)
                    .where(Round.poll_id == poll_id)
                    .values(progress_chat_id=MANAGER_ID)
                )
            with tempfile.TemporaryDirectory() as folder:
                log_path = Path(folder) / "bot.log"
                with log_path.open("wb") as log:
                    config = write_config(
                        Path(folder),
                        token=server.token,
                        base_url=server.base_url,
                        db=db,
                        messages_per_second=rate,
                    )
                    try:
                        found = await measure(server, config, log, rate=rate)
                    except BaseException:
                        log.flush()
                        tail = log_path.read_text(errors="replace")[-3000:]
                        print(f"--- the bot's log (end) ---\n{tail}", file=sys.stderr)
                        raise
            taps = sum(f.taps for f in server.families.values())
            await check_database(db, poll_id, recipients=recipients, taps=taps)
        finally:
            for handle in server.pending_taps:
                handle.cancel()
            await server.stop()
    found["database"] = "SQLite" if server_url is None else "PostgreSQL"
    return found


async def measure(server: Server, config: Path, log: IO[bytes], *, rate: int) -> dict[str, Any]:
    """Start the bot, let the round go out and the families tap; the figures."""
    recipients = len(server.families)
    within = STARTUP + 3 * recipients / rate
    process = start_bot(config, log=log)
    cpu_at_start: list[float | None] = []

    def first_asked() -> None:
        cpu_at_start.extend((cpu_seconds(process.pid), time.process_time()))

    server.on_first_asked.append(first_asked)
    started = time.monotonic()
    try:
        done = await until_done(server, process, within)
        bot_cpu, own_cpu = cpu_seconds(process.pid), time.process_time()
        await server.wait_idle(quiet=0.5, within=30.0)  # the progress message's last edit
        ended = time.monotonic()
    finally:
        exit_code = await stop_process(process)
    if exit_code:
        print(f"{ME}: the bot exited with {exit_code} on SIGTERM", file=sys.stderr)
    calls, source = server.chat_calls()
    calls = [call for call in calls if started <= call[0] <= ended]
    return figures(server, calls, source, rate=rate, started=started) | {
        "wall_s": round(done - (server.first_asked or started), 2),
        "bot_cpu": per_wall(cpu_at_start[0] if cpu_at_start else None, bot_cpu, server, done),
        "server_cpu": per_wall(cpu_at_start[1] if cpu_at_start else None, own_cpu, server, done),
        "bot_exit_code": exit_code,
    }


def per_wall(
    before: float | None, after: float | None, server: Server, done: float
) -> float | None:
    """CPU seconds per second from the first question 1 to the last next message."""
    if before is None or after is None or server.first_asked is None or done <= server.first_asked:
        return None
    return round((after - before) / (done - server.first_asked), 2)


def figures(
    server: Server, calls: list[Call], source: str, *, rate: int, started: float
) -> dict[str, Any]:
    """The report's numbers from the calls that named a chat and the families' taps."""
    by_chat: dict[int | None, list[Call]] = {}
    for call in calls:
        by_chat.setdefault(call[2], []).append(call)

    def after(chat_id: int, moment: float | None, prefix: str) -> float | None:
        """When the first successful call to the chat whose method starts with `prefix`
        arrived, at or after `moment`."""
        if moment is None:
            return None
        return next(
            (
                at
                for at, method, _, ok in by_chat.get(chat_id, [])
                if at >= moment and method.startswith(prefix) and ok is not False
            ),
            None,
        )

    families = list(server.families.values())
    tapped = [f for f in families if f.taps]
    asked = sorted(a for f in families if (a := after(f.chat_id, 0.0, "sendMessage")) is not None)
    if len(asked) != len(families):
        raise SystemExit(f"{ME}: {len(asked)} of {len(families)} question 1 sends in the {source}")
    first, last = asked[0], asked[-1]
    span = last - first
    during = [call for call in calls if first <= call[0] < last]
    bulk_per_s = (len(asked) - 1) / span if span else 0.0
    together_per_s = len(during) / span if span else 0.0
    seconds = per_second([call[0] for call in calls], first)
    next_at = {f.chat_id: after(f.chat_id, f.put, "sendMessage") for f in tapped}
    edited = {f.chat_id: after(f.chat_id, f.put, "edit") for f in tapped}
    bulk_seconds = per_second(asked, first)
    replies = [m for f in tapped for m in (next_at[f.chat_id], edited[f.chat_id]) if m is not None]
    reply_seconds = per_second(replies, first)
    latencies = [
        latency("tap → next message", [(f.put, next_at[f.chat_id]) for f in tapped]),
        latency("tap → toast", [(f.put, f.toast) for f in tapped]),
        latency("tap → question 1 edited", [(f.put, edited[f.chat_id]) for f in tapped]),
        latency("tap → handed out", [(f.put, f.handed) for f in tapped]),
    ]
    server_busiest = getattr(server, "busiest_second", None)
    return {
        "recipients": len(families),
        "taps": len(tapped),
        "rate": rate,
        "rate_source": source,
        "latencies": [asdict(found) for found in latencies],
        "wrong_first_message": sum(not f.asked_right for f in families),
        "wrong_next_message": sum(f.next_right is False for f in tapped),
        "wrong_toast": sum(f.toast_text != SAVED for f in tapped),
        "busiest_second": most_in_window([call[0] for call in calls]),
        "busiest_second_by_server": server_busiest(since=started) if server_busiest else None,
        "seconds_over": sum(1 for count in seconds.values() if count > rate),
        "round_span_s": round(span, 2),
        "round_per_s": round(bulk_per_s, 2),
        "round_over_configured": round(bulk_per_s / rate, 3),
        "together_per_s": round(together_per_s, 2),
        "together_over_configured": round(together_per_s / rate, 3),
        "per_second": [
            {
                "second": second,
                "calls": seconds[second],
                "question_1": bulk_seconds[second],
                "replies": reply_seconds[second],
            }
            for second in sorted(seconds)
        ],
    }


def mark(ok: bool) -> str:
    return "✔" if ok else "✘"


def print_report(found: dict[str, Any]) -> None:
    rate = found["rate"]
    print(
        f"\n{found['database']}: a round to {found['recipients']} at {rate}/s;"
        f" {found['taps']} families tap a second or two after question 1 arrives"
    )
    print_table(
        ("latency", "taps", "p50 ms", "p99 ms", "max ms"),
        [
            (item["what"], item["count"], item["p50_ms"], item["p99_ms"], item["max_ms"])
            for item in found["latencies"]
        ],
    )
    p99 = found["latencies"][0]["p99_ms"]  # None: nobody tapped
    busiest, together = found["busiest_second"], found["together_over_configured"]
    print()
    print_table(
        ("what", "measured", "target", ""),
        [
            (
                "tap → next message p99",
                f"{shown(p99)} ms",
                f"< {P99_TARGET_MS:g} ms",
                mark(p99 is not None and p99 < P99_TARGET_MS),
            ),
            ("busiest second (chat calls)", busiest, f"<= {rate}", mark(busiest <= rate)),
            ("seconds over the limit", found["seconds_over"], "0", mark(not found["seconds_over"])),
            (
                "round's rate (question 1/s)",
                f"{found['round_per_s']} ({found['round_over_configured']} of {rate})",
                "-",
                "",
            ),
            (
                "bulk + replies / configured",
                f"{together} ({found['together_per_s']}/s)",
                f">= {TOGETHER_TARGET}",
                mark(together >= TOGETHER_TARGET),
            ),
            ("bot CPU (s per s)", shown(found["bot_cpu"]), "-", ""),
            ("server + families CPU (s per s)", shown(found["server_cpu"]), "-", ""),
        ],
    )
    print(f"\nrate counted from the server's {found['rate_source']}")
    for key, what in (
        ("wrong_first_message", "first messages were not question 1"),
        ("wrong_next_message", "next messages were not question 2 (an error?)"),
        ("wrong_toast", f"toasts were not {SAVED!r} (an error?)"),
    ):
        if found[key]:
            print(f"  {found[key]} {what}")


def shown(value: Any) -> Any:
    return "-" if value is None else value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=f"python -m {ME}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", help="PostgreSQL server to use (default: SQLite)")
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    parser.add_argument("--rate", type=int, default=DEFAULT_RATE, help="messages_per_second")
    parser.add_argument("--share", type=float, default=SHARE, help="of the families that tap")
    parser.add_argument("--seed", type=int, default=1, help="who taps, and when")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} recipients")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    if args.quick:
        args.recipients = min(args.recipients, QUICK)
    if not 0 < args.share <= 1:
        parser.error("--share is a fraction of the families: more than 0, at most 1")
    if args.database_url and args.database_url.startswith("sqlite"):
        parser.error("SQLite is the default: leave out --database-url (a temp file is used)")
    return args


async def main(args: argparse.Namespace) -> dict[str, Any]:
    found = await run(
        args.database_url,
        recipients=args.recipients,
        rate=args.rate,
        share=args.share,
        seed=args.seed,
    )
    return {"machine": machine(), "share": args.share, "seed": args.seed, **found}


if __name__ == "__main__":
    warnings.filterwarnings("ignore", r"\s+🚨 You probably want", DeprecationWarning)
    arguments = parse_args()
    report = asyncio.run(main(arguments))
    print_report(report)
    write_json(arguments.json, report)
