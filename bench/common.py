"""What several benches share: a scratch database, the bot as a real process, its memory,
and the printed table and JSON report.

Additive: a bench adds what it needs here and changes nothing another bench relies on.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import ENV_OVERRIDES, CouncilSettings, database_url
from storage import councils
from storage.db import Database

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"
COUNCIL = CouncilSettings(slug="bench", name="Bench council", quiet_hours=("00:00", "00:00"))
"""The one council of a bench: no quiet hours, so a bench behaves the same at any hour."""
PSEUDONYM_KEY = secrets.token_urlsafe(32)


@asynccontextmanager
async def scratch_database(server: str | None, name: str) -> AsyncIterator[Database]:
    """An empty, migrated database with `COUNCIL`, removed afterwards: a SQLite file in a
    temporary folder, or with a PostgreSQL URL a database `name` created beside the one named."""
    if server is None:
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / f'{name}.sqlite3'}")
            try:
                await _prepared(db)
                yield db
            finally:
                await db.dispose()
        return
    base = make_url(database_url(server, base_dir=Path.cwd()))
    await _on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _on_server(base, f'CREATE DATABASE "{name}"')
    db = Database(base.set(database=name).render_as_string(hide_password=False))
    try:
        await _prepared(db)
        yield db
    finally:
        await db.dispose()
        await _on_server(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _prepared(db: Database) -> None:
    await db.upgrade()
    async with db.begin() as session:
        await councils.sync_councils(session, configured=[COUNCIL])


async def _on_server(server: URL, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def write_config(
    folder: Path, *, token: str, base_url: str, db: Database, messages_per_second: int
) -> Path:
    """A config file for `python -m bot run --config ...` against a local Bot API server."""
    url = db.engine.url.render_as_string(hide_password=False)
    lines = [
        "[telegram]",
        f'token = "{token}"',
        f'base_url = "{base_url}"',
        f"messages_per_second = {messages_per_second}",
        "[database]",
        f'url = "{url}"',
        "[privacy]",
        f'pseudonym_key = "{PSEUDONYM_KEY}"',
        "[[councils]]",
        f'slug = "{COUNCIL.slug}"',
        f'name = "{COUNCIL.name}"',
        'quiet_hours = "{}-{}"'.format(*COUNCIL.quiet_hours),
        "[metrics]",
        "port = 0",  # any free port: benches start several processes
    ]
    config = folder / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def start_process(arguments: Sequence[str], *, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """`python <arguments>` from the repository, with nothing from this environment that
    would override its config file; stderr (the log) goes to `log`."""
    env = os.environ | {"PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"}
    for name in ENV_OVERRIDES:
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, *arguments], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
    )


def start_bot(config: Path, *, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """The bot as `achterban run` starts it (as tests/e2e/test_crash.py does)."""
    return start_process(["-m", "bot", "run", "--config", str(config)], log=log)


async def stop_process(process: subprocess.Popen[bytes], *, grace: float = 30.0) -> int:
    """SIGTERM (the bot stops cleanly on it), SIGKILL after `grace` seconds; the exit code.
    Waits without blocking the event loop: a local Bot API server in this process must go on
    answering while the process says goodbye."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(process.wait, grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return await asyncio.to_thread(process.wait)


def rss_mib(pid: int, key: str = "VmRSS") -> float | None:
    """Resident set size of a live process in MiB (VmRSS in /proc; "VmHWM" for its peak so
    far), None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a live process has used so far, None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state is field 3
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = min(max(math.ceil(fraction * len(ordered)) - 1, 0), len(ordered) - 1)
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Right-aligned columns, as wide as their widest cell."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
    for row in cells:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def machine() -> dict[str, Any]:
    """What the figures were measured on, for the JSON report."""
    return {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {path}")
