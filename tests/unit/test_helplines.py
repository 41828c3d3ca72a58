"""Help lines and alarm words: matching on whole words whatever the case or accents, the
default lists of every language, a council's own lines and words from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.family.helplines import DEFAULT_ALARMS, Alarms, desk, help_screen, results_line, words
from bot.texts import LANGUAGES, texts_for
from storage.models import Council

DUTCH = Alarms({"nl": DEFAULT_ALARMS["nl"]})


@pytest.mark.parametrize(
    ("text", "alarming"),
    [
        ("Mijn broertje slaapt slecht", False),  # "slaapt" is not "slaan"
        ("Ze slaan elkaar soms", True),
        ("IK WORD GESLAGEN!!", True),
        ("ik   word\ngeslagen", True),
        ("Ik denk aan SUÏCIDE", True),
        ("ik denk aan suicide", True),
        ("zelfmoordgedachten", True),  # zelfmoord*
        ("zelf moord", False),
        ("dat was doodgewoon", False),
        ("Thuis is het niet veilig.", True),
        ("Het is daar niet zo veilig", False),  # a phrase is its words in order
        ("Fijne begeleiding, dank jullie wel", False),
    ],
)
def test_dutch_matches_whole_words_in_order_whatever_the_case_or_accents(
    text: str, alarming: bool
) -> None:
    assert DUTCH.match(text) is alarming


def test_words_fold_case_accents_apostrophes_and_letters_of_each_script() -> None:
    assert words("Suïcide! Don't") == ["suicide", "dont"]
    assert words("GÜVENDE DEĞİLİM ı") == ["guvende", "degilim", "i"]
    assert words("Chcę umrzeć, łza") == ["chce", "umrzec", "lza"]
    assert words("б'є мене, й ї") == ["бє", "мене", "и", "і"]
    assert words("أُرِيدُ أَنْ أَمُوتَ") == words("اريد ان اموت")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "My dad HITS ME when he is drunk"),
        ("en", "i'm not safe at home"),
        ("ar", "اريد ان اموت"),
        ("tr", "Evde güvende değilim"),
        ("pl", "Chcę umrzeć"),
        ("uk", "Вітчим б'є мене"),
    ],
)
def test_every_language_matches_its_own_alarms_and_all_are_checked_at_once(
    language: str, text: str
) -> None:
    assert Alarms({language: DEFAULT_ALARMS[language]}).match(text)
    assert desk(()).default.alarms.match(text)


def test_each_language_has_a_default_list_that_loads() -> None:
    assert set(DEFAULT_ALARMS) == set(LANGUAGES)
    for language, phrases in DEFAULT_ALARMS.items():
        assert len(phrases) >= 10, language
        alarms = Alarms({language: phrases})
        assert len(alarms.patterns) == len(phrases), language
        for phrase in phrases:
            assert alarms.match(f"… {phrase.rstrip('*')}s …" if phrase.endswith("*") else phrase)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


COUNCIL = """
[[councils]]
slug = "noord"
name = "Noord"
languages = ["nl", "en"]
"""
OWN = """
[[councils.help_lines]]
name = "Crisisdienst"
number = "050-1234567"
about = { nl = "Dag en nacht.", en = "Day and night." }

[councils.alarm_words]
nl = ["koekje"]
"""


def test_a_council_s_own_lines_and_words_replace_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, COUNCIL + OWN), required=True, env={})
    noord = Council(id=1, slug="noord", name="Noord")
    help_ = desk(settings.councils).of(noord)
    assert help_.alarms.match("een Koekje") and not help_.alarms.match("ik word geslagen")
    assert help_.alarms.match("kill myself"), "other languages keep their defaults"
    turkish = help_screen(texts_for("tr"), desk(settings.councils), [noord]).text
    assert "Crisisdienst" in turkish and "Dag en nacht." in turkish  # the council's first
    assert "Day and night." in help_screen(texts_for("en"), desk(settings.councils), [noord]).text
    assert "Kindertelefoon" not in turkish
    other = help_screen(texts_for("nl"), desk(settings.councils), [Council(slug="elders")])
    assert "0800-0432" in other.text and "112" in other.text, "an unknown council: the defaults"


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[[councils.help_lines]]\nname = 'X'\nnumber = '1'\nabout = { en = 'y' }\n", "about"),
        ("[[councils.help_lines]]\nname = ''\nnumber = '1'\nabout = { nl = 'y' }\n", "#1"),
        ("[councils.alarm_words]\nde = ['x']\n", "alarm_words.de"),
        ("[councils.alarm_words]\nnl = 'slaan'\n", "alarm_words.nl"),
        ("[councils.alarm_words]\nnl = ['zelf*moord']\n", "alarm_words.nl"),
        ("[councils.alarm_words]\nnl = ['!!']\n", "alarm_words.nl"),
    ],
)
def test_config_mistakes_are_named(tmp_path: Path, extra: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_settings(write(tmp_path, COUNCIL + extra), required=True, env={})


def test_the_staff_count_is_concealed_below_k() -> None:
    t = texts_for("en")
    assert "fewer than 5" in results_line(t, 0, k=5)
    assert "fewer than 5" in results_line(t, 4, k=5)
    assert ": 5 " in results_line(t, 5, k=5)
