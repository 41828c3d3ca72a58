"""/invite: staff make invite links; everyone else is refused."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image
from sqlalchemy import select

from bot.botapi import LocalBotApi
from bot.config import Settings, WhatsAppSettings
from storage.models import Draft, Invite, Membership, Role
from tests.builders import ADMIN_ID, make_invite, make_settings, sign_up
from tests.e2e.conftest import RunningBot, free_port, polling_bot

LINK = re.compile(r"https://t\.me/achterban_test_bot\?start=([A-Za-z0-9_-]{22,})")
WHATSAPP = re.compile(r"https://wa\.me/31201234567\?text=\S+%3A%20([A-Za-z0-9_-]{22})(?![\w-])")
STALE = "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."


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
    assert "wa.me" not in text, "WhatsApp is off"
    code = LINK.search(text).group(1)
    async with bot.db.begin() as session:
        invite = await session.scalar(select(Invite))
        assert await session.scalar(select(Draft)) is None, "no draft holds the code"
    assert code not in invite.code_hash, "only a hash of the code is stored"
    assert admin.last.labels == ["Maak een poster"]
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


async def test_a_poster_invite_reaches_whatsapp_too(api: LocalBotApi, db_url: str) -> None:
    whatsapp = WhatsAppSettings(
        phone_number_id="100200300",
        token="t",
        app_secret="s",
        verify_token="v",
        business_number="31201234567",
        listen="127.0.0.1",
        port=free_port(),
    )
    admin = api.user(ADMIN_ID)
    async with polling_bot(make_settings(api, db_url, whatsapp=whatsapp)) as bot:
        await admin.command("uitnodigen")
        await admin.press("Ouderraad West")
        await admin.press("Gezinnen en jongeren")
        await admin.press("Geen labels")
        await admin.press("30 dagen")
        assert admin.last.labels == [
            "1 persoon",
            "10 mensen",
            "100 mensen",
            "1.000 mensen",
            "Geen limiet, tot de link verloopt",
            "Annuleren",
        ]
        await admin.press("1.000 mensen")
        summary = admin.last
        assert "voor 1.000 mensen" in summary.text
        code = LINK.search(summary.text).group(1)
        assert WHATSAPP.search(summary.text).group(1) == code
        async with bot.db.read() as session:
            invite = await session.scalar(select(Invite))
        assert invite.max_uses == 1000

        await admin.press("Maak een poster")

        png, pdf = (m for m in admin.messages if m.kind == "document")
        assert (png.filename, pdf.filename) == ("poster-west.png", "poster-west.pdf")
        assert pdf.file.startswith(b"%PDF")
        scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.file)))
        links = {LINK.search(summary.text).group(0), WHATSAPP.search(summary.text).group(0)}
        assert {found.text for found in scanned} == links
        assert next(m for m in admin.messages if m.message_id == summary.message_id).labels == []
        async with bot.db.read() as session:
            assert await session.scalar(select(Draft)) is None, "the code is forgotten"
        toast = await admin.press_data(f"inv:p:{invite.id}", summary.message_id)
        assert toast == STALE, "an invite's number is not its code"

        await admin.command("uitnodigen")  # council members and staff stay on Telegram
        for label in ("Ouderraad West", "Raadsleden", "Geen labels", "1 dag", "1 persoon"):
            await admin.press(label)
        assert LINK.search(admin.last.text) and "wa.me" not in admin.last.text
        assert admin.last.labels == []


async def test_only_the_maker_gets_the_poster_of_an_invite(
    api: LocalBotApi, bot: RunningBot
) -> None:
    same_council, other_council = api.user(36), api.user(37)
    await sign_up(same_council, await make_invite(bot.db, council="zuid", role=Role.staff))
    await sign_up(other_council, await make_invite(bot.db, council="noord", role=Role.staff))
    admin = api.user(ADMIN_ID)
    await admin.command("uitnodigen")
    for label in ("Jongerenraad Zuid", "Gezinnen en jongeren", "Geen labels", "1 dag"):
        await admin.press(label)
    await admin.press("1 persoon")
    code = LINK.search(admin.last.text).group(1)
    async with bot.db.read() as session:
        assert await session.scalar(select(Draft)) is None, "no draft holds the code"

    for staff in (same_council, other_council):  # even knowing the code
        assert await staff.press_data(f"inv:p:{code}") == STALE
        assert [m for m in staff.messages if m.kind == "document"] == []
    assert await admin.press_data("inv:p:x") == STALE

    await admin.press("Maak een poster")
    png, pdf = (m for m in admin.messages if m.kind == "document")
    assert pdf.file.startswith(b"%PDF")
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.file)))
    assert [found.text for found in scanned] == [f"https://t.me/achterban_test_bot?start={code}"]
    async with bot.db.read() as session:
        assert await session.scalar(select(Draft)) is None


async def test_the_poster_comes_from_any_process_but_not_for_a_revoked_invite(
    api: LocalBotApi, settings: Settings
) -> None:
    """The code travels in the button (it is in the message anyway), never in the database:
    after a restart (or on another process) the poster still comes; not once revoked."""
    admin = api.user(ADMIN_ID)
    async with polling_bot(settings):
        for _ in range(2):
            await admin.command("uitnodigen")
            for label in ("Ouderraad West", "Gezinnen en jongeren", "Geen labels", "7 dagen"):
                await admin.press(label)
            await admin.press("10 mensen")
    async with polling_bot(settings) as bot:
        async with bot.db.begin() as session:
            first = await session.scalar(select(Invite).order_by(Invite.id).limit(1))
            first.revoked = True
        await admin.press("Maak een poster")  # the newest: the second invite
        assert [m.kind for m in admin.messages[-2:]] == ["document", "document"]
        older = [m for m in admin.messages if "Maak een poster" in m.labels]
        assert len(older) == 1, "the button of the poster made is gone"
        toast = await admin.press("Maak een poster")
        assert toast is not None and "niet meer" in toast
        async with bot.db.read() as session:
            assert await session.scalar(select(Draft)) is None
            hashes = [invite.code_hash for invite in await session.scalars(select(Invite))]
        assert all(len(found) == 64 for found in hashes), "only the codes' hashes are stored"
