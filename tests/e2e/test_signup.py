"""Joining with an invite link, in both languages, with and without consent."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from storage.models import Address, Invite, Membership, MembershipTag, Person
from tests.builders import LANGUAGE_NAMES, make_invite, sign_up
from tests.e2e.conftest import RunningBot


async def count(bot: RunningBot, model: type) -> int:
    async with bot.db.begin() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_family_signs_up_in_dutch(api: LocalBotApi, bot: RunningBot) -> None:
    code = await make_invite(bot.db, tags=("locatie:noord",))
    sanne = api.user(1, first_name="Sanne", language_code="nl")

    await sanne.command("start", code)
    assert sanne.last.labels == LANGUAGE_NAMES
    await sanne.press("Nederlands")
    assert "Cliëntenraad Noord" in sanne.last.text
    assert "anoniem" in sanne.last.text
    assert await count(bot, Person) == 0, "nothing is stored before consent"
    await sanne.press("Ja, ik ga akkoord")
    assert sanne.last.labels == ["Jonger dan 16", "16 of ouder"]
    await sanne.press("16 of ouder")

    assert "Je doet nu mee met Cliëntenraad Noord" in sanne.last.text
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person))
        tags = list(await session.scalars(select(MembershipTag.tag)))
        invite = await session.scalar(select(Invite))
    assert (person.contact, person.language, person.age_band.value) == (
        Address.telegram(1),
        "nl",
        "16plus",
    )
    assert tags == ["locatie:noord"]
    assert invite.uses == 1


async def test_young_person_signs_up_in_english_with_guardian(
    api: LocalBotApi, bot: RunningBot
) -> None:
    code = await make_invite(bot.db)
    tom = api.user(2, first_name="Tom", language_code="en")

    await tom.command("start", code)
    await tom.press("English")
    await tom.press("Yes, I agree")
    await tom.press("Younger than 16")
    assert "parent or guardian" in tom.last.text
    await tom.press("Yes, they agree")

    assert "You are signed up with Cliëntenraad Noord" in tom.last.text
    async with bot.db.begin() as session:
        person = await session.scalar(select(Person))
    assert (person.language, person.age_band.value, person.guardian_consent) == (
        "en",
        "under16",
        True,
    )


async def test_under16_without_guardian_stores_nothing(api: LocalBotApi, bot: RunningBot) -> None:
    code = await make_invite(bot.db)
    noor = api.user(3)

    await noor.command("start", code)
    await noor.press("Nederlands")
    await noor.press("Ja, ik ga akkoord")
    await noor.press("Jonger dan 16")
    await noor.press("Nog niet")

    assert "Vraag het eerst aan je ouder of voogd" in noor.last.text
    assert noor.last.labels == []
    assert await count(bot, Person) == 0


async def test_consent_refused_stores_nothing(api: LocalBotApi, bot: RunningBot) -> None:
    code = await make_invite(bot.db)
    user = api.user(4, language_code="en")

    await user.command("start", code)
    await user.press("English")
    await user.press("No, thanks")

    assert "We have stored nothing about you" in user.last.text
    assert await count(bot, Person) == 0
    assert await count(bot, Membership) == 0


async def test_second_tap_on_last_button_does_not_sign_up_twice(
    api: LocalBotApi, bot: RunningBot
) -> None:
    code = await make_invite(bot.db)
    user = api.user(5)
    await user.command("start", code)
    await user.press("Nederlands")
    await user.press("Ja, ik ga akkoord")
    age_message = user.last.message_id
    await user.press("16 of ouder")

    await user.press_data(f"su:a:nl:{code}", message_id=age_message)

    assert await count(bot, Person) == 1
    assert "Welkom terug" in user.last.text


async def test_wrong_used_and_expired_codes_are_explained(
    api: LocalBotApi, bot: RunningBot
) -> None:
    used = await make_invite(bot.db, uses=1)
    expired = await make_invite(bot.db, days=-1)
    await sign_up(api.user(6), used)
    user = api.user(7)

    await user.command("start", "this-is-not-a-real-invite-code")
    assert "werkt niet" in user.last.text
    await user.command("start", used)
    assert "al gebruikt" in user.last.text
    await user.command("start", expired)
    assert "verlopen" in user.last.text


async def test_repeated_wrong_guesses_are_slowed_down(api: LocalBotApi, bot: RunningBot) -> None:
    good = await make_invite(bot.db)
    guesser = api.user(8)
    for attempt in range(5):
        await guesser.command("start", f"wrong-guess-number-{attempt:04d}-xxxxxxx")

    await guesser.command("start", good)

    assert "Wacht" in guesser.last.text and "minuten" in guesser.last.text
    assert await count(bot, Person) == 0


async def test_forged_signup_button_joins_nothing(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(9)
    await user.send("hallo")

    await user.press_data("su:a:nl:forged-code-forged-code-forged")
    assert "Deze uitnodigingslink werkt niet" in user.last.text
    toast = await user.press_data("su:a:xx")
    assert toast == "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."
    assert await count(bot, Person) == 0


async def test_start_without_code_explains_how_to_join(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(10, language_code="en-GB")
    await user.command("start")
    assert "you need an invite link" in user.last.text


async def test_member_agrees_again_for_a_second_council(api: LocalBotApi, bot: RunningBot) -> None:
    user = api.user(11)
    await sign_up(user, await make_invite(bot.db, council="noord"))

    await user.command("start", await make_invite(bot.db, council="zuid"))
    assert "Jongerenraad Zuid" in user.last.text and "Ga je akkoord?" in user.last.text
    assert await count(bot, Membership) == 1, "nothing before consent for this council"
    await user.press("Ja, ik ga akkoord")

    assert "Je doet nu ook mee met Jongerenraad Zuid" in user.last.text
    assert await count(bot, Membership) == 2


async def test_young_member_needs_a_guardian_again_for_a_second_council(
    api: LocalBotApi, bot: RunningBot
) -> None:
    user = api.user(12)
    await sign_up(user, await make_invite(bot.db, council="noord"), adult=False)
    await user.command("start", await make_invite(bot.db, council="zuid"))
    await user.press("Ja, ik ga akkoord")
    assert "ouder of voogd" in user.last.text
    await user.press("Nog niet")
    assert await count(bot, Membership) == 1
    await user.command("start", await make_invite(bot.db, council="zuid"))
    await user.press("Nee, liever niet")
    assert await count(bot, Membership) == 1
