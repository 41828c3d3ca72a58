"""The engine, sessions and the unit of work; SQLite pragmas; migrations on start."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """Owns the engine; `begin()` is the one unit of work per update (commit or roll back)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, **_engine_options(url))
        self.reader: AsyncEngine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine, immediate=True)
            self.reader = create_async_engine(url, echo=echo, **_engine_options(url))
            _configure_sqlite(self.reader, immediate=False)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(
            self.reader, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction that commits on success and rolls back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work; on SQLite it does not take the write lock."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @property
    def described(self) -> str:
        """The database, as a person may see it (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    async def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Bring the schema to the newest migration (or `revision`); returns the revisions
        before and after.

        On SQLite foreign keys are off meanwhile (SQLite's own procedure for changing a table):
        a migration rebuilds a table by copying it and dropping the old one, and that drop
        would otherwise cascade to the rows that point at it. They are checked before commit.
        """
        async with self.engine.connect() as connection:
            if self.is_sqlite:
                await connection.run_sync(_foreign_keys, "OFF")
            try:
                async with connection.begin():
                    before = await connection.run_sync(_revision)
                    await connection.run_sync(_alembic, "upgrade", revision)
                    after = await connection.run_sync(_revision)
                    if self.is_sqlite:
                        await connection.run_sync(_no_dangling_keys)
            finally:
                if self.is_sqlite:
                    await connection.run_sync(_foreign_keys, "ON")
        return before, after

    async def make_revision(self, message: str) -> None:
        """Write a new migration by comparing the models with the database (for developers)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(_alembic, "revision", message)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()


def is_outage(error: BaseException) -> bool:
    """True when `error` says the database is away for now (a restart, a lost connection, a
    locked or unreachable file): trying again later may work. A wrong statement or a broken
    constraint is not an outage, and neither is anything Telegram's side raised (a timeout
    talking to Telegram has an OSError among its causes too)."""
    if is_full(error):
        return False  # waiting does not help: space must be made (the person hears of it)
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not link for link in seen):
        seen.append(current)  # the first link that decides, from the error itself inwards
        if type(current).__module__.split(".")[0] in _NOT_OURS:
            return False
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _OUTAGES):
            return True
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in _ASYNCPG:
            return True
        current = current.__cause__ or current.__context__
    return False


def is_full(error: BaseException) -> bool:
    """True when the database's disk is full (SQLite's SQLITE_FULL, PostgreSQL's 53100)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not link for link in seen):
        seen.append(current)
        if getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if getattr(current, "sqlstate", None) == "53100":  # asyncpg's DiskFullError
            return True
        current = current.__cause__ or current.__context__
    return False


_NOT_OURS = frozenset({"telegram", "httpx", "httpcore", "aiohttp"})
"""Errors of the chat side: never a database outage."""
_OUTAGES = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    ConnectionError,  # refused, reset, aborted: connecting to the server
    TimeoutError,
    socket.gaierror,
)
_ASYNCPG = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "PostgresConnectionError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "InterfaceError",
        "TooManyConnectionsError",
    }
)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config that needs no alembic.ini; migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _foreign_keys(connection: Connection, setting: str) -> None:
    """SQLite takes this pragma only outside a transaction: straight to the driver, which
    SQLAlchemy does not wrap in one."""
    cursor = connection.connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={setting}")
    cursor.close()


def _no_dangling_keys(connection: Connection) -> None:
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if dangling:
        raise RuntimeError(f"the migration left {len(dangling)} rows pointing at nothing")


def _alembic(connection: Connection, action: str, argument: str) -> None:
    config = alembic_config(connection)
    if action == "upgrade":
        command.upgrade(config, argument)
    else:
        command.revision(config, message=argument, autogenerate=True)


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    # PostgreSQL's JIT compiles a plan once it looks expensive (a council's 40,000 families):
    # that costs more than it saves in queries of a few milliseconds, as all of ours are
    return {
        "pool_size": 10,
        "max_overflow": 10,
        "pool_pre_ping": True,
        "connect_args": {"server_settings": {"jit": "off"}},
    }


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    """WAL, a busy timeout, foreign keys on; writers start with BEGIN IMMEDIATE so they queue
    up cleanly instead of failing to upgrade a read lock."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
