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
