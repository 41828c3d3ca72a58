"""Answers per second and bot CPU per answer with one and with two handling processes on the
same PostgreSQL, in one run (the inbox: any process takes any update).

    python -m bench.handling [--families 400] [--reps 2] [--database-url postgresql://...]

One process is `achterban run` (it polls the local Bot API server, stores each update in the
inbox and handles what it takes); two are that and an `achterban worker` (which only takes
from the inbox). Each repetition opens a poll with one yes/no question for every family, lets
the outbox send it, warms up with a few taps, then every family taps "Ja" at once. answers/s
is the burst over the time from the first tap to the last answerCallbackQuery (the answer is
stored by then); CPU per answer is the user + system time of the bot processes together over
the burst, divided by the taps. The target: CPU per answer with two at most 1.1 times that
with one (nothing shared that serialises them). On this 2-core machine the local server, the
simulated families and PostgreSQL share the cores with the bot, so answers/s with two cannot
double here; CPU per answer is what says whether more processes on more cores would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.answers import (
    QUESTION,
    WARM,
    WITHIN,
    Recorder,
    question_buttons,
    solo,
    stored_answers,
    until,
    until_polling,
)
from bench.common import (
    COUNCIL,
    RESULTS,
    cpu_seconds,
    machine,
    print_table,
    scratch_database,
    start_bot,
    start_process,
    stop_process,
    write_config,
    write_json,
)
from bot.botapi import LocalBotApi
from tests.builders import open_poll_now, populate

DEFAULT_JSON = RESULTS / "handling.json"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_ID = 4_000_000
RATE = 1000


async def one_burst(
    api: LocalBotApi, db: Any, config: Path, log: Any, ids: list[int], processes: int
) -> dict[str, float]:
    poll_id = await open_poll_now(db, questions=QUESTION, council=COUNCIL.slug)
    mark = len(api.sends)
    running = [start_bot(config, log=log)]
    if processes > 1:
        worker = ["-m", "bot", "worker", "--config", str(config)]
        running += [start_process(worker, log=log) for _ in range(processes - 1)]
    try:
        everyone = set(ids)
        await until(
            lambda: everyone <= {s.chat_id for s in api.sends[mark:] if s.action == "send"},
            what="the question sent to every family",
            within=WITHIN,
        )
        await until_polling(api, running[0])
        await api.wait_idle(quiet=0.3, within=WITHIN)
        buttons = question_buttons(api, ids)
        recorder = Recorder(api)
        await solo(recorder, buttons[:WARM], None)
        crowd = buttons[WARM:]
        before = [cpu_seconds(process.pid) or 0.0 for process in running]
        taps = [recorder.tap(button) for button in crowd]
        await recorder.settled(taps)
        after = [cpu_seconds(process.pid) or 0.0 for process in running]
        await api.wait_idle(quiet=0.1, within=WITHIN)
    finally:
        for process in running:
            await stop_process(process)
    stored = await stored_answers(db, poll_id)
    if stored != len(ids):
        raise SystemExit(f"bench: {stored} answers stored for {len(ids)} taps")
    start = min(tap.put for tap in taps)
    last = max(tap.answered or start for tap in taps)
    cpu = [b - a for a, b in zip(before, after, strict=True)]
    return {
        "answers_per_s": round(len(taps) / (last - start), 1),
        "cpu_ms_per_answer": round(sum(cpu) * 1000 / len(taps), 2),
        "cpu_share_of_busiest": round(max(cpu) / sum(cpu), 2) if sum(cpu) else 0.0,
    }


async def handling_processes(
    server: str = DEFAULT_POSTGRESQL, *, families: int = 400, reps: int = 2
) -> dict[str, Any]:
    """Both set-ups, alternating, `reps` times each; the medians, and their ratios."""
    name = f"bench_handling_{os.getpid()}"
    async with scratch_database(server, name) as db, LocalBotApi() as api:
        ids = await populate(db, count=WARM + families, first_id=FIRST_ID, council=COUNCIL.slug)
        for telegram_id in ids:
            api.user(telegram_id)
        results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
        with tempfile.TemporaryDirectory() as folder, (Path(folder) / "bot.log").open("wb") as log:
            config = write_config(
                Path(folder),
                token=api.token,
                base_url=api.base_url,
                db=db,
                messages_per_second=RATE,
            )
            try:
                for rep in range(reps):
                    for processes in (1, 2):
                        began = time.perf_counter()
                        found = await one_burst(api, db, config, log, ids, processes)
                        results[processes].append(found)
                        print(
                            f"  {processes} process(es), repetition {rep + 1}/{reps}: {found}"
                            f" ({time.perf_counter() - began:.0f} s)",
                            file=sys.stderr,
                            flush=True,
                        )
            except BaseException:
                log.flush()
                tail = (Path(folder) / "bot.log").read_text(errors="replace")[-3000:]
                print(f"--- the bots' log (end) ---\n{tail}", file=sys.stderr)
                raise

    def middle(key: str, processes: int) -> float:
        values = sorted(found[key] for found in results[processes])
        return values[len(values) // 2]

    one = {key: middle(key, 1) for key in ("answers_per_s", "cpu_ms_per_answer")}
    two = {key: middle(key, 2) for key in ("answers_per_s", "cpu_ms_per_answer")}
    return {
        "families": families,
        "reps": reps,
        "one": one,
        "two": two,
        "busiest_share_with_two": middle("cpu_share_of_busiest", 2),
        "cpu_ratio": round(two["cpu_ms_per_answer"] / one["cpu_ms_per_answer"], 2),
        "rate_ratio": round(two["answers_per_s"] / one["answers_per_s"], 2),
        "runs": results,
    }


def print_report(report: dict[str, Any]) -> None:
    one, two = report["one"], report["two"]
    ratio = report["cpu_ratio"]
    print_table(
        ["handling processes", "answers/s", "bot CPU ms/answer"],
        [
            ["1 (achterban run)", one["answers_per_s"], one["cpu_ms_per_answer"]],
            ["2 (run + worker)", two["answers_per_s"], two["cpu_ms_per_answer"]],
            [
                "ratio two / one",
                report["rate_ratio"],
                f"{ratio} (target <= 1.1 {'✔' if ratio <= 1.1 else '✘'})",
            ],
        ],
    )
    share = report["busiest_share_with_two"]
    print(f"with two, the busier process did {share:.0%} of the work")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.handling", description=__doc__)
    parser.add_argument("--families", type=int, default=400)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    server = args.database_url or DEFAULT_POSTGRESQL
    if server.startswith("sqlite"):
        raise SystemExit("bench: several handling processes need PostgreSQL")
    report = asyncio.run(handling_processes(server, families=args.families, reps=args.reps))
    print_report(report)
    write_json(args.json, {"machine": machine(), **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
