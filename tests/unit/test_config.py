"""Configuration: defaults, environment overrides, and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import ENV_OVERRIDES, load_settings


@pytest.fixture(autouse=True)
def no_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the real environment; these tests must not see CI's DATABASE_URL."""
    for variable in (*ENV_OVERRIDES, "ACHTERBAN_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "absent.toml", required=False, env={})
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.telegram.mode == "polling"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'achterban.sqlite3'}"
    assert settings.timezone == "Europe/Amsterdam"
    assert [council.slug for council in settings.councils] == ["raad"]


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\n[access]\nadmins = [1]\n')
    env = {
        "ACHTERBAN_TOKEN": "from-env",
        "DATABASE_URL": "postgresql://u@db/achterban",
        "ACHTERBAN_ADMINS": "5, 6",
        "ACHTERBAN_PSEUDONYM_KEY": "k" * 40,
    }
    settings = load_settings(path, required=True, env=env)
    assert settings.telegram.token == "from-env"
    assert settings.database_url == "postgresql+asyncpg://u@db/achterban"
    assert settings.admins == {5, 6}
    assert settings.pseudonym_key == "k" * 40


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "config.example.toml"
    settings = load_settings(example, required=True, env={})
    assert [council.slug for council in settings.councils] == ["noord", "zuid"]
    assert settings.admins == frozenset(), "no stranger becomes admin by copying the example"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[telegram]\nmode = "poll"\n', "[telegram] mode"),
        ('[general]\ntimezone = "Mars/Base"\n', "[general] timezone"),
        ('[general]\nlanguage = "de"\n', "[general] language"),
        ('[database]\nurl = "mysql://x"\n', "[database] url"),
        ("[access]\nadmins = ['anna']\n", "[access] admins"),
        ('[[councils]]\nslug = "Noord Oost"\nname = "x"\n', "slug"),
        ('[[councils]]\nslug = "n"\nname = "x"\nprivacy_threshold = 2\n', "privacy_threshold"),
        ('[[councils]]\nslug = "n"\nname = "x"\nquiet_hours = "9pm"\n', "quiet_hours"),
        ('[telegram]\nmode = "webhook"\n', "secret_token"),
        ("this is = not toml [", "not valid TOML"),
        ('[telegram]\nallow_paid_broadcast = "false"\n', "allow_paid_broadcast"),
    ],
)
def test_each_mistake_stops_with_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, named: str
) -> None:
    path = write(
        tmp_path,
        text + '\n[privacy]\npseudonym_key = "' + "k" * 40 + '"\n'
        if "=" in text and "not toml" not in text
        else text,
    )
    code = main(["--config", str(path), "run"])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert named in error and error.startswith("achterban: config error:")
    assert "\n" not in error and "Traceback" not in error


def test_missing_token_and_key_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACHTERBAN_TOKEN", raising=False)
    assert main(["--config", str(write(tmp_path, "")), "run"]) == 2
    assert "[telegram] token: missing" in capsys.readouterr().err
    assert main(["--config", str(write(tmp_path, '[telegram]\ntoken = "1:x"\n')), "run"]) == 2
    assert "[privacy] pseudonym_key" in capsys.readouterr().err


def test_a_named_config_file_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "nope.toml"), "run"]) == 2
    assert "does not exist" in capsys.readouterr().err
