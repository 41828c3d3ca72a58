"""The command line: `achterban run | demo | db upgrade | revision | backup | restore | keygen`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, config_path, load_settings

if TYPE_CHECKING:
    from storage.db import Database

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `achterban` console script."""
    args = _parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        return _dispatch(args)
    except ConfigError as error:
        print(f"achterban: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one clear line instead of a traceback, for any start-up failure
        line, setting = explain_failure(error)
        print(f"achterban: {line}", file=sys.stderr)
        return EXIT_CONFIG if setting else 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "keygen":
        print(secrets.token_urlsafe(32))
        return 0
    if args.command == "demo":
        return _demo()
    settings = _settings(args.config)
    if args.command is None and not settings.telegram.token:
        print("No Telegram token configured: running the offline demo.\n", file=sys.stderr)
        return _demo()
    if args.command == "db":
        return asyncio.run(_database(settings, args))
    _check_ready_to_run(settings)
    from bot.run.runner import serve

    asyncio.run(serve(settings, worker=args.command == "worker"))
    return 0


def _settings(cli_config: str | None) -> Settings:
    path, explicit = config_path(cli_config, os.environ)
    return load_settings(path, required=explicit)


def _check_ready_to_run(settings: Settings) -> None:
    settings.require_token()
    if len(settings.pseudonym_key) < 32:
        raise ConfigError(
            "[privacy] pseudonym_key",
            "missing or shorter than 32 characters; make one with `achterban keygen`, "
            "put it in the config file or ACHTERBAN_PSEUDONYM_KEY, keep it out of the "
            "database and never change it",
        )


async def _database(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        if args.action == "upgrade":
            before, after = await db.upgrade()
            where = db.described
            print(
                f"{where}: "
                + (
                    f"upgraded {before or 'empty'} → {after}"
                    if before != after
                    else f"already at {after}"
                )
            )
        elif args.action == "revision":
            await db.make_revision(args.message)
        else:
            await _backup_or_restore(db, args.action, Path(args.file))
    finally:
        await db.dispose()
    return 0


async def _backup_or_restore(db: Database, action: str, file: Path) -> None:
    from storage import backup

    if action == "backup":
        done = await backup.backup(db.url, file)
        counts = f": {done.polls} polls, {done.people} people" if done.polls is not None else ""
        print(f"{db.described}: backed up to {file} ({backup.size_text(done.size)}){counts}")
        return
    print(
        "Stop the bot (every achterban run and worker) during a restore: it replaces the database."
    )
    done = await backup.restore(db.url, file)
    schema = (
        f"upgraded {done.before} → {done.after}"
        if done.before != done.after
        else f"at {done.after}"
    )
    print(
        f"{db.described}: restored from {file} ({backup.size_text(done.size)}): "
        f"{done.polls} polls, {done.people} people; schema {schema}"
    )


def _demo() -> int:
    from bot.run.demo import run_demo

    return asyncio.run(run_demo())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="achterban",
        description="A Telegram bot that lets a client council reach its backers with short polls. "
        "Without a command: run the bot, or the offline demo when no token is configured.",
    )
    parser.add_argument("--config", help="config file (default ./config.toml or $ACHTERBAN_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="run the bot (polling or webhook, as configured)")
    worker = commands.add_parser(
        "worker", help="only send the outbox and run scheduled jobs (beside a poller, PostgreSQL)"
    )
    commands.add_parser("demo", help="run the bot offline against a built-in Telegram server")
    commands.add_parser("keygen", help="print a new random secret (pseudonym key, webhook secret)")
    db = commands.add_parser("db", help="database migrations and backups")
    actions = db.add_subparsers(dest="action", required=True)
    upgrade = actions.add_parser("upgrade", help="bring the database schema up to date")
    revision = actions.add_parser("revision", help="write a new migration (for developers)")
    revision.add_argument("message")
    backup = actions.add_parser("backup", help="write a backup of the database to FILE")
    restore = actions.add_parser(
        "restore", help="replace the database with the backup in FILE (stop the bot first)"
    )
    for sub in (backup, restore):
        sub.add_argument("file", metavar="FILE")
    for sub in (run, worker, db, upgrade, revision, backup, restore):
        sub.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    return parser


def explain_failure(error: Exception) -> tuple[str, bool]:
    """One line for what stopped the bot, and whether a setting is to blame (exit code 2)."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import DBAPIError
    from telegram.error import InvalidToken, NetworkError

    from storage.backup import BackupError, ToolMissing

    if isinstance(error, BackupError):
        return str(error), isinstance(error, ToolMissing)
    if isinstance(error, InvalidToken):
        return "Telegram does not accept the token; check [telegram] token or ACHTERBAN_TOKEN", True
    if isinstance(error, NetworkError):
        return f"cannot reach Telegram at [telegram] base_url ({error})", True
    if isinstance(error, CommandError):
        return (
            f"database schema problem: {error} (is the database newer than this achterban?)",
            True,
        )
    if isinstance(error, DBAPIError | OSError):
        cause = str(getattr(error, "orig", None) or error).splitlines()[0]
        return f"cannot use the database from [database] url / DATABASE_URL: {cause}", True
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"stopped by {type(error).__name__}: {first_line}", False


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)  # at DEBUG it logs message text


if __name__ == "__main__":
    sys.exit(main())
