"""Shared fixtures: a clean database per test (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import database_url
from storage.db import Database
from storage.models import metadata

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """With DATABASE_URL set: a database of this process's own (created beside the one named,
    migrated, dropped at the end), so runs from other checkouts, and the other xdist workers
    of this run, cannot disturb it."""
    given = os.environ.get("DATABASE_URL")
    if not given:
        yield None
        return
    server = make_url(database_url(given, base_dir=Path.cwd()))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"achterban_test_{worker}_{os.getpid()}_{secrets.token_hex(3)}"
    url = server.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_on_server(server, f'CREATE DATABASE "{name}"'))
    asyncio.run(_upgraded(url))
    try:
        yield url
    finally:
        asyncio.run(_on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _on_server(server: URL, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


async def _upgraded(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    await db.dispose()


@pytest.fixture
async def db_url(postgres_url: str | None, tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with the newest schema and no rows."""
    if postgres_url is None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        db = Database(url)
        await db.upgrade()
    else:
        url, db = postgres_url, Database(postgres_url)
        tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        async with db.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await db.dispose()
    yield url


@pytest.fixture
async def empty_db_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database URL with no tables at all, for migration tests (with DATABASE_URL: a
    database of the test's own beside the one named, dropped afterwards)."""
    given = os.environ.get("DATABASE_URL")
    if not given:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server = make_url(database_url(given, base_dir=Path.cwd()))
    name = f"achterban_empty_{os.getpid()}_{secrets.token_hex(3)}"
    await _on_server(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()
