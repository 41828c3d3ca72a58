"""Every text exists in every language with the same placeholders; commands fit Telegram."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.chat.commands import COMMANDS
from bot.chat.menus import menu
from bot.texts import LANGUAGES, Html, texts_for
from storage.models import Role

TAG = re.compile(r"</?([a-z]+)[^>]*>")


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_key_in_every_language_with_the_same_placeholders_and_tags(language: str) -> None:
    dutch, other = texts_for("nl"), texts_for(language)
    assert other.keys() == dutch.keys()
    for key in dutch.keys():  # noqa: SIM118 - Texts is not a dict
        assert other.placeholders(key) == dutch.placeholders(key), key
        assert sorted(TAG.findall(other(key))) == sorted(TAG.findall(dutch(key))), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_renders_with_its_placeholders_as_valid_telegram_html(language: str) -> None:
    """Each text with every placeholder filled in (a value with HTML in it, which must come
    out escaped) is HTML that Telegram accepts: only its tags, each closed in order."""
    for channel in ("telegram", "whatsapp"):
        t = texts_for(language, channel)
        for key in sorted(t.keys()):
            values = {name: "<x>&" for name in t.placeholders(key)}
            text = t(key, **values) if values else t(key)
            assert "<x>" not in text and "{" not in text.replace("{{", ""), (language, key)
            HTML.feed(text)
            assert HTML.problems(allow={"b", "i", "code", "a", "pre", "u", "s"}) == [], (
                language,
                key,
                text,
            )


def test_each_language_is_named_in_its_own_script() -> None:
    names = {language: texts_for(language)("account.language_name") for language in LANGUAGES}
    assert names == {
        "nl": "Nederlands",
        "en": "English",
        "ar": "العربية",
        "tr": "Türkçe",
        "pl": "Polski",
        "uk": "Українська",
    }


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


class _Tags(HTMLParser):
    """The tags of one text, checked as Telegram does: known tags, closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.open: list[str] = []
        self.wrong: list[str] = []

    def feed(self, data: str) -> None:
        self.found, self.open, self.wrong = [], [], []
        super().feed(data)
        self.close()
        self.reset()

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.found.append(tag)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.wrong.append(f"</{tag}>")

    def problems(self, allow: set[str]) -> list[str]:
        unknown = [tag for tag in self.found if tag not in allow]
        return unknown + self.wrong + [f"<{tag}> not closed" for tag in self.open]


HTML = _Tags()


def test_arabic_lines_that_open_with_a_latin_name_still_read_right_to_left() -> None:
    t = texts_for("ar")
    intro = t("poll.intro", council="Cliëntenraad Noord", title="Het eerste gesprek")
    assert intro.startswith("\u200f<b>Cliëntenraad Noord</b> يسألك"), "an RLM first"
    assert not t("poll.thanks", closes="10-12").startswith("\u200f"), "Arabic first: as is"
    assert t("signup.age_16plus") == "16 سنة أو أكثر", "digits set no direction"
    assert "\u200f" not in texts_for("nl")("poll.intro", council="X", title="Y")
