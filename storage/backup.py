"""Backups: SQLite with its online backup API, PostgreSQL with pg_dump / pg_restore.

A backup is checked to be ours (it has an `alembic_version` table of a known revision) before
a restore touches anything; after a restore the schema is upgraded to the newest migration.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, make_url

from storage.db import Database, alembic_config
from storage.models import Person, Poll, metadata

UNCHANGED = "; nothing was changed"


class BackupError(Exception):
    """A backup or restore that did not happen; the message is one line for the operator."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not installed."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did, for the operator."""

    file: Path
    size: int
    polls: int | None = None
    people: int | None = None
    before: str | None = None
    """Restore: the schema revision the backup had."""
    after: str | None = None
    """Restore: the schema revision after upgrading."""


async def backup(url: str, file: Path) -> Done:
    """Write a backup of the database at `url` to `file` (replaced only once it is complete)."""
    part = file.with_name(file.name + ".part")
    polls = people = None
    try:
        if url.startswith("sqlite"):
            polls, people = await asyncio.to_thread(_sqlite_backup, _sqlite_path(url), part)
        else:
            await _run(url, "pg_dump", "--format=custom", f"--file={part}")
        size = await asyncio.to_thread(_put_in_place, part, file)
    finally:
        await asyncio.to_thread(part.unlink, missing_ok=True)
    return Done(file=file, size=size, polls=polls, people=people)


async def restore(url: str, file: Path) -> Done:
    """Replace the database at `url` with the backup in `file`, then upgrade its schema.

    Nothing is touched unless `file` is a backup of ours of a schema this code knows."""
    size = await asyncio.to_thread(_size, file)
    if url.startswith("sqlite"):
        before = await asyncio.to_thread(_sqlite_restore, file, _sqlite_path(url))
    else:
        before = await _pg_restore(url, file)
    db = Database(url)
    try:
        _, after = await db.upgrade()
        async with db.read() as session:
            polls = await session.scalar(select(func.count()).select_from(Poll))
            people = await session.scalar(select(func.count()).select_from(Person))
    finally:
        await db.dispose()
    return Done(file=file, size=size, polls=polls, people=people, before=before, after=after)


def size_text(size: int) -> str:
    """A file size as a person reads it: 812 B, 14.2 KiB, 3.1 MiB."""
    amount, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            break
        amount /= 1024
    return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"


def _put_in_place(part: Path, file: Path) -> int:
    """Only its owner may read a backup: it holds personal data."""
    part.chmod(0o600)
    part.replace(file)
    return file.stat().st_size


def _size(file: Path) -> int:
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    return file.stat().st_size


def _sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("the database is in memory: there is nothing to back up or restore")
    return Path(path)


def _sqlite_backup(source: Path, part: Path) -> tuple[int, int]:
    """Copy in one step of the backup API: one read transaction, so the copy is consistent,
    and in WAL mode writers go on meanwhile. The copy is one file (no WAL beside it)."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    part.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as live,
            closing(sqlite3.connect(part)) as copy,
        ):
            live.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            polls = copy.execute("SELECT count(*) FROM poll").fetchone()[0]
            people = copy.execute("SELECT count(*) FROM person").fetchone()[0]
    except sqlite3.Error as error:
        raise BackupError(f"no backup written to {part.with_suffix('')}: {error}") from None
    return polls, people


def _sqlite_restore(file: Path, target: Path) -> str:
    """Check that `file` is ours, then copy it over the live database (backup API, under its
    write lock, so no reader sees half of it). Returns the backup's schema revision."""
    with closing(sqlite3.connect(file)) as copy:
        try:
            found = copy.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            rows = (
                copy.execute("SELECT version_num FROM alembic_version").fetchall() if found else []
            )
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{file} is not an SQLite database ({error}){UNCHANGED}") from None
        if not found:
            raise BackupError(
                f"{file} is an SQLite database, but not achterban's (it has no alembic_version "
                f"table){UNCHANGED}"
            )
        revision = _known(file, [row[0] for row in rows])
        if check != "ok":
            raise BackupError(f"{file} is damaged (quick_check: {check}){UNCHANGED}")
        try:
            with closing(sqlite3.connect(target, timeout=30)) as live:
                copy.backup(live)
        except sqlite3.Error as error:
            raise BackupError(f"restore into {target} failed: {error}") from None
    return revision


def _known(file: Path, found: list[str]) -> str:
    """The one revision in the backup's alembic_version, if this code has that migration."""
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if len(found) != 1 or found[0] not in known:
        raise BackupError(
            f"{file} has schema revision {', '.join(found) or 'none'}, unknown to this "
            f"achterban: restore it with the version that made it (or a newer one){UNCHANGED}"
        )
    return found[0]


async def _pg_restore(url: str, file: Path) -> str:
    try:
        listed = await _run(url, "pg_restore", "--list", str(file), connect=False)
    except ToolMissing:
        raise
    except BackupError as error:
        raise BackupError(f"{file} is not a pg_dump archive ({error}){UNCHANGED}") from None
    if not re.search(r"^\d+; \d+ \d+ TABLE \S+ alembic_version ", listed, re.MULTILINE):
        raise BackupError(f"{file} is a pg_dump archive, but not of achterban's{UNCHANGED}")
    data = await _run(
        url,
        "pg_restore",
        "--data-only",
        "--table=alembic_version",
        "--file=-",
        str(file),
        connect=False,
    )
    rows = re.search(r"^COPY \S*alembic_version .*?;\n(.*?)^\\\.$", data, re.M | re.S)
    revision = _known(file, rows.group(1).split() if rows else [])
    await _drop_newer_tables(url, listed)
    await _run(
        url, "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(file)
    )
    return revision


async def _drop_newer_tables(url: str, listed: str) -> None:
    """Drop our tables that the backup does not have (made by a newer migration): they would
    keep the upgrade after the restore from making them again. Nobody else's tables."""
    in_backup = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listed, re.MULTILINE))
    db = Database(url)
    try:
        async with db.begin() as session:
            present = set(
                await session.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            )
            for name in sorted((present & set(metadata.tables)) - in_backup):
                await session.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    finally:
        await db.dispose()


async def _run(url: str, tool: str, *args: str, connect: bool = True) -> str:
    """Run a PostgreSQL client tool against the database at `url`; its stdout.

    The URL goes without SQLAlchemy's driver part and the password goes in PGPASSWORD, so it
    is not on a command line that `ps` shows."""
    program = shutil.which(tool)
    if program is None:
        major = await _server_major(url)
        server = f"postgresql-client-{major}" if major else "postgresql-client-<server's major>"
        raise ToolMissing(
            f"{tool} is not installed: install the PostgreSQL client of the server's major "
            f"version{f' ({major})' if major else ''}, e.g. on Debian `apt-get install {server}`"
        )
    target, env = _libpq(make_url(url))
    command = [program, *args, *([f"--dbname={target}"] if connect else [])]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise BackupError(lines[-1] if lines else f"{tool} failed ({process.returncode})")
    return out.decode(errors="replace")


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it (asyncpg's `ssl` is libpq's `sslmode`), and the environment
    with the password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    query = dict(url.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    plain = url.set(drivername="postgresql", password=None, query=query)
    return plain.render_as_string(hide_password=False), env


async def _server_major(url: str) -> int | None:
    """The PostgreSQL server's major version, or None when it does not answer."""
    db = Database(url)
    try:
        async with db.read() as session:
            number = await session.scalar(text("SELECT current_setting('server_version_num')"))
        return int(number) // 10000
    except Exception:
        return None
    finally:
        await db.dispose()
