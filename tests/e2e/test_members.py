"""Finding new council members, on both channels: a poll that asks ends with the invitation;
a family that says yes reads the council's text, says how to be reached, and only that goes
to staff (with the reminder that answers stay anonymous) and is kept as a request, which
staff see with /kandidaten, export (audited), mark handled and turn into a council-member
invite with one tap; /forget removes it, the hourly clean-up too. A council member sends the
invitation on its own to one group (on WhatsApp only within the 24-hour window)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.botapi import LocalBotApi
from bot.scheduling.jobs import clean_up
from bot.wasim import LocalWhatsApp
from storage.models import (
    AuditEntry,
    Candidate,
    Council,
    Delivery,
    DeliveryStatus,
    Membership,
    Person,
    Poll,
    Role,
    Round,
    RoundKind,
    utcnow,
)
from tests.builders import make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot
from tests.e2e.families import CHANNELS, Family, OnTelegram, family_on, join

QUESTIONS = [{"kind": "yes_no", "text": "Ging het goed?"}]
INVITATION = "Wil je meedenken met de raad? Dat kost ongeveer twee avonden per maand."
COUNCIL = "Cliëntenraad Noord"


async def requests(bot: RunningBot) -> list[Candidate]:
    async with bot.db.read() as session:
        return list(await session.scalars(select(Candidate).order_by(Candidate.id)))


async def person_of(bot: RunningBot, family: Family) -> Person | None:
    async with bot.db.read() as session:
        return await session.scalar(
            select(Person).where(
                Person.channel == family.address.channel, Person.address == family.address.id
            )
        )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_yes_at_the_end_of_a_poll_reaches_staff_and_becomes_a_council_invite(
    channel: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    bot = wabot
    staff = api.user(9_400_000, first_name="Personeel")
    await sign_up(staff, await make_invite(bot.db, role=Role.staff))
    family = family_on(channel, api, wa, 9_400_001)
    await join(family, await make_invite(bot.db))
    poll_id = await open_poll_now(bot.db, questions=QUESTIONS, title="Het gesprek")
    async with bot.db.begin() as session:  # chosen in /newpoll
        await session.execute(update(Poll).where(Poll.id == poll_id).values(recruit=True))
    await bot.deliver()

    await family.press("Ja")
    assert "Dank je wel!" in family.text and INVITATION in family.text, "under the thanks"
    assert family.labels == ["Ja, vertel meer", "Nee, dank je"]
    told = len(staff.messages)
    own = "Wij zoeken jou & je mening <3"  # the council's own text (config: recruit_text)
    if channel == "whatsapp":
        async with bot.db.begin() as session:
            await session.execute(update(Council).values(recruit_text=own))
    await family.press("Ja, vertel meer")
    if channel == "telegram":
        assert "twee avonden per maand bij elkaar" in family.text, "the default text"
    else:
        assert own in family.text and "twee avonden" not in family.text
    assert "Typ je naam en een telefoonnummer of e-mailadres" in family.text
    assert "niet aan gekoppeld" in family.text
    reach = "Stuur me een Telegram-bericht" if channel == "telegram" else "App me maar"
    assert reach in family.labels
    assert len(staff.messages) == told and await requests(bot) == [], "nothing before they say"

    if channel == "telegram":
        contact = "Sam de Vries, sam@example.org"
        await family.send(contact)
    else:
        contact = f"WhatsApp: +{family.address.id}"
        await family.press(reach)
    assert family.text.startswith("Dank je wel! Het personeel van")
    message = staff.last.text
    assert contact in message and COUNCIL in message and "anoniem" in message
    assert "Het gesprek" not in message and "Ging het goed?" not in message
    person = await person_of(bot, family)
    [request] = await requests(bot)
    assert (request.contact, request.person_id, request.handled_at) == (contact, person.id, None)

    await staff.command("kandidaten")
    assert "Aanmeldingen voor Cliëntenraad Noord</b>: 1" in staff.messages[-2].html
    assert contact in staff.last.text
    assert staff.last.labels == ["Nodig uit voor de raad", "Afgehandeld"]
    await staff.press("Exporteer als CSV")
    export = staff.last
    assert export.kind == "document" and contact in export.file.decode("utf-8-sig")

    await staff.press("Nodig uit voor de raad")
    link = re.search(r"https://t\.me/\w+\?start=([\w-]+)", family.text)
    assert "nodigt je uit om mee te doen met de raad" in family.text and link
    if channel == "telegram":  # the family joins as a council member
        await family.user.command("start", link.group(1))
        await family.press("Ja, ik ga akkoord")
        assert family.text == "Je doet mee met Cliëntenraad Noord als raadslid."
        async with bot.db.read() as session:
            roles = set(await session.scalars(select(Membership.role)))
        assert Role.council in roles
    [request] = await requests(bot)
    assert request.invited_at is not None
    async with bot.db.read() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"export_candidates", "candidate_invited"} <= actions

    await staff.press("Afgehandeld")
    [request] = await requests(bot)
    assert request.handled_at is not None
    await family.command("forget")
    await family.press("Ja, wis alles")
    assert await person_of(bot, family) is None
    assert await requests(bot) == [], "/forget removes the request with the person"


async def test_the_invitation_on_its_own_goes_to_one_group_within_the_window(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    bot = wabot
    member = api.user(9_500_000, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    noord = family_on("telegram", api, wa, 9_500_001)
    again = OnTelegram(api.user(9_500_004, first_name="Noor"))
    zuid = family_on("telegram", api, wa, 9_500_002)
    late = family_on("whatsapp", api, wa, 9_500_003)
    tagged = ((noord, "noord"), (again, "noord"), (zuid, "zuid"), (late, "noord"))
    for family, tag in tagged:
        await join(family, await make_invite(bot.db, tags=(f"locatie:{tag}",)))
    async with bot.db.begin() as session:  # the WhatsApp family wrote two days ago
        await session.execute(
            update(Person)
            .where(Person.channel == "whatsapp")
            .values(window_at=utcnow() - timedelta(days=2))
        )
    before = (len(zuid.texts), len(late.texts))

    await member.command("uitnodiging", "locatie:noord")
    assert INVITATION in member.last.text
    await member.press("locatie:noord in Cliëntenraad Noord")
    assert "De uitnodiging gaat naar 3 gezinnen van Cliëntenraad Noord" in member.last.text
    await bot.deliver()
    assert noord.text == INVITATION and noord.labels == ["Ja, vertel meer", "Nee, dank je"]
    assert (len(zuid.texts), len(late.texts)) == before, "another group; outside the window"
    async with bot.db.read() as session:
        sending = await session.scalar(select(Round).where(Round.kind == RoundKind.invitation))
        rows = list(await session.execute(select(Delivery.status, Delivery.error)))
        council = await session.scalar(select(Council).where(Council.slug == "noord"))
    assert sending.poll_id is None and sending.council_id == council.id and sending.total == 3
    assert sorted(rows) == [
        (DeliveryStatus.sent, None),
        (DeliveryStatus.sent, None),
        (DeliveryStatus.skipped, "outside window"),
    ]

    await noord.press("Nee, dank je")
    assert noord.text.startswith("Goed, dank je wel!")
    assert await requests(bot) == [], "a no keeps nothing"
    await again.press("Ja, vertel meer")
    await again.press("Stuur me een Telegram-bericht")
    assert again.text.startswith(  # this council has no staff yet: kept for /kandidaten
        "Dank je wel! We hebben je bericht bewaard voor het personeel van Cliëntenraad Noord"
    )
    [request] = await requests(bot)
    assert request.contact == "Telegram: Noor (tg://user?id=9500004)"

    person = await person_of(bot, noord)
    async with bot.db.begin() as session:  # handled, 91 days old, and a fresh one
        for handled, age in ((True, 1), (False, 91), (False, 1)):
            session.add(
                Candidate(
                    council_id=council.id,
                    person_id=person.id,
                    contact="06-11112222",
                    created_at=utcnow() - timedelta(days=age),
                    handled_at=utcnow() if handled else None,
                )
            )
    await clean_up(bot.db, now=utcnow())
    async with bot.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Candidate)) == 2
