"""/invite: staff make invite links; everyone else is refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.botapi import LocalBotApi
from bot.config import Settings
from storage.models import Draft, Invite, Membership, Role
from tests.builders import ADMIN_ID, make_invite, sign_up
from tests.e2e.conftest import RunningBot, polling_bot

LINK = re.compile(r"https://t\.me/achterban_test_bot\?start=([A-Za-z0-9_-]{22,})")


async def test_admin_makes_a_family_invite_that_works(api: LocalBotApi, bot: RunningBot) -> None:
    admin = api.user(ADMIN_ID, first_name="Anna")
    await admin.command("uitnodigen")
    assert admin.last.labels == [
        "Cliëntenraad Noord",
        "Jongerenraad Zuid",
        "Ouderraad West",
        "Annuleren",
    ]
    await admin.press("Jongerenraad Zuid")
    await admin.press("Gezinnen en jongeren")
    await admin.send("locatie:zuid zorg:ambulant")
    assert admin.last.labels == ["1 dag", "7 dagen", "30 dagen", "Annuleren"]
    await admin.press("7 dagen")
    await admin.press("10 mensen")

    text = admin.last.text
    assert "Uitnodiging van Jongerenraad Zuid voor gezinnen en jongeren" in text
    assert "locatie:zuid, zorg:ambulant" in text and "10 mensen" in text
    code = LINK.search(text).group(1)
    async with bot.db.begin() as session:
        invite = await session.scalar(select(Invite))
        assert await session.scalar(select(Draft)) is None
    assert code not in invite.code_hash, "only a hash of the code is stored"
    assert (invite.max_uses, invite.tags, invite.role) == (
        10,
        ["locatie:zuid", "zorg:ambulant"],
        Role.family,
    )

    await sign_up(api.user(30), code)
    assert "Jongerenraad Zuid" in api.user(30).last.text


async def test_wrong_tags_are_explained_and_nothing_typed_is_lost(
    api: LocalBotApi, bot: RunningBot
) -> None:
    admin = api.user(ADMIN_ID)
    await admin.command("invite")
    await admin.press("Cliëntenraad Noord")
    await admin.press("Raadsleden")
    await admin.send("locatie noord")
    assert "“locatie” is geen label" in admin.last.text
    await admin.send("a:1 b:2 c:3 d:4 e:5 f:6")
    assert "Maximaal 5 labels" in admin.last.text
    await admin.send("<b>x</b>:y" * 100)
    assert "te lang" in admin.last.text
    await admin.press("Geen labels")
    await admin.press("1 dag")
    await admin.press("1 persoon")
    invite_message = next(m for m in admin.messages if LINK.search(m.text))
    assert "raadsleden" in invite_message.text and "1 persoon" in invite_message.text


async def test_new_council_member_gets_the_council_menu(api: LocalBotApi, bot: RunningBot) -> None:
    code = await make_invite(bot.db, role=Role.staff)
    member = api.user(31)
    await sign_up(member, code)
    menu = [entry["command"] for entry in api.commands("chat", member.chat.id)]
    assert "uitnodigen" in menu
    family_menu = [entry["command"] for entry in api.commands("all_private_chats", None, "nl")]
    assert "uitnodigen" not in family_menu and "vergeet" in family_menu
    english_menu = [entry["command"] for entry in api.commands("all_private_chats", None, "en")]
    assert "forget" in english_menu


async def test_staff_of_one_council_invites_only_for_it(api: LocalBotApi, bot: RunningBot) -> None:
    staff = api.user(32)
    await sign_up(staff, await make_invite(bot.db, council="zuid", role=Role.staff))
    await staff.command("uitnodigen")
    assert staff.last.labels == ["Gezinnen en jongeren", "Raadsleden", "Medewerkers", "Annuleren"]


async def test_staff_cannot_pick_a_council_of_others(api: LocalBotApi, bot: RunningBot) -> None:
    staff = api.user(35)
    await sign_up(staff, await make_invite(bot.db, council="noord", role=Role.staff))
    await staff.command("start", await make_invite(bot.db, council="zuid", role=Role.staff))
    await staff.press("Ja, ik ga akkoord")
    await staff.command("uitnodigen")
    assert staff.last.labels == ["Cliëntenraad Noord", "Jongerenraad Zuid", "Annuleren"]

    toast = await staff.press_data("inv:c:3")

    assert toast == "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."
    await staff.press("Jongerenraad Zuid")
    assert staff.last.text == "Voor wie is deze uitnodiging?"


async def test_families_may_not_invite(api: LocalBotApi, bot: RunningBot) -> None:
    family = api.user(33)
    await sign_up(family, await make_invite(bot.db))
    await family.command("uitnodigen")
    assert family.last.text == "Sorry, alleen medewerkers kunnen /uitnodigen gebruiken."
    stranger = api.user(34, language_code="en")
    await stranger.command("invite")
    assert stranger.last.text == "Sorry, only staff can use /invite."


async def test_cancel_leaves_nothing_half_made(api: LocalBotApi, bot: RunningBot) -> None:
    admin = api.user(ADMIN_ID)
    await admin.command("uitnodigen")
    await admin.press("Cliëntenraad Noord")
    await admin.command("annuleer")
    assert admin.last.text == "Geannuleerd. Er is niets gemaakt of verstuurd."
    await admin.command("cancel")
    assert admin.last.text == "Er is niets om te annuleren."

    await admin.command("uitnodigen")
    await admin.press("Annuleren")
    async with bot.db.begin() as session:
        assert await session.scalar(select(Draft)) is None
        assert await session.scalar(select(Invite)) is None
        assert await session.scalar(select(Membership)) is None


async def test_invite_draft_survives_a_restart(api: LocalBotApi, settings: Settings) -> None:
    admin = api.user(ADMIN_ID)
    async with polling_bot(settings):
        await admin.command("uitnodigen")
        await admin.press("Cliëntenraad Noord")
    async with polling_bot(settings):
        await admin.press("Gezinnen en jongeren")
        await admin.press("Geen labels")
        assert admin.last.labels[:3] == ["1 dag", "7 dagen", "30 dagen"]
