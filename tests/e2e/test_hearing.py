"""Whom the council hears: the response rate per group in /results (a small group concealed,
and not to be worked out from the totals; the least-heard mark), /participation rounds (a
table and a chart over the last polls), and /templates (how shared templates worked, only from
k councils on)."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from bot.botapi import LocalBotApi, SimUser
from storage import templates
from storage.models import Council, Membership, MembershipTag, Person, Poll, Role
from tests.builders import answered_poll, make_invite, sign_up
from tests.e2e.conftest import RunningBot

ONE = [{"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Slecht"]}]
PNG = b"\x89PNG\r\n\x1a\n"


async def member_of(api: LocalBotApi, bot: RunningBot, user_id: int, council: str) -> SimUser:
    member = api.user(user_id, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, council=council, role=Role.council))
    return member


async def poll_of_groups(
    bot: RunningBot,
    groups: dict[str, tuple[int, int]],
    *,
    first_id: int,
    council: str = "noord",
    title: str = "De peiling",
) -> int:
    """A closed poll asked of families tagged `locatie:<group>` (asked, answered per group)."""
    tags = [f"locatie:{group}" for group, (asked, _) in groups.items() for _ in range(asked)]
    answers = [
        ((f"locatie:{group}",), [1])
        for group, (_, answered) in groups.items()
        for _ in range(answered)
    ]
    poll_id = await answered_poll(
        bot.db,
        questions=ONE,
        answers=answers,
        asked=len(tags),
        council=council,
        title=title,
        first_id=first_id,
    )
    async with bot.db.begin() as session:
        memberships = list(
            await session.scalars(
                select(Membership.id)
                .join(Person, Person.id == Membership.person_id)
                .where(Person.address.in_([str(first_id + n) for n in range(len(tags))]))
                .order_by(Person.id)
            )
        )
        await session.execute(
            insert(MembershipTag),
            [{"membership_id": m, "tag": tag} for m, tag in zip(memberships, tags, strict=True)],
        )
    return poll_id


async def test_results_show_whom_the_council_hears(api: LocalBotApi, bot: RunningBot) -> None:
    member = await member_of(api, bot, 800, "noord")
    poll_id = await poll_of_groups(
        bot, {"noord": (10, 8), "west": (6, 5), "zuid": (8, 3)}, first_id=50_000
    )

    await member.command("uitslag", str(poll_id))

    text = member.last.text
    assert "16 van de 24 mensen gaven antwoord (67%)" in text
    section = text[text.index("👂") :].splitlines()
    assert section == [
        "👂 Wie hoort de raad?",
        "Per locatie:",
        "noord: 8 van de 10 gaven antwoord (80%)",
        # zuid's 3 is below k; with west's 5 shown it would be 16 - 8 - 5: west is hidden too
        "west: 6 kregen de peiling; hoeveel er antwoord gaven is verborgen, zodat een klein "
        "aantal geheim blijft",
        # fewer than 5 of 8 is below 80% whatever the count: the least heard
        "zuid: minder dan 5 van de 8 gaven antwoord ← hiervan hoort de raad het minst",
    ]
    assert "(3" not in text and "(38%)" not in text and "(83%)" not in text


async def test_rounds_table_chart_and_template_use(api: LocalBotApi, bot: RunningBot) -> None:
    noord = await member_of(api, bot, 800, "noord")
    zuid = await member_of(api, bot, 801, "zuid")
    first = await poll_of_groups(bot, {"noord": (10, 8), "zuid": (10, 6)}, first_id=50_000)
    second = await poll_of_groups(
        bot, {"noord": (10, 9), "west": (6, 5), "zuid": (10, 2)}, first_id=51_000
    )

    await noord.command("deelname")
    assert "Wie de raad hoort in de laatste peilingen: /deelname rondes" in noord.last.text
    before = len(noord.messages)
    await noord.command("deelname", "rondes")

    texts = [m.text for m in noord.messages[before:] if m.kind == "text"]
    assert len(texts) == 1 and "Wie hoort de raad, per peiling – Cliëntenraad Noord" in texts[0]
    lines = [line.split() for line in texts[0].splitlines()]
    assert [f"#{first}", f"#{second}"] in lines
    assert ["noord", "80", "90"] in lines
    assert ["west", "•", "•"] in lines  # not asked the first time; hidden to protect zuid
    assert ["zuid", "60", "•"] in lines
    assert f"#{second} = “De peiling”, gesloten op" in texts[0]
    photos = [m for m in noord.messages[before:] if m.kind == "photo"]
    assert [photo.text for photo in photos] == ["Wie de raad hoort, per locatie"]
    assert photos[0].file is not None and photos[0].file.startswith(PNG)

    async with bot.db.begin() as session:
        ids = dict((await session.execute(select(Council.slug, Council.id))).all())
        wide = await templates.save_template(
            session, council_id=ids["noord"], title="Maandvraag", body={"questions": ONE}
        )
        narrow = await templates.save_template(
            session, council_id=ids["zuid"], title="Zomervraag", body={"questions": ONE}
        )
        await templates.set_shared(session, template=wide, shared=True)
        await templates.set_shared(session, template=narrow, shared=True)
    used = {
        wide.id: [
            await poll_of_groups(bot, {"a": (10, 8)}, first_id=52_000),
            await poll_of_groups(bot, {"a": (10, 5)}, first_id=52_100, council="zuid"),
            await poll_of_groups(bot, {"a": (10, 6)}, first_id=52_200, council="west"),
        ],
        narrow.id: [
            await poll_of_groups(bot, {"a": (10, 3)}, first_id=52_300, council="zuid"),
            await poll_of_groups(bot, {"a": (10, 4)}, first_id=52_400, council="west"),
        ],
    }
    async with bot.db.begin() as session:
        for template_id, poll_ids in used.items():
            await session.execute(
                update(Poll).where(Poll.id.in_(poll_ids)).values(template_id=template_id)
            )

    await zuid.command("sjablonen")  # Zuid's threshold is 3: three councils used Maandvraag
    assert zuid.last.text.splitlines() == [
        "🌐 Gedeelde sjablonen: hoe werkten ze bij andere raden?",
        "“Maandvraag” (Cliëntenraad Noord): 3 raden gebruikten het. Gemiddeld (mediaan) gaf "
        "60% antwoord.",
        "“Zomervraag” (Jongerenraad Zuid): minder dan 3 raden gebruikten het, dus nog geen "
        "cijfers.",
    ]
    await noord.command("sjablonen")  # Noord's threshold is 5
    assert "“Maandvraag” (Cliëntenraad Noord): minder dan 5 raden" in noord.last.text
    assert "60%" not in noord.last.text
