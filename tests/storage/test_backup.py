"""`achterban db backup` and `db restore`: a consistent copy while the bot writes, and a restore
that refuses what is not ours and leaves the schema at head (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, select

from bot.__main__ import main
from storage import backup
from storage.db import Database, alembic_config
from storage.models import AgeBand, Council, Person, Poll

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _fill(db: Database, *, people: int) -> None:
    async with db.begin() as session:
        council = Council(slug="noord", name="Cliëntenraad Noord")
        session.add(council)
        await session.flush()
        session.add(Poll(council_id=council.id, title="Hoe gaat het?"))
        session.add_all(_people(0, people))


def _people(first: int, count: int) -> list[Person]:
    return [Person(address=str(first + n), age_band=AgeBand.adult) for n in range(count)]


async def _count(db: Database, table: type) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(table))


def _cli(tmp_path: Path, *args: str) -> int:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    return main(["--config", str(config), "db", *args])


async def test_sqlite_backup_while_a_writer_inserts_then_restore(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's online backup")
    db = Database(db_url)
    await _fill(db, people=0)
    stop = asyncio.Event()

    async def write() -> int:
        """Ten people per transaction, holding the write lock a moment each time."""
        written = 0
        while not stop.is_set():
            async with db.begin() as session:
                session.add_all(_people(written, 10))
                await session.flush()
                await asyncio.sleep(0.005)
            written += 10
        return written

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    monkeypatch.setenv("DATABASE_URL", db_url)
    copy = tmp_path / "nightly.sqlite3"
    assert await asyncio.to_thread(_cli, tmp_path, "backup", str(copy)) == 0
    await asyncio.sleep(0.2)
    stop.set()
    written = await writer
    await db.dispose()

    said = capsys.readouterr().out
    people = int(
        re.search(r"backed up to .*nightly.sqlite3 \(.*\): 1 polls, (\d+) people", said)[1]
    )
    assert 0 < people < written and people % 10 == 0  # whole transactions only, writer went on

    restored_url = f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", restored_url)
    assert await asyncio.to_thread(_cli, tmp_path, "restore", str(copy)) == 0
    said = capsys.readouterr().out
    assert said.startswith("Stop the bot")
    assert f"1 polls, {people} people; schema at {HEAD}" in said
    restored = Database(restored_url)
    assert await _count(restored, Person) == people
    await restored.dispose()


async def test_a_file_that_is_not_ours_is_refused_and_changes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("sqlite") and shutil.which("pg_restore") is None:
        pytest.skip("pg_restore is not installed")
    db = Database(db_url)
    await _fill(db, people=3)
    other = tmp_path / "notes.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE note (text TEXT)")
    connection.close()

    with pytest.raises(backup.BackupError, match="nothing was changed") as refused:
        await backup.restore(db_url, other)

    assert "not achterban's" in str(refused.value) or "not a pg_dump archive" in str(refused.value)
    assert await _count(db, Person) == 3 and await _count(db, Poll) == 1
    await db.dispose()


async def test_postgres_round_trip(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("pg_dump is for PostgreSQL")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    db = Database(db_url)
    await _fill(db, people=3)
    made = await backup.backup(db_url, tmp_path / "nightly.dump")
    async with db.begin() as session:
        await session.execute(delete(Person))
        session.add_all(_people(100, 5))
    await db.dispose()

    restored = await backup.restore(db_url, made.file)

    assert made.size > 0 and (restored.polls, restored.people) == (1, 3)
    assert restored.after == HEAD
    db = Database(db_url)
    async with db.read() as session:
        assert sorted(await session.scalars(select(Person.address))) == ["0", "1", "2"]
    await db.dispose()


def test_without_pg_dump_one_clear_line(
    postgres_url: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_url or "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.setenv("PATH", str(tmp_path))

    assert _cli(tmp_path, "backup", str(tmp_path / "nightly.dump")) == 2

    error = capsys.readouterr().err
    assert error.startswith("achterban: pg_dump is not installed") and error.count("\n") == 1
    assert "postgresql-client" in error and not (tmp_path / "nightly.dump").exists()
