"""Anonymous answers cannot be joined back to a person, even by someone with the whole database:
no column points to a person, ids and order say nothing, and the pseudonym needs a key that is
kept outside the database."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from sqlalchemy import select, text, update

from bot.botapi import LocalBotApi
from bot.wasim import LocalWhatsApp
from storage.models import (
    Address,
    Answer,
    Candidate,
    Draft,
    Inbox,
    Person,
    Poll,
    Respondent,
    RespondentTag,
    Role,
    metadata,
)
from storage.pseudonyms import pseudonym
from tests.builders import PSEUDONYM_KEY, make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot
from tests.e2e.families import CHANNELS, OnTelegram, family_on, join

QUESTIONS = [{"kind": "yes_no", "text": "Alles goed?"}]
ADDRESSES = ("person.address", "draft.address", "inbox.person")
"""The only columns where a Telegram id or a phone number may be."""


@pytest.mark.parametrize("channel", CHANNELS)
async def test_anonymous_answers_cannot_be_joined_to_a_person(
    channel: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    bot = wabot
    code = await make_invite(bot.db, tags=("locatie:noord",))
    families = [family_on(channel, api, wa, 8_100_000 + number) for number in range(8)]
    for family in families:
        await join(family, code)
    poll_id = await open_poll_now(bot.db, questions=QUESTIONS)
    await bot.deliver()
    for family in families:  # in this order, one after the other
        await family.press("Ja")

    async with bot.db.read() as session:
        people = {(p.id, p.address) for p in await session.scalars(select(Person))}
        elsewhere = [
            (f"{table.name}.{column}", value)
            for table in metadata.sorted_tables
            for row in (await session.execute(text(f'SELECT * FROM "{table.name}"'))).mappings()
            for column, value in row.items()
            if f"{table.name}.{column}" not in ADDRESSES
        ]
        respondents = list(await session.scalars(select(Respondent)))
        answers = list(await session.scalars(select(Answer)))
        every_value = [
            value
            for table in metadata.sorted_tables
            for row in (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            for value in row
        ]
    assert len(respondents) == len(answers) == len(families)
    assert all(respondent.person_id is None for respondent in respondents)
    telegram_ids = {address for _, address in people}
    assert telegram_ids == {family.address.id for family in families}
    for row in respondents + answers:
        values = {str(value) for value in row.model_dump().values()}
        assert not values & telegram_ids, "no Telegram id or number by an answer"
    found = [(column, value) for column, value in elsewhere if str(value) in telegram_ids]
    assert found == [], "a Telegram id or phone number is only ever a person's address"
    links = [
        f"{table.name}.{fk.parent.name}"
        for table in (Answer.__table__, Respondent.__table__, RespondentTag.__table__)
        for fk in table.foreign_keys
        if fk.column.table.name == "person"
    ]
    assert links == ["respondent.person_id"], "the only link, and it is empty when anonymous"
    assert PSEUDONYM_KEY not in {str(value) for value in every_value}, "the key is not stored"
    stored = {respondent.pseudonym for respondent in respondents}
    for telegram_id in telegram_ids:
        guesses = {
            hashlib.sha256(f"{poll_id}:{telegram_id}".encode()).hexdigest(),
            hmac.new(b"", f"{poll_id}:{telegram_id}".encode(), hashlib.sha256).hexdigest(),
            pseudonym("a-wrong-key", poll_id=poll_id, address=Address(channel, telegram_id)),
        }
        assert not guesses & stored, "without the key a pseudonym cannot be recomputed"
    with_key = {
        pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address(channel, t)) for t in telegram_ids
    }
    assert with_key >= stored, "only the key (kept outside the database) links them"

    assert min(r.id for r in respondents + answers) > 2**20, "random ids, not a sequence"
    columns = {column.name for column in Answer.__table__.columns}
    columns |= {column.name for column in Respondent.__table__.columns}
    assert not {"created_at", "answered_at", "at", "updated_at"} & columns, "no time to match"


@pytest.mark.parametrize("channel", CHANNELS)
async def test_asking_to_be_contacted_stores_nothing_that_links_the_family_to_the_answer(
    channel: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    """The one way to be known (help lines, "Please contact me", how to reach them): after it,
    no table holds what the family typed for staff, nor anything new about the family."""
    bot = wabot
    staff = api.user(8_200_000)
    await sign_up(staff, await make_invite(bot.db, role=Role.staff))
    family = family_on(channel, api, wa, 8_200_001)
    await join(family, await make_invite(bot.db))
    questions = [{"kind": "open_text", "text": "Hoe gaat het thuis?"}]
    poll_id = await open_poll_now(bot.db, questions=questions)
    await bot.deliver()

    kept_anyway = {"inbound", "inbox", "person.window_at"}
    """WhatsApp's message ids (as hashes, for every message), the inbox (that someone sent
    something, for a day; what they sent is gone once handled: checked below) and when the
    person last wrote."""

    async def everything() -> set[str]:
        async with bot.db.read() as session:
            return {
                f"{table.name}.{column}:{value}"
                for table in metadata.sorted_tables
                if table.name not in kept_anyway
                for row in (await session.execute(text(f'SELECT * FROM "{table.name}"'))).mappings()
                for column, value in row.items()
                if f"{table.name}.{column}" not in kept_anyway
            }

    await family.send("Ik word geslagen")
    answered = await everything()
    await family.press("Ja, neem contact op")
    await family.send("Bel me op 06-99887766")
    assert "06-99887766" in staff.last.text
    after = await everything()
    assert not any("06-99887766" in value for value in after), "the contact is never stored"
    assert after == answered, "nothing about the request is left: no draft, no mark, no link"
    async with bot.db.read() as session:
        respondent = await session.scalar(select(Respondent).where(Respondent.poll_id == poll_id))
        drafts = list(await session.scalars(select(Draft)))
        bodies = list(await session.scalars(select(Inbox.body).where(Inbox.body.is_not(None))))
    assert bodies == [], "what came in is gone from the inbox once handled"
    assert respondent.person_id is None
    assert all(draft.kind != "helpline" for draft in drafts)


async def test_a_request_to_join_the_council_is_not_linked_to_any_answer(
    api: LocalBotApi, bot: RunningBot
) -> None:
    """A family that answered says yes to the invitation at the end of the poll and how to be
    reached: the request is its own row, pointing to the council and the person only; nothing
    in the whole database ties it (or the person) to the answers."""
    staff = api.user(8_300_000)
    await sign_up(staff, await make_invite(bot.db, role=Role.staff))
    family = OnTelegram(api.user(8_300_001))
    await join(family, await make_invite(bot.db, tags=("locatie:noord",)))
    poll_id = await open_poll_now(bot.db, questions=QUESTIONS)
    async with bot.db.begin() as session:
        await session.execute(update(Poll).where(Poll.id == poll_id).values(recruit=True))
    await bot.deliver()
    await family.press("Ja")
    await family.press("Ja, vertel meer")
    await family.send("Noor, 06-55443322")
    assert "06-55443322" in staff.last.text

    async with bot.db.read() as session:
        [candidate] = list(await session.scalars(select(Candidate)))
        [respondent] = list(await session.scalars(select(Respondent)))
        [answer] = list(await session.scalars(select(Answer)))
        where = [
            f"{table.name}.{column}"
            for table in metadata.sorted_tables
            for row in (await session.execute(text(f'SELECT * FROM "{table.name}"'))).mappings()
            for column, value in row.items()
            if "06-55443322" in str(value)
        ]
    assert where == ["candidate.contact"], "what they typed is only in the request"
    links = {fk.column.table.name for fk in Candidate.__table__.foreign_keys}
    assert links == {"council", "person"}, "never a poll, an answer or a respondent"
    pointing = [
        f"{table.name}.{fk.parent.name}"
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "candidate"
    ]
    assert pointing == [], "nothing points to a request"
    assert set(Candidate.__table__.columns.keys()) == {
        "id",
        "council_id",
        "person_id",
        "contact",
        "created_at",
        "handled_at",
        "invited_at",
    }
    assert respondent.person_id is None and candidate.person_id is not None
    values = {str(value) for row in (respondent, answer) for value in row.model_dump().values()}
    assert not values & {family.address.id, candidate.contact}, "nothing of theirs by the answer"
