"""What others said: at closing every family that was asked gets the results in its language
(small counts concealed, open answers never, nothing below k or when the council switched it
off), a chart per question on Telegram, and the follow-up refers back to it; /newpoll's
choices for it and for the invitation to join the council."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.botapi import LocalBotApi
from bot.results.closing import close_due_polls
from bot.wasim import LocalWhatsApp
from storage import polls
from storage.models import (
    Council,
    Delivery,
    DeliveryStatus,
    Person,
    Poll,
    Role,
    Round,
    RoundKind,
    Schedule,
    Template,
    utcnow,
)
from tests.builders import answered_poll, make_invite, open_poll_now, sign_up, write_poll
from tests.e2e.conftest import RunningBot
from tests.e2e.families import family_on, join

QUESTIONS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "yes_no", "text": "Kom je weer?"},
    {"kind": "open_text", "text": "Wat kan beter?"},
]
STALE = "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."


async def summaries(bot: RunningBot, poll_id: int) -> list[int]:
    async with bot.db.read() as session:
        return list(
            await session.scalars(
                select(Round.total).where(Round.poll_id == poll_id, Round.kind == RoundKind.summary)
            )
        )


async def close_all(bot: RunningBot) -> None:
    await close_due_polls(bot.app.bot, bot.db, now=utcnow() + timedelta(days=8))
    await bot.deliver()


async def test_every_asked_family_hears_what_others_said(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    code = await make_invite(wabot.db, council="zuid", uses=20)  # k = 3
    dutch, other = family_on("telegram", api, wa, 901), family_on("telegram", api, wa, 902)
    english, phone = family_on("telegram", api, wa, 903), family_on("whatsapp", api, wa, 904)
    late = family_on("whatsapp", api, wa, 905)  # asked, did not answer, and wrote long ago
    for family in (dutch, other, phone, late):
        await join(family, code)
    await join(english, code, language="English")
    async with wabot.db.begin() as session:  # last month's round of the same schedule
        council = await session.scalar(select(Council).where(Council.slug == "zuid"))
        template = Template(council_id=council.id, title="Maandelijks", body={})
        session.add(template)
        await session.flush()
        schedule = Schedule(council_id=council.id, template_id=template.id, paused=True)
        session.add(schedule)
        await session.flush()
    earlier = await answered_poll(
        wabot.db,
        questions=QUESTIONS,
        answers=[((), [1, 1, None])] * 3 + [((), [2, 2, None])] * 2,
        council="zuid",
        closed=False,
        schedule_id=schedule.id,
        first_id=70_000,
    )
    poll_id = await open_poll_now(wabot.db, questions=QUESTIONS, council="zuid", title="Juni")
    async with wabot.db.begin() as session:
        await session.execute(update(Poll).where(Poll.id == earlier).values(share_results=False))
        await session.execute(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(schedule_id=schedule.id, results_note="Dank je! In juli praten we erover.")
        )
    await wabot.deliver()
    for family, picks in (
        (dutch, ["Goed", "Ja", "Overslaan"]),
        (other, ["Slecht", "Ja", "Overslaan"]),
        (english, ["Goed", "Yes", "Skip"]),
        (phone, ["Goed", "Ja", "Overslaan"]),
    ):
        for label in picks:
            await family.press(label)

    async with wabot.db.begin() as session:
        await session.execute(
            update(Person)
            .where(Person.address == late.address.id)
            .values(window_at=utcnow() - timedelta(days=2))
        )
    await close_all(wabot)

    assert await summaries(wabot, earlier) == [], "the council switched it off for that one"
    assert await summaries(wabot, poll_id) == [5]
    assert "Wat anderen zeiden" not in late.text, "outside WhatsApp's window: not sent"
    async with wabot.db.read() as session:
        statuses = await session.scalars(
            select(Delivery.status)
            .join(Round, Round.id == Delivery.round_id)
            .where(Round.kind == RoundKind.summary)
        )
        assert sorted(statuses) == [DeliveryStatus.sent] * 4 + [DeliveryStatus.skipped]
    assert dutch.text == (
        "📊 Wat anderen zeiden\nOver de peiling “Juni”:\n4 van de 5 gezinnen gaven antwoord.\n\n"
        "1. Hoe was het?\n• Goed: 75% (vorige keer 60%)\n• Matig: minder dan 3\n"
        "• Slecht: minder dan 3\n\n2. Kom je weer?\n• Ja: 100% (vorige keer 60%)\n"
        "• Nee: minder dan 3\n• Weet ik niet: minder dan 3\n\n"
        "💬 Jongerenraad Zuid: Dank je! In juli praten we erover."
    )
    assert "Wat kan beter" not in dutch.text, "open answers never"
    assert dutch.labels == ["📊 Grafiek van vraag 1", "📊 Grafiek van vraag 2"]
    assert english.text.startswith("📊 What others said\nAbout the poll “Juni”:\n")
    assert "4 of 5 families answered." in english.text and "• Yes: 100%" in english.text
    assert "• Matig: fewer than 3" in english.text
    assert "Wat anderen zeiden" in phone.text and "• Goed: 75%" in phone.text
    assert phone.labels == [], "no chart on WhatsApp"

    await dutch.press("📊 Grafiek van vraag 1")
    chart = dutch.user.last
    assert chart.kind == "photo" and chart.file is not None and len(chart.file) > 5_000
    assert chart.text.startswith("1.") and "Hoe was het?" in chart.text
    toast = await dutch.user.press_data(f"sr:{earlier}:1")  # a poll whose results went nowhere
    assert dutch.user.last.message_id == chart.message_id, "no chart of a poll not shared"
    assert toast == STALE

    async with wabot.db.begin() as session:
        poll = await session.get(Poll, poll_id)
        await polls.add_followup(session, poll=poll, text="We doen het.", created_by=None)
    await wabot.deliver()
    assert "We doen het." in dutch.text and "De uitslag van deze peiling kreeg je op" in dutch.text
    assert "You got the results of this poll on" in english.text


async def test_nothing_below_k_or_when_switched_off(bot: RunningBot) -> None:
    few = await answered_poll(
        bot.db,
        questions=QUESTIONS[:1],
        answers=[((), [1])] * 2,
        council="zuid",
        closed=False,
        first_id=71_000,
    )
    off = await answered_poll(
        bot.db,
        questions=QUESTIONS[:1],
        answers=[((), [1])] * 3,
        council="zuid",
        closed=False,
        first_id=72_000,
    )
    async with bot.db.begin() as session:
        await session.execute(update(Poll).where(Poll.id == off).values(share_results=False))
    await close_all(bot)
    assert await summaries(bot, few) == [] and await summaries(bot, off) == []
    async with bot.db.read() as session:
        statuses = set(await session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.sent}, "only the questions went"


async def test_newpoll_chooses_sharing_and_the_invitation(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = api.user(800, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    await write_poll(member)
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
    assert "Uitslag naar gezinnen: aan" in member.last.text
    assert "Uitnodiging om mee te doen met de raad: uit" in member.last.text

    await member.press("🤝 Uitnodiging voor de raad: uit")
    assert "Uitnodiging om mee te doen met de raad: aan" in member.last.text
    await member.press("✍️ Eigen regel toevoegen")
    await member.send("x" * 201)
    assert "200" in member.last.text, "too long"
    await member.send("Dank je wel!")
    assert "Eigen regel: Dank je wel!" in member.last.text
    assert "✍️ Eigen regel veranderen" in member.last.labels
    await member.press("📊 Uitslag delen met gezinnen: aan")
    assert "Uitslag naar gezinnen: uit" in member.last.text
    assert "✍️ Eigen regel veranderen" not in member.last.labels
    await member.press("✅ Versturen")

    async with bot.db.read() as session:
        poll = await session.scalar(select(Poll))
    assert (poll.share_results, poll.results_note, poll.recruit) == (False, "Dank je wel!", True)
