"""Families on WhatsApp: what only this channel has (the webhook, the window, templates,
Meta's errors, numbers that change). Flows both channels share are in the parametrized
family tests."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.wasim import LocalWhatsApp
from storage.models import Address, Person
from tests.builders import make_invite
from tests.e2e.conftest import RunningBot


async def count(bot: RunningBot, model: type) -> int:
    async with bot.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_family_joins_on_whatsapp_with_the_code_in_its_first_message(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    code = await make_invite(wabot.db, tags=("locatie:noord",))
    amira = wa.user("31612345001", name="Amira")

    await amira.send(f"Hallo! Ik wil meedoen. Mijn code: {code}")
    assert amira.last.titles == ["Nederlands", "English"]
    await amira.tap("Nederlands")
    assert "telefoonnummer" in amira.last.body
    assert await count(wabot, Person) == 0, "nothing is stored before consent"
    await amira.tap("Ja, ik ga akkoord")
    await amira.tap("16 of ouder")
    assert "Je doet nu mee met *Cliëntenraad Noord*" in amira.last.body
    assert "typ *hulp*" in amira.last.body.lower()
    async with wabot.db.read() as session:
        person = await session.scalar(select(Person))
    assert person.contact == Address.whatsapp("31612345001")


async def test_an_unknown_number_without_a_code_gets_one_line_and_nothing_is_stored(
    wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    stranger = wa.user("31612345002")
    await stranger.send("hoi, wat is dit?")
    assert "uitnodiging" in stranger.last.body
    assert len(stranger.messages) == 1
    assert await count(wabot, Person) == 0
