"""/newpoll: council members write a poll step by step; every mistake is explained."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi, SimUser
from bot.config import Settings
from storage.models import (
    Draft,
    Option,
    Poll,
    PollStatus,
    Question,
    Role,
    Template,
)
from tests.builders import make_invite, sign_up, write_poll
from tests.e2e.conftest import RunningBot, polling_bot


async def council_member(
    api: LocalBotApi, bot: RunningBot, user_id: int = 500, council: str = "noord"
) -> SimUser:
    member = api.user(user_id, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, role=Role.council, council=council))
    return member


async def families(
    api: LocalBotApi,
    bot: RunningBot,
    count: int,
    *,
    tags: tuple[str, ...] = (),
    first_id: int = 600,
) -> list[SimUser]:
    people = [api.user(first_id + index) for index in range(count)]
    code = await make_invite(bot.db, tags=tags, uses=100)
    for person in people:
        await sign_up(person, code)
    return people


async def test_a_written_poll_reaches_every_family(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    reached = await families(api, bot, 3)

    await write_poll(member)
    preview = [message.text for message in member.messages[-4:]]
    assert preview[0].startswith("Voorbeeld.")
    assert "Vraag 1 van 2" in preview[1] and "Hoe vond je het gesprek?" in preview[1]
    assert member.messages[-3].labels == ["Goed", "Gaat wel", "Niet goed", "Overslaan"]
    assert member.last.labels == [
        "✅ Versturen",
        "✏️ Iets veranderen",
        "📊 Uitslag delen met gezinnen: aan",
        "✍️ Eigen regel toevoegen",
        "🤝 Uitnodiging voor de raad: uit",
        "🎙 Spraakbericht toevoegen",
        "💾 Bewaren als sjabloon",
        "Annuleren",
    ]
    assert "Anoniem: ja" in member.last.text
    toast = await member.press_data("qa:0:1", message_id=member.messages[-3].message_id)
    assert toast == "Dit is een voorbeeld. Gezinnen kunnen hier tikken."

    await member.press("✅ Versturen")
    await bot.deliver()

    assert member.messages[-2].text.startswith("Verstuurd! 3 gezinnen krijgen de peiling nu.")
    assert member.last.text == "✅ “Hoe gaat het?” is verstuurd naar 3 van de 3 mensen.", (
        "the progress message ends with a final line, without counts of 0"
    )
    for family in reached:
        assert "Cliëntenraad Noord vraagt jou: Hoe gaat het?" in family.last.text
        assert family.last.labels == ["Goed", "Gaat wel", "Niet goed", "Overslaan"]
    async with bot.db.begin() as session:
        poll = await session.scalar(select(Poll))
        assert (poll.status, poll.anonymous, poll.allow_change) == (PollStatus.open, True, True)
        assert await session.scalar(select(func.count()).select_from(Option)) == 3
        assert await session.scalar(select(Draft)) is None


async def test_every_mistake_is_explained_and_nothing_typed_is_lost(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    await families(api, bot, 1, tags=("locatie:noord",))
    await member.command("nieuw")
    await member.send("x" * 121)
    assert member.last.text == "Dat is te lang: maximaal 120 tekens graag."
    await member.send("Onze <b>vragen</b> & meer")
    await member.press("Top 3 van belangrijke punten")
    await member.send("Wat is het belangrijkst?")
    await member.send("Alleen één")
    assert member.last.text == "Geef minstens 3 antwoorden, één per regel."
    await member.send("\n".join(f"punt {n}" for n in range(11)))
    assert member.last.text == "Maximaal 10 antwoorden graag."
    await member.send("wachttijd\nervaringsdeskundigheid en ervaringsdeskundigen samen\nuitleg")
    assert "is te lang voor een knop" in member.last.text
    await member.send("wachttijd\nWachttijd\nuitleg")
    assert "Twee antwoorden zijn hetzelfde" in member.last.text
    await member.send("wachttijd\nervaringsdeskundigheid\nuitleg\nbereikbaarheid")
    await member.press("Geen vragen meer")
    await member.press("Alleen sommige groepen (labels)")
    await member.send("locatie:zuid")
    assert member.last.text.startswith("Niemand in deze raad heeft het label “locatie:zuid”.")
    await member.send("locatie:noord")
    await member.press("Met namen: de raad ziet wie wat antwoordde")
    await member.press("Kies een datum en tijd")
    await member.send("morgen")
    assert member.last.text.startswith("Die datum kan ik niet lezen.")
    await member.send("01-01-2020 10:00")
    assert member.last.text.startswith("Dat moment is al voorbij.")
    await member.send("01-01-2099 10:00")
    await member.press("Kies een datum en tijd")
    await member.send("31-12-2098 10:00")
    assert member.last.text.startswith("De peiling moet sluiten nadat hij begint.")
    await member.send("15-01-2099 10:00")
    await member.press("Nee, het eerste antwoord telt")
    assert "Voor: locatie:noord" in member.last.text and "Anoniem: nee" in member.last.text
    assert "Begint: 01-01-2099 10:00" in member.last.text
    await member.press("✅ Versturen")

    assert (
        member.last.text
        == "Gepland. De peiling begint op 01-01-2099 10:00 en sluit op 15-01-2099 10:00."
    )
    async with bot.db.begin() as session:
        poll = await session.scalar(select(Poll))
        question = await session.scalar(select(Question))
        labels = list(await session.scalars(select(Option.label).order_by(Option.position)))
    assert (poll.title, poll.status, poll.anonymous, poll.allow_change) == (
        "Onze <b>vragen</b> & meer",
        PollStatus.scheduled,
        False,
        False,
    )
    assert poll.audience_tags == ["locatie:noord"]
    assert question.text == "Wat is het belangrijkst?"
    assert labels == ["wachttijd", "ervaringsdeskundigheid", "uitleg", "bereikbaarheid"]


async def test_edit_from_the_preview_changes_one_part(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    await write_poll(member)
    await member.press("✏️ Iets veranderen")
    assert member.last.labels == ["De titel", "Vraag 1", "Vraag 2", "Wie, wanneer en anoniem"]
    await member.press("Vraag 2")
    await member.press("Ja / nee / weet ik niet")
    await member.send("Kom je naar de avond?")
    assert member.messages[-2].labels == ["Ja", "Nee", "Weet ik niet", "Overslaan"]
    await member.press("✏️ Iets veranderen")
    await member.press("De titel")
    await member.send("Nieuwe titel")
    assert "Titel: Nieuwe titel" in member.last.text and "Vragen: 2" in member.last.text


async def test_cancel_leaves_nothing_behind(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    await member.command("nieuw")
    await member.send("Titel")
    await member.press("Open antwoord")
    await member.command("annuleer")
    assert member.last.text == "Geannuleerd. Er is niets gemaakt of verstuurd."
    await member.send("Nog een vraag?")
    assert "Ik kan alleen knoppen en opdrachten lezen" in member.last.text
    async with bot.db.begin() as session:
        assert await session.scalar(select(Draft)) is None
        assert await session.scalar(select(Poll)) is None


async def test_text_where_a_button_is_expected_keeps_the_step(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    await member.command("nieuw")
    await member.send("Titel")
    await member.send("een grapje")
    assert member.last.text == "Gebruik de knoppen hierboven, of typ /annuleer om te stoppen."
    await member.press("Ja / nee / weet ik niet")
    assert member.messages[-2].text.startswith("Typ vraag 1."), "the pressed message moves on"


async def test_writing_survives_a_restart(api: LocalBotApi, settings: Settings) -> None:
    member = api.user(500)
    async with polling_bot(settings) as bot:
        await sign_up(member, await make_invite(bot.db, role=Role.council))
        await member.command("nieuw")
        await member.send("Titel na herstart")
        await member.press("Een rapportcijfer van 1 tot 10")
    async with polling_bot(settings):
        await member.send("Welk cijfer geef je ons?")
        assert member.last.text.startswith("Vraag 2: wat voor vraag is het?")


async def test_families_may_not_write_polls(api: LocalBotApi, bot: RunningBot) -> None:
    (family,) = await families(api, bot, 1)
    await family.command("nieuw")
    assert family.last.text == "Sorry, alleen raadsleden kunnen /nieuw gebruiken."


async def test_templates_are_shared_across_councils(api: LocalBotApi, bot: RunningBot) -> None:
    noord = await council_member(api, bot, 500, "noord")
    zuid = await council_member(api, bot, 501, "zuid")
    await write_poll(noord, title="Jaarlijkse vragen")
    toast = await noord.press("💾 Bewaren als sjabloon")
    assert toast.startswith("Bewaard als sjabloon.")
    await noord.press("Annuleren")

    await zuid.command("nieuw")
    assert "Jaarlijkse vragen" not in " ".join(zuid.last.labels), "not shared yet"
    await zuid.command("annuleer")
    await noord.command("sjablonen")
    await noord.press("🔒 Jaarlijkse vragen (tik om te delen)")
    assert noord.last.labels == ["🌐 Jaarlijkse vragen (gedeeld: tik om te stoppen)"]

    await zuid.command("nieuw")
    assert zuid.last.labels == [
        "Jaarlijkse vragen (gedeeld door Cliëntenraad Noord)",
        "Leeg beginnen",
        "Annuleren",
    ]
    await zuid.press("Jaarlijkse vragen (gedeeld door Cliëntenraad Noord)")
    assert zuid.last.text.startswith("Vraag 3: wat voor vraag is het?")
    await zuid.press("Geen vragen meer")
    assert zuid.last.labels[0] == "Iedereen van Jongerenraad Zuid"
    async with bot.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Template)) == 1
    await zuid.press_data("tp:unshare:1")
    assert zuid.toasts[-1].startswith("Deze knop werkt niet meer"), (
        "only the owner council may unshare"
    )


@pytest.mark.parametrize("last_step", ["typed", "tapped"])
async def test_a_timeout_says_so_and_leaves_nothing_half_made(
    api: LocalBotApi, settings: Settings, monkeypatch: pytest.MonkeyPatch, last_step: str
) -> None:
    from handlers.newpoll import states

    monkeypatch.setattr(states, "TIMEOUT_SECONDS", 0.5)
    async with polling_bot(settings) as bot:
        member = await council_member(api, bot)
        await member.command("nieuw")
        await member.send("Een titel")
        if last_step == "tapped":
            await member.press("Open antwoord")
        await asyncio.sleep(1.0)
        if last_step == "tapped":
            await member.send("Een vraag, te laat")
        else:
            await member.press("Eén keuze")
        assert member.last.text.startswith("Je ging een tijd niet verder")
        async with bot.db.begin() as session:
            assert await session.scalar(select(Draft)) is None


async def test_long_multibyte_options_fit_telegram(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    await families(api, bot, 1)
    options = ["ervaringsdeskundigheid " * 2, "مرحبا بكم في المجلس " * 2, "😀" * 40, "x"]
    options = [option.strip()[:40] for option in options]
    await member.command("nieuw")
    await member.send("ë" * 120)
    for number in range(5):
        await member.press("Meerdere keuzes")
        await member.send(f"{number} " + "vraag " * 49)
        await member.send("\n".join(options + [f"optie {n}" for n in range(6)]))
    await member.press("Iedereen van Cliëntenraad Noord")
    await member.press("Anoniem (beste keuze)")
    await member.press("Meteen")
    await member.press("Na 3 dagen")
    await member.press("Ja, dat mag")
    await member.press("✅ Versturen")
    await bot.deliver()
    family = api.user(600)
    assert family.last.labels[0] == "☐ " + options[0]
    await family.press("☐ " + options[2])
    assert family.last.labels[2] == "☑ " + options[2]


async def test_each_step_is_stored_before_it_is_confirmed(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    await member.command("nieuw")
    await member.send("Titel")
    async with bot.db.begin() as session:
        draft = await session.scalar(select(Draft))
    from handlers.newpoll.states import KIND

    assert draft is not None and draft.step == str(KIND), "any process continues from here"


async def test_a_full_template_goes_straight_to_the_audience(
    api: LocalBotApi, bot: RunningBot
) -> None:
    from storage import templates

    member = await council_member(api, bot)
    five = [{"kind": "yes_no", "text": f"Vraag {n}"} for n in range(5)]
    async with bot.db.begin() as session:
        await templates.save_template(
            session, council_id=1, title="Vijf vragen", body={"questions": five}
        )
    await member.command("nieuw")
    await member.press("Vijf vragen")
    assert member.last.text == "Wie krijgt deze peiling?"
    assert await member.press_data("np:k:single") is not None
