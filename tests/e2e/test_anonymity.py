"""Anonymous answers cannot be joined back to a person, even by someone with the whole database:
no column points to a person, ids and order say nothing, and the pseudonym needs a key that is
kept outside the database."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select, text

from bot.botapi import LocalBotApi
from storage.models import Address, Answer, Person, Respondent, RespondentTag, metadata
from storage.pseudonyms import pseudonym
from tests.builders import PSEUDONYM_KEY, make_invite, open_poll_now, sign_up
from tests.e2e.conftest import RunningBot

QUESTIONS = [{"kind": "yes_no", "text": "Alles goed?"}]


async def test_anonymous_answers_cannot_be_joined_to_a_person(
    api: LocalBotApi, bot: RunningBot
) -> None:
    code = await make_invite(bot.db, tags=("locatie:noord",))
    families = [api.user(8_100_000_000 + number) for number in range(8)]
    for family in families:
        await sign_up(family, code)
    poll_id = await open_poll_now(bot.db, questions=QUESTIONS)
    await bot.deliver()
    for family in families:  # in this order, one after the other
        await family.press("Ja")

    async with bot.db.read() as session:
        people = {(p.id, int(p.address)) for p in await session.scalars(select(Person))}
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
    telegram_ids = {telegram_id for _, telegram_id in people}
    for row in respondents + answers:
        assert not set(row.model_dump().values()) & telegram_ids, "no Telegram id by an answer"
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
            pseudonym("a-wrong-key", poll_id=poll_id, address=Address.telegram(telegram_id)),
        }
        assert not guesses & stored, "without the key a pseudonym cannot be recomputed"
    with_key = {
        pseudonym(PSEUDONYM_KEY, poll_id=poll_id, address=Address.telegram(t)) for t in telegram_ids
    }
    assert with_key >= stored, "only the key (kept outside the database) links them"

    assert min(r.id for r in respondents + answers) > 2**20, "random ids, not a sequence"
    columns = {column.name for column in Answer.__table__.columns}
    columns |= {column.name for column in Respondent.__table__.columns}
    assert not {"created_at", "answered_at", "at", "updated_at"} & columns, "no time to match"
