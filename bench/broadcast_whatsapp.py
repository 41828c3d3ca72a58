"""The WhatsApp part of `python -m bench.broadcast` (`--channels whatsapp,mixed`).

4. "whatsapp": `--recipients` WhatsApp families (their 24-hour window open, so the question
   goes directly, not as a template) at the configured rate
   (`WhatsAppSettings.messages_per_second`, 80/s). From the simulator's send log
   (`SendRecord.at`): achieved rate = intervals / span between the first and the last send,
   divided by the configured rate (target >= 0.95); the most sends in any one-second window
   (at most the configured rate); how many sends Meta would have refused (130429), modelled
   as a sliding second of at most that many accepted sends and one per person per second; the
   bot's CPU per send. The simulator posts a "sent" and a "delivered" status for every send
   to the bot's webhook, as Meta does, so the bot's CPU includes taking those; after the run
   the deliveries' receipts are counted (how many got to "delivered").
5. "mixed": one poll to half Telegram (30/s) and half WhatsApp (80/s) families. Both channels
   send side by side, so the whole broadcast takes as long as the slower share (Telegram's:
   (n - 1) / 30 s), not the sum: total (first send on either channel to the last one) /
   the slower share's configured time, target about 1.0, next to sum / max of the shares'
   times (what sending one channel after the other would give). The send logs of the two
   servers share one clock: CLOCK_MONOTONIC is the machine's, whichever process reads it.

Opened while running: the poll is opened after the bot started, as when it is sent with /nieuw.
(Opened before, the second outbox's start would give back the rows the first one had just
claimed on SQLite, and those families would get the poll twice; the report says more.) "sent
twice" counts families that got more than one message, on each channel.

With --quick, 20 seconds' worth: 1,600 WhatsApp recipients, and 600 + 600 mixed.

Who runs where: the WhatsApp simulator (`bot.wasim.LocalWhatsApp`) runs in a child process of
its own (this module with `--serve`), like the Telegram server. It is light at 80/s, but in
the bot's process its CPU (answering sends, signing and posting two statuses per send) would
count as the bot's, and its send log would take its times from the bot's event loop, so a
busy moment of the bot would show as a burst that Meta would not have seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from bench.broadcast import (
    DEFAULT_RATE,
    FIRST_ID,
    HEADER,
    MANAGER_ID,
    QUESTION,
    QUICK_SECONDS,
    Api,
    Clock,
    Run,
    Send,
    bot_settings,
    measure,
    row,
    send_everything,
)
from bench.common import COUNCIL, cpu_seconds, print_table, scratch_database
from bot.chat.context import SERVICES
from bot.config import Settings, WhatsAppSettings
from bot.run.runner import running
from bot.wasim import LocalWhatsApp
from storage.db import Database
from storage.models import TELEGRAM, WHATSAPP, Delivery, DeliveryStatus, Person, Round

WA_RATE = WhatsAppSettings().messages_per_second
WA_FIRST = 31_600_000_000
"""The first family's WhatsApp number (wa_id); the others follow."""
VERIFY_TOKEN = "bench-verify-token"
SETTLE_S = 30.0
"""Seconds the simulator may take to post its last statuses after the last send."""


# --- the WhatsApp simulator in a child process --------------------------------------------


class WaProcess:
    """LocalWhatsApp in a child process (`python -m bench.broadcast_whatsapp --serve`): one
    JSON line per request on its stdin, one JSON line per answer on its stdout."""

    def __init__(self, process: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.process = process
        self.hello = hello
        self.base_url: str = hello["base_url"]

    @classmethod
    async def start(cls) -> WaProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.broadcast_whatsapp",
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=Path(__file__).parents[1],
            limit=1 << 26,  # the send log comes back as one line
        )
        assert process.stdout is not None
        line = await process.stdout.readline()
        if not line:
            raise SystemExit("the WhatsApp simulator process did not start")
        return cls(process, json.loads(line))

    async def _ask(self, **request: Any) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def add_users(self, first_id: int, count: int) -> None:
        """Known users who wrote to the business just now (their window is open)."""
        await self._ask(op="users", first_id=first_id, count=count)

    async def point_at(self, webhook_url: str) -> None:
        await self._ask(op="webhook", url=webhook_url)

    async def settle(self) -> int:
        """Wait until every status is posted; how many webhook POSTs were not answered 200."""
        return int(await self._ask(op="settle"))

    async def take_sends(self) -> tuple[list[Send], int]:
        """Accepted sends as (time, wa_id, "send"), and how many sends were refused."""
        sends, refused = await self._ask(op="sends")
        return [(at, to, "send") for at, to in sends], refused

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


async def serve() -> None:
    """The child process: a LocalWhatsApp that answers the parent's requests until stdin ends."""
    wa = LocalWhatsApp()
    await wa.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(value: Any) -> None:
        sys.stdout.write(json.dumps(value) + "\n")
        sys.stdout.flush()

    answer(
        {
            key: getattr(wa, key)
            for key in ("base_url", "phone_number_id", "token", "app_secret", "business_number")
        }
    )
    try:
        while line := await reader.readline():
            request = json.loads(line)
            if request["op"] == "users":
                for wa_id in range(request["first_id"], request["first_id"] + request["count"]):
                    wa.user(str(wa_id)).last_message_at = wa.now()
                answer(True)
            elif request["op"] == "webhook":
                wa.webhook_url = request["url"]
                answer(True)
            elif request["op"] == "settle":
                await wa.settle(SETTLE_S)
                answer(sum(1 for status in wa.webhook_statuses if status != 200))
                wa.delivery.statuses.clear()
            elif request["op"] == "sends":
                answer([[[record.at, record.to] for record in wa.sends], len(wa.rejected)])
                wa.sends.clear()
                wa.rejected.clear()
                wa.transcript.clear()
                for user in wa.users.values():
                    user.messages.clear()
    finally:
        await wa.stop()


# --- one broadcast with WhatsApp ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def with_whatsapp(settings: Settings, wa: WaProcess) -> Settings:
    """`settings` with the WhatsApp channel on, pointed at the simulator, its webhook on a
    free port (and the simulator told where that is), as tests/e2e/conftest.py does."""
    port = free_port()
    await wa.point_at(f"http://127.0.0.1:{port}/whatsapp")
    hello = wa.hello
    channel = WhatsAppSettings(
        phone_number_id=hello["phone_number_id"],
        token=hello["token"],
        app_secret=hello["app_secret"],
        verify_token=VERIFY_TOKEN,
        business_number=hello["business_number"],
        base_url=wa.base_url,
        messages_per_second=WA_RATE,
        listen="127.0.0.1",
        port=port,
    )
    return replace(settings, whatsapp=channel)


async def add_families(
    db: Database, api: Api, wa: WaProcess, *, telegram: int, whatsapp: int
) -> None:
    """Families on both channels (WhatsApp's with their window open) and the council member
    who will send the poll, on Telegram."""
    from tests.builders import populate

    await api.add_chats(MANAGER_ID, 1)
    if telegram:
        await populate(db, count=telegram, first_id=FIRST_ID, council=COUNCIL.slug)
        await api.add_chats(FIRST_ID, telegram)
    if whatsapp:
        await populate(
            db,
            count=whatsapp,
            first_id=WA_FIRST,
            council=COUNCIL.slug,
            channel=WHATSAPP,
            window_open=True,
        )
        await wa.add_users(WA_FIRST, whatsapp)


async def open_poll(db: Database) -> int:
    """A poll opened for every family, whose round reports its progress to the council member
    (as /nieuw does); returns its id."""
    from tests.builders import open_poll_now

    poll_id = await open_poll_now(db, questions=QUESTION, council=COUNCIL.slug)
    async with db.begin() as session:
        await session.execute(
            update(Round).where(Round.poll_id == poll_id).values(progress_chat_id=MANAGER_ID)
        )
    return poll_id


async def receipts(db: Database) -> dict[int, int]:
    """WhatsApp deliveries sent, by receipt (1 sent, 2 delivered, 3 read)."""
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.receipt, func.count())
            .join(Person, Person.id == Delivery.person_id)
            .where(Person.channel == WHATSAPP, Delivery.external_id.is_not(None))
            .group_by(Delivery.receipt)
        )
        return {int(receipt): count for receipt, count in rows}


async def broadcast(
    api: Api, wa: WaProcess, server: str | None, *, name: str, telegram: int, whatsapp: int
) -> tuple[list[Run], dict[str, Any]]:
    """One poll to `telegram` + `whatsapp` families at the configured rates: a Run per channel
    that sent, and what the run shows besides (receipts, refusals, the shared timeline)."""
    async with scratch_database(server, f"bench_broadcast_{os.getpid()}_{name}") as db:
        await add_families(db, api, wa, telegram=telegram, whatsapp=whatsapp)
        settings = await with_whatsapp(bot_settings(api, db, DEFAULT_RATE), wa)
        async with running(settings) as app:
            outboxes = app.bot_data[SERVICES].outbox
            await api.take_sends()  # start-up calls are not part of the broadcast
            await open_poll(db)  # while the bot runs (see "Opened while running" above)
            telegram_clock, wa_clock = Clock(api), Clock(wa)  # type: ignore[arg-type]
            outboxes.kick()
            counts = await send_everything(outboxes, db)
            wall, bot_cpu, telegram_cpu = telegram_clock.stop()
            _, _, wa_cpu = wa_clock.stop()
            unanswered = await wa.settle()  # the last statuses, while the bot still listens
            await asyncio.sleep(0.5)  # and a moment for the bot to store them
            got = await receipts(db)
    if counts[DeliveryStatus.sent.value] != telegram + whatsapp:
        raise SystemExit(f"{name}: not everyone got the poll: {dict(counts)}")
    telegram_sends = await api.take_sends()
    wa_sends, refused = await wa.take_sends()
    shares = [
        (TELEGRAM, telegram, DEFAULT_RATE, telegram_sends, telegram_cpu, None),
        (WHATSAPP, whatsapp, WA_RATE, wa_sends, wa_cpu, int(WA_RATE)),
    ]
    runs = []
    for channel, recipients, rate, sends, server_cpu, limit in shares:
        if not recipients:
            continue
        run = measure(
            f"{name} {channel}" if telegram and whatsapp else name,
            sends,
            recipients=recipients,
            rate=rate,
            wall=wall,
            bot_cpu=bot_cpu,
            server_cpu=server_cpu,
            **({"limit": limit} if limit else {}),
        )
        run.bot_cpu_ms_per_send = round(bot_cpu * 1000 / (telegram + whatsapp), 3)
        run.outcomes = dict(counts)
        runs.append(run)
    extra = {
        "receipts": got,
        "refused_by_simulator": refused,
        "webhook_posts_not_200": unanswered,
        "sent_twice": {
            TELEGRAM: twice(s for s in telegram_sends if s[2] == "send" and s[1] != MANAGER_ID),
            WHATSAPP: twice(wa_sends),
        },
        "timeline": timeline(telegram_sends, wa_sends, telegram=telegram, whatsapp=whatsapp),
    }
    return runs, extra


def twice(sends: Iterable[Send]) -> int:
    """How many chats got more than one message."""
    return sum(1 for count in Counter(chat for _, chat, _ in sends).values() if count > 1)


def timeline(
    telegram_sends: list[Send], wa_sends: list[Send], *, telegram: int, whatsapp: int
) -> dict[str, Any]:
    """When each channel sent its first and last message, counted from the first send on
    either (progress messages left out), and the shares' configured times."""
    moments = {
        TELEGRAM: sorted(
            at for at, chat, action in telegram_sends if action == "send" and chat != MANAGER_ID
        ),
        WHATSAPP: sorted(at for at, _, _ in wa_sends),
    }
    start = min(found[0] for found in moments.values() if found)
    end = max(found[-1] for found in moments.values() if found)
    share_s = {
        TELEGRAM: (telegram - 1) / DEFAULT_RATE if telegram > 1 else 0.0,
        WHATSAPP: (whatsapp - 1) / WA_RATE if whatsapp > 1 else 0.0,
    }
    slower = max(share_s.values())
    return {
        "total_s": round(end - start, 3),
        "channels": {
            channel: {
                "first_s": round(found[0] - start, 3),
                "last_s": round(found[-1] - start, 3),
                "span_s": round(found[-1] - found[0], 3),
                "share_s": round(share_s[channel], 3),
            }
            for channel, found in moments.items()
            if found
        },
        "total_over_slower_share": round((end - start) / slower, 3) if slower else None,
        "sum_over_slower_share": round(sum(share_s.values()) / slower, 3) if slower else None,
    }


# --- the cases, as `bench.broadcast` runs them --------------------------------------------


def recipients_of(args: argparse.Namespace) -> tuple[int, tuple[int, int]]:
    """Recipients of the WhatsApp run, and of the mixed run's (Telegram, WhatsApp) halves."""
    alone = min(args.recipients, int(WA_RATE * QUICK_SECONDS)) if args.quick else args.recipients
    mixed = (
        min(args.recipients, int(2 * DEFAULT_RATE * QUICK_SECONDS))
        if args.quick
        else args.recipients
    )
    return alone, (mixed // 2, mixed - mixed // 2)


async def run_cases(api: Api, args: argparse.Namespace, channels: set[str]) -> dict[str, Any]:
    """The WhatsApp and mixed runs asked for; their table rows are printed by the caller."""
    if not channels & {"whatsapp", "mixed"}:
        return {}
    wa = await WaProcess.start()
    alone, (telegram, whatsapp) = recipients_of(args)
    found: dict[str, Any] = {}
    try:
        if "whatsapp" in channels:
            print(f"whatsapp: {alone} recipients at {WA_RATE:g}/s ...", flush=True)
            found["whatsapp"] = await broadcast(
                api, wa, args.database_url, name="whatsapp", telegram=0, whatsapp=alone
            )
        if "mixed" in channels:
            print(
                f"mixed: {telegram} Telegram at {DEFAULT_RATE:g}/s"
                f" + {whatsapp} WhatsApp at {WA_RATE:g}/s, one poll ...",
                flush=True,
            )
            found["mixed"] = await broadcast(
                api, wa, args.database_url, name="mixed", telegram=telegram, whatsapp=whatsapp
            )
    finally:
        await wa.close()
    return found


def runs_of(found: dict[str, Any]) -> list[Run]:
    return [run for runs, _ in found.values() for run in runs]


def report(found: dict[str, Any]) -> dict[str, Any]:
    """Print the WhatsApp and mixed summaries; what goes into the JSON report."""
    summary: dict[str, Any] = {}
    if "whatsapp" in found:
        (run,), extra = found["whatsapp"]
        summary["whatsapp"] = {
            "achieved_over_configured": run.achieved_over_configured,
            "busiest_second": run.busiest_second,
            "would_be_130429": run.would_be_429,
            "bot_cpu_ms_per_send": run.bot_cpu_ms_per_send,
            **{key: value for key, value in extra.items() if key != "timeline"},
        }
        print(
            f"\nwhatsapp: achieved/configured {run.achieved_over_configured:.3f}"
            f" (target >= 0.95), busiest second {run.busiest_second}"
            f" (at most {WA_RATE:g}), would-be 130429s {run.would_be_429},"
            f" bot CPU {run.bot_cpu_ms_per_send:.3f} ms/send"
            f"\n  refused by the simulator {extra['refused_by_simulator']},"
            f" webhook POSTs not answered 200: {extra['webhook_posts_not_200']},"
            f" receipts of {run.sends} sends (1 sent, 2 delivered): {extra['receipts']},"
            f" sent twice: {extra['sent_twice'][WHATSAPP]}"
        )
    if "mixed" in found:
        runs, extra = found["mixed"]
        line = extra["timeline"]
        summary["mixed"] = {
            **line,
            "achieved_over_configured": {run.run: run.achieved_over_configured for run in runs},
            "busiest_second": {run.run: run.busiest_second for run in runs},
            "receipts": extra["receipts"],
            "sent_twice": extra["sent_twice"],
            "bot_cpu_ms_per_send": runs[0].bot_cpu_ms_per_send,
        }
        print(
            f"\nmixed: total {line['total_s']:.1f} s (first send to last, either channel);"
            f" total / slower share {line['total_over_slower_share']:.3f} (target ~1.0;"
            f" one channel after the other would be {line['sum_over_slower_share']:.3f})"
        )
        for channel, times in line["channels"].items():
            print(
                f"  {channel}: span {times['span_s']:.1f} s"
                f" (from {times['first_s']:.1f} s to {times['last_s']:.1f} s),"
                f" its share at the configured rate {times['share_s']:.1f} s"
            )
        print(
            f"  whatsapp receipts (1 sent, 2 delivered): {extra['receipts']};"
            f" sent twice: {extra['sent_twice']}"
        )
    return summary


def table(found: dict[str, Any]) -> None:
    print_table(HEADER, [row(run) for run in runs_of(found)])


def as_json(found: dict[str, Any]) -> list[dict[str, Any]]:
    return [asdict(run) for run in runs_of(found)]


if __name__ == "__main__":
    if "--serve" not in sys.argv[1:]:
        raise SystemExit("run `python -m bench.broadcast --channels whatsapp,mixed`")
    asyncio.run(serve())
    raise SystemExit(0)
