"""Every text exists in every language with the same placeholders; commands fit Telegram."""

from __future__ import annotations

import re

from bot.chat.commands import COMMANDS
from bot.chat.menus import menu
from bot.texts import LANGUAGES, Html, texts_for
from storage.models import Role


def test_every_key_in_every_language_with_the_same_placeholders() -> None:
    dutch, english = texts_for("nl"), texts_for("en")
    assert dutch.keys() == english.keys()
    for key in dutch.keys():  # noqa: SIM118 - Texts is not a dict
        assert dutch.placeholders(key) == english.placeholders(key), key


def test_every_command_has_a_description_and_valid_names() -> None:
    for language in LANGUAGES:
        t = texts_for(language)
        for command in COMMANDS.values():
            if command.in_menu:
                assert 3 <= len(t(f"commands.{command.name}")) <= 256
            for name in command.names:
                assert re.fullmatch(r"[a-z0-9_]{1,32}", name)


def test_families_see_only_their_commands() -> None:
    family = {entry.command for entry in menu(Role.family, "nl")}
    staff = {entry.command for entry in menu(Role.staff, "en")}
    assert "uitnodigen" not in family and "vergeet" in family
    assert {"invite", "forget"} <= staff


def test_placeholders_are_escaped_unless_marked_html() -> None:
    t = texts_for("nl")
    assert "&lt;b&gt;" in t("signup.done", council="<b>")
    assert "<i>x</i>" in t("signup.done", council=Html("<i>x</i>"))


def test_unknown_language_falls_back_to_dutch() -> None:
    assert texts_for("de").language == "nl"
