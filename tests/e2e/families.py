"""A family in the e2e tests, on either channel: the same steps (join, tap, type, use a
command or its word), read back the same way (the newest message's text and choices).

Telegram: the simulated user of `bot.botapi`, commands as /commands. WhatsApp: the simulated
user of `bot.wasim`, commands as typed Dutch words; a label is found among reply buttons
and list rows (cut to WhatsApp's limits as the bot cuts them), or as a number of a numbered
list, which is then typed.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import unquote

from bot.botapi import LocalBotApi, SimUser
from bot.invites.links import whatsapp_link
from bot.wasim import LocalWhatsApp, WaUser
from bot.whatsapp.render import BUTTON_TITLE, ROW_TITLE, cut
from storage.models import Address

CHANNELS = ("telegram", "whatsapp")
WORDS = {
    "help": "hulp",
    "privacy": "gegevens",
    "language": "taal",
    "pause": "pauze",
    "resume": "hervat",
    "stop": "stop",
    "forget": "vergeet",
}
"""A family command and the Dutch word that does the same on WhatsApp."""
NUMBERED = re.compile(r"^\*(\d+)\* (.+)$", re.M)


class Family(Protocol):
    channel: str
    address: Address

    async def join(self, code: str) -> None: ...
    async def press(self, label: str) -> None: ...
    async def send(self, text: str) -> None: ...
    async def command(self, name: str) -> None: ...
    async def send_voice(self) -> None: ...
    @property
    def text(self) -> str: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def texts(self) -> list[str]: ...


class OnTelegram:
    channel = "telegram"

    def __init__(self, user: SimUser) -> None:
        self.user = user
        self.address = Address.telegram(user.id)

    async def join(self, code: str) -> None:
        await self.user.command("start", code)

    async def press(self, label: str) -> None:
        await self.user.press(label)

    async def send(self, text: str) -> None:
        await self.user.send(text)

    async def command(self, name: str) -> None:
        await self.user.command(name)

    async def send_voice(self) -> None:
        await self.user.send_voice()

    @property
    def text(self) -> str:
        return self.user.last.text if self.user.last else ""

    @property
    def labels(self) -> list[str]:
        return self.user.last.labels if self.user.last else []

    @property
    def texts(self) -> list[str]:
        return [message.text for message in self.user.messages]

    @property
    def toasts(self) -> list[str]:
        return self.user.toasts


class OnWhatsApp:
    channel = "whatsapp"

    def __init__(self, user: WaUser, business_number: str) -> None:
        self.user = user
        self.business_number = business_number
        self.address = Address.whatsapp(user.bsuid or user.wa_id)

    async def join(self, code: str) -> None:
        """What the wa.me link of the invite puts in the first message."""
        link = whatsapp_link(self.business_number, code, "nl")
        await self.user.send(unquote(link.split("?text=", 1)[1]))

    async def press(self, label: str) -> None:
        for message in reversed(self.user.messages):
            titles = message.titles
            for title in (label, cut(label, BUTTON_TITLE), cut(label, ROW_TITLE)):
                if title in titles:
                    await self.user.tap(title)
                    return
            numbers = {text.strip(): number for number, text in NUMBERED.findall(message.body)}
            if label in numbers:
                await self.user.send(numbers[label])
                return
            if label.isdigit() and not titles and f"*{label}*" in message.body:
                await self.user.send(label)  # a grade in a numbered list stands for itself
                return
        raise AssertionError(f"no choice {label!r} on WhatsApp; visible: {self.user.choices()}")

    async def send(self, text: str) -> None:
        await self.user.send(text)

    async def command(self, name: str) -> None:
        await self.user.send(WORDS[name])

    async def send_voice(self) -> None:
        await self.user.send_voice()

    @property
    def text(self) -> str:
        return self.user.last.body if self.user.last else ""

    @property
    def labels(self) -> list[str]:
        last = self.user.last
        if last is None:
            return []
        if last.titles:
            return [last.description(choice_id) or title for choice_id, title in last.choices]
        found = re.findall(r"\*(\d+)\*(?=\s|$)", last.body)
        named = dict(NUMBERED.findall(last.body))
        return [named.get(number, number).strip() for number in found]

    @property
    def texts(self) -> list[str]:
        return [message.body for message in self.user.messages]


def family_on(channel: str, api: LocalBotApi, wa: LocalWhatsApp, number: int) -> Family:
    """A new family on `channel`; `number` makes its Telegram id or its phone number."""
    if channel == "telegram":
        return OnTelegram(api.user(number))
    return OnWhatsApp(wa.user(f"3161{number:07d}"), wa.business_number)


async def join(
    family: Family, code: str, *, language: str = "Nederlands", adult: bool = True
) -> None:
    """The whole sign-up: language, consent, age band (and a guardian under 16)."""
    await family.join(code)
    await family.press(language)
    dutch = language == "Nederlands"
    await family.press("Ja, ik ga akkoord" if dutch else "Yes, I agree")
    await family.press(
        ("16 of ouder" if adult else "Jonger dan 16")
        if dutch
        else ("16 or older" if adult else "Younger than 16")
    )
    if not adult:
        await family.press("Ja, die is akkoord" if dutch else "Yes, they agree")
