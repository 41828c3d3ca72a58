"""Shared fixtures: a clean database per test (SQLite by default, PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import database_url
from storage.db import Database
from storage.models import metadata

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ["no_proxy"] = os.environ["NO_PROXY"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """The PostgreSQL URL from DATABASE_URL, with a freshly migrated schema; None for SQLite."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield None
        return
    url = database_url(url, base_dir=Path.cwd())

    async def recreate() -> None:
        db = Database(url)
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await db.upgrade()
        await db.dispose()

    asyncio.run(recreate())
    yield url


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
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()
