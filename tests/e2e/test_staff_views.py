"""/chart, /export and /participation over HTTP: real PNGs, CSV files read back with the csv
module, the audit log, and the participation table with small numbers concealed."""

from __future__ import annotations

import csv
import io
import struct

from sqlalchemy import insert, select, update

from bot.botapi import LocalBotApi, SimUser
from storage import schedules, templates
from storage.models import (
    Answer,
    AuditEntry,
    Council,
    Membership,
    MembershipStatus,
    MembershipTag,
    Person,
    Role,
)
from tests.builders import answered_poll, make_invite, poll_button, populate, sign_up
from tests.e2e.conftest import RunningBot

PNG = b"\x89PNG\r\n\x1a\n"
QUESTIONS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "=1+1"]},
    {"kind": "faces", "text": "Hoe voel je je?"},
    {"kind": "open_text", "text": "Wat wil je nog kwijt?"},
]
ANSWERS = [((), [1, 4, "Fijn"])] * 5 + [((), [2, 5, "=HYPERLINK(1)"]), ((), [3, 4, None])]


async def member_with(api: LocalBotApi, bot: RunningBot, role: Role, user_id: int) -> SimUser:
    user = api.user(user_id, first_name=role.value)
    await sign_up(user, await make_invite(bot.db, role=role))
    return user


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


async def test_chart_sends_a_png_per_question(api: LocalBotApi, bot: RunningBot) -> None:
    member = await member_with(api, bot, Role.council, 800)
    await answered_poll(bot.db, questions=QUESTIONS, answers=ANSWERS, title="Het gesprek")

    await member.command("grafiek")
    assert member.last.text == "Van welke gesloten peiling wil je plaatjes?"
    before = len(member.messages)
    await member.press(poll_button(member, "Het gesprek"))

    photos = [message for message in member.messages[before:] if message.kind == "photo"]
    assert [photo.text for photo in photos] == ["1. Hoe was het?", "2. Hoe voel je je?"]
    for photo in photos:
        assert photo.file is not None and photo.file.startswith(PNG)
        assert 5_000 < len(photo.file) < 1_000_000
        width, height = png_size(photo.file)
        assert 1000 <= width <= 1200 and 300 <= height <= 2400


async def test_chart_of_a_recurring_round_adds_a_trend(api: LocalBotApi, bot: RunningBot) -> None:
    member = await member_with(api, bot, Role.council, 800)
    async with bot.db.begin() as session:
        council_id = await session.scalar(select(Council.id).where(Council.slug == "noord"))
        template = await templates.save_template(
            session, council_id=council_id, title="Maandvraag", body={"questions": QUESTIONS[:2]}
        )
        schedule = await schedules.add_schedule(
            session, council_id=council_id, template_id=template.id, rule={"every": "month"}
        )
    for number, goed in enumerate((5, 6, 7)):
        answers = [((), [1, 4])] * goed + [((), [2, 5])] * 5
        poll_id = await answered_poll(
            bot.db,
            questions=QUESTIONS[:2],
            answers=answers,
            schedule_id=schedule.id,
            first_id=60_000 + 100 * number,
        )

    before = len(member.messages)
    await member.command("grafiek", str(poll_id))

    photos = [message for message in member.messages[before:] if message.kind == "photo"]
    assert [photo.text for photo in photos] == [
        "1. Hoe was het?",
        "2. Hoe voel je je?",
        "Vraag 1 door de tijd heen",
        "Vraag 2 door de tijd heen",
    ]
    assert all(photo.file and photo.file.startswith(PNG) for photo in photos)


async def test_chart_refuses_an_open_poll_and_too_few_answers(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await member_with(api, bot, Role.council, 800)
    few = await answered_poll(bot.db, questions=QUESTIONS, answers=ANSWERS[:4])
    await member.command("grafiek", str(few))
    assert member.last.text == (
        "Nog niet genoeg antwoorden om te laten zien (minder dan 5), zodat niemand herkenbaar is."
    )
    assert all(message.kind == "text" for message in member.messages)


def read_csv(message_file: bytes | None, delimiter: str = ";") -> list[list[str]]:
    assert message_file is not None and message_file.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    return list(csv.reader(io.StringIO(message_file.decode("utf-8-sig")), delimiter=delimiter))


async def audit_actions(bot: RunningBot) -> list[tuple[str, str, str | None]]:
    async with bot.db.begin() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.detail, Person.address)
            .outerjoin(Person, Person.id == AuditEntry.actor_id)
            .where(AuditEntry.action.startswith("export"))
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]


async def test_export_table_is_a_csv_with_the_shown_numbers(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await member_with(api, bot, Role.council, 800)
    poll_id = await answered_poll(
        bot.db, questions=QUESTIONS, answers=ANSWERS, asked=10, title="Het gesprek"
    )

    await member.command("exporteer", str(poll_id))

    document = member.last
    assert document.kind == "document"
    assert document.filename == f"peiling-{poll_id}-uitslag.csv"
    assert "Kleine aantallen staan er als “minder dan 5”" in document.text
    assert document.labels == [], "only staff may also get every answer"
    rows = read_csv(document.file)
    assert rows[0] == [
        "peiling", "vraagnummer", "vraag", "antwoord", "aantal", "procent", "punten", "n",
        "gemiddelde", "mediaan",
    ]  # fmt: skip
    by_answer = {(row[1], row[3]): row for row in rows[1:]}
    assert by_answer[("1", "Goed")][4:8] == ["5", "71", "", "7"]
    assert by_answer[("1", "Matig")][4] == "minder dan 5"
    assert by_answer[("1", "'=1+1")][4] == "minder dan 5", "a label never runs as a formula"
    assert by_answer[("2", "4 goed")][4:6] == ["6", "86"]
    assert by_answer[("2", "5 heel goed")][4] == "minder dan 5"
    assert by_answer[("2", "4 goed")][8] == "", "no mean while a count is concealed"
    assert by_answer[("3", "open antwoorden (staan in het bericht met de uitslag)")][4] == "6"
    assert await audit_actions(bot) == [("export_table", f"poll {poll_id}", "800")]


async def test_staff_export_every_answer_with_random_row_ids(
    api: LocalBotApi, bot: RunningBot
) -> None:
    staff = await member_with(api, bot, Role.staff, 801)
    poll_id = await answered_poll(bot.db, questions=QUESTIONS, answers=ANSWERS, title="Gesprek")
    async with bot.db.begin() as session:  # typed by families who use Arabic
        await session.execute(update(Answer).where(Answer.text == "Fijn").values(language="ar"))

    await staff.command("exporteer", str(poll_id))
    assert staff.last.labels == ["📄 Ook elk antwoord op een eigen rij"]
    await staff.press("📄 Ook elk antwoord op een eigen rij")

    document = staff.last
    assert document.filename == f"peiling-{poll_id}-antwoorden.csv"
    rows = read_csv(document.file)
    assert rows[0] == ["rij", "vraagnummer", "vraag", "antwoord", "plaats", "taal"]
    answers = sorted((row[1], row[3]) for row in rows[1:])
    assert answers == sorted(
        [("1", "Goed")] * 5 + [("2", "4 goed")] * 6 + [("3", "Fijn")] * 5
        + [("3", "'=HYPERLINK(1)")]
    ), "answers of concealed counts (Matig, =1+1, 5 heel goed) are left out"  # fmt: skip
    assert {(row[3], row[5]) for row in rows[1:] if row[1] == "3"} == {
        ("Fijn", "Arabisch"),
        ("'=HYPERLINK(1)", ""),
    }, "an open answer says its language, when it is known"
    row_ids = [row[0] for row in rows[1:]]
    assert len(set(row_ids)) == len(row_ids) and all(len(i) == 10 for i in row_ids)
    telegram_ids = {"801", *(str(50_000 + number) for number in range(len(ANSWERS)))}
    assert not {cell for row in rows for cell in row} & telegram_ids, "no Telegram id"
    assert await audit_actions(bot) == [
        ("export_table", f"poll {poll_id}", "801"),
        ("export_answers", f"poll {poll_id}", "801"),
    ]


async def test_answer_export_is_for_staff_only(api: LocalBotApi, bot: RunningBot) -> None:
    member = await member_with(api, bot, Role.council, 800)
    poll_id = await answered_poll(bot.db, questions=QUESTIONS, answers=ANSWERS)

    await member.command("exporteer", str(poll_id), "antwoorden")
    assert member.last.text.startswith("Alleen medewerkers van deze raad kunnen losse antwoorden")
    await member.press_data(f"rs:a:{poll_id}")
    assert member.last.kind == "text"
    assert await audit_actions(bot) == []


async def families_with_statuses(bot: RunningBot) -> None:
    """20 families: 12 active, 5 paused, 2 stopped, 1 blocked; locatie noord/zuid/none."""
    ids = await populate(bot.db, count=20, first_id=70_000)
    statuses = ["active"] * 12 + ["paused"] * 5 + ["stopped"] * 2 + ["blocked"]
    places = ["noord"] * 10 + ["zuid"] * 8 + [None] * 2
    async with bot.db.begin() as session:
        memberships = (
            await session.execute(
                select(Membership.id, Person.id)
                .join(Person, Person.id == Membership.person_id)
                .where(Person.address.in_([str(i) for i in ids]))
                .order_by(Person.id)
            )
        ).all()
        for (membership_id, _), status, place in zip(memberships, statuses, places, strict=True):
            await session.execute(
                update(Membership)
                .where(Membership.id == membership_id)
                .values(status=MembershipStatus(status))
            )
            if place:
                await session.execute(
                    insert(MembershipTag).values(
                        membership_id=membership_id, tag=f"locatie:{place}"
                    )
                )


async def test_participation_per_status_and_group(api: LocalBotApi, bot: RunningBot) -> None:
    member = await member_with(api, bot, Role.council, 800)
    await families_with_statuses(bot)

    await member.command("deelname")

    text = member.last.text
    assert "Deelname – Cliëntenraad Noord" in text
    assert (
        "20 gezinnen aangemeld: 12 actief, 5 gepauzeerd, minder dan 5 gestopt, "
        "minder dan 5 hebben de bot geblokkeerd."
    ) in text
    lines = [line.split() for line in text.splitlines()]
    assert ["noord", "zuid", "geen"] in lines
    assert ["totaal", "10", "8", "<5"] in lines or ["totaal", "10", "•", "<5"] in lines
    assert not any(cell in {"1", "2"} for line in lines[3:] for cell in line[1:])


async def test_participation_of_a_small_council_shows_no_numbers(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await member_with(api, bot, Role.council, 800)
    await populate(bot.db, count=3, first_id=70_000)

    await member.command("deelname")

    assert "Nog minder dan 5 gezinnen aangemeld" in member.last.text
