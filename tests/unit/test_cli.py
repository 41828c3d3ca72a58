"""`achterban db upgrade` brings a new database to the newest schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main


def test_db_upgrade_creates_every_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")

    assert main(["--config", str(config), "db", "upgrade"]) == 0

    with sqlite3.connect(tmp_path / "achterban.sqlite3") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"person", "membership", "invite", "poll", "answer", "delivery", "audit_log"} <= tables
    assert mode == "wal"


def test_keygen_prints_a_long_random_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 0
    first = capsys.readouterr().out.strip()
    main(["keygen"])
    assert len(first) >= 43 and first != capsys.readouterr().out.strip()


def test_db_upgrade_takes_config_after_the_command_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")

    assert main(["db", "upgrade", "--config", str(config)]) == 0
    first = capsys.readouterr().out
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    second = capsys.readouterr().out

    assert "achterban.sqlite3: upgraded empty →" in first
    assert "already at" in second


def test_unreachable_telegram_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        '[telegram]\ntoken = "1:x"\nbase_url = "http://127.0.0.1:9/bot"\n'
        f'[privacy]\npseudonym_key = "{"k" * 40}"\n',
        encoding="utf-8",
    )
    assert main(["run", "--config", str(config)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("achterban: cannot reach Telegram") and "\n" not in error


@pytest.mark.parametrize("command", ["run", "worker"])
def test_run_without_a_token_is_a_one_line_config_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """Plain `achterban` runs the demo for a newcomer; `run` (a service file) never does."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ACHTERBAN_TOKEN", raising=False)
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main([command, "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("achterban: config error:") and "token" in error
    assert error.count("\n") == 1
