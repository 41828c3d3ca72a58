"""SQLite on a full disk: the write fails with one logged error, the family gets the apology,
nothing is half written, and it works again once there is space (a small tmpfs made here;
skipped where the test may not mount one)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from storage.models import Answer, Inbox, Respondent
from tests.builders import make_invite, make_settings, open_poll_now, sign_up
from tests.e2e.conftest import polling_bot

QUESTIONS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "yes_no", "text": "Kom je terug?"},
]
SORRY = "Sorry"


@pytest.fixture
def small_disk(tmp_path: Path, db_url: str) -> Iterator[Path]:
    if not db_url.startswith("sqlite"):
        pytest.skip("a full disk under SQLite (PostgreSQL's own disk is not ours to fill)")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0 or shutil.which("umount") is None:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Take every free byte of the disk; the database gets smaller first (no free pages, an
    empty write-ahead log), so its next write needs space it cannot have."""
    with sqlite3.connect(folder / "achterban.sqlite3") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


async def test_a_full_disk_apologises_keeps_nothing_half_written_and_recovers(
    api: LocalBotApi, small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(api, f"sqlite+aiosqlite:///{small_disk / 'achterban.sqlite3'}")
    async with polling_bot(settings) as bot:
        family = api.user(880)
        await sign_up(family, await make_invite(bot.db))
        await open_poll_now(bot.db, questions=QUESTIONS)
        await bot.deliver()
        assert "Hoe was het?" in family.last.text
        await bot.handled()
        await asyncio.to_thread(fill, small_disk)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            await family.press("Goed")
            await api.wait_idle()
        errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
        assert len(errors) == 1, [record.getMessage() for record in errors]
        assert "OperationalError" in errors[0].getMessage()
        assert family.last.text.startswith(SORRY), family.last.text
        async with bot.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Answer)) == 0
            assert await session.scalar(select(func.count()).select_from(Respondent)) == 0

        (small_disk / "filler").unlink()  # space again
        await family.press("Goed")
        assert "Kom je terug?" in family.last.text, "the same tap works now"
        async with bot.db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Answer)) == 1
            assert await session.scalar(select(func.count()).select_from(Respondent)) == 1
            assert await session.scalar(select(func.count()).select_from(Inbox)) >= 1
