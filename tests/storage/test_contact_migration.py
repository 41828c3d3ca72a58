"""Migration 0007 turns Telegram ids into addresses and loses nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import text

from storage import people
from storage.db import Database
from storage.models import Address
from storage.pseudonyms import pseudonym

KEY = "a-key-outside-the-database"
SMALL, BIG = 123456789, 9007199254740993  # BIG is past 2**53: a float would round it
WHEN = "'2026-12-01 10:00:00+00:00'"
ROWS = f"""
INSERT INTO council (id, slug, name, timezone, languages, privacy_threshold, quiet_start,
    quiet_end, created_at) VALUES (1, 'noord', 'Noord', 'Europe/Amsterdam', 'nl,en', 5, '21:00',
    '08:00', {WHEN});
INSERT INTO person (id, telegram_id, language, age_band, guardian_consent, consented_at)
    VALUES (1, {SMALL}, 'nl', '16plus', false, {WHEN}), (2, {BIG}, 'en', '16plus', false, {WHEN});
INSERT INTO membership (id, person_id, council_id, role, status, joined_at)
    VALUES (1, 1, 1, 'family', 'active', {WHEN}), (2, 2, 1, 'council', 'active', {WHEN});
INSERT INTO draft (id, telegram_id, kind, step, data, expires_at)
    VALUES (1, {BIG}, 'invite', 'role', '{{}}', {WHEN});
INSERT INTO conversation_state (name, key, telegram_id, state)
    VALUES ('newpoll', '[{BIG}, {BIG}]', {BIG}, '3');
INSERT INTO poll (id, council_id, title, status, anonymous, allow_change, audience_tags,
    created_at) VALUES (1, 1, 'Peiling', 'closed', true, true, '[]', {WHEN});
INSERT INTO question (id, poll_id, position, kind, text) VALUES (1, 1, 1, 'yes_no', 'Goed?');
INSERT INTO respondent (id, poll_id, pseudonym, person_id)
    VALUES (11, 1, :small, NULL), (12, 1, :big, NULL);
INSERT INTO answer (id, respondent_id, question_id, slot, value, skipped)
    VALUES (21, 11, 1, 0, 1, false), (22, 12, 1, 0, 0, false)
"""


def old_pseudonym(telegram_id: int) -> str:
    return hmac.new(KEY.encode(), f"1:{telegram_id}".encode(), hashlib.sha256).hexdigest()


async def test_telegram_ids_become_addresses(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        assert await db.upgrade("0006") == (None, "0006")
        computed = {"small": old_pseudonym(SMALL), "big": old_pseudonym(BIG)}
        async with db.engine.begin() as connection:
            for statement in ROWS.split(";"):
                await connection.execute(text(statement), computed if ":big" in statement else {})
        assert (await db.upgrade())[0] == "0006"

        async with db.engine.connect() as connection:

            async def select(query: str) -> list[tuple[object, ...]]:
                return [tuple(row) for row in await connection.execute(text(query))]

            assert await select("SELECT id, channel, address FROM person ORDER BY id") == [
                (1, "telegram", str(SMALL)),
                (2, "telegram", str(BIG)),
            ]
            assert await select("SELECT id, person_id FROM membership ORDER BY id") == [
                (1, 1),
                (2, 2),
            ]
            assert await select("SELECT channel, address, kind FROM draft") == [
                ("telegram", str(BIG), "invite")
            ]
            # conversation_state was dropped later (0013): flows keep their step in drafts
            assert await select("SELECT id, pseudonym FROM respondent ORDER BY id") == [
                (11, old_pseudonym(SMALL)),
                (12, old_pseudonym(BIG)),
            ]
            assert await select("SELECT id, respondent_id, value FROM answer ORDER BY id") == [
                (21, 11, 1),
                (22, 12, 0),
            ]
        for telegram_id in (SMALL, BIG):
            address = Address.telegram(telegram_id)
            assert pseudonym(KEY, poll_id=1, address=address) == old_pseudonym(telegram_id)
        async with db.read() as session:
            profile = await people.load_profile(
                session, address=Address.telegram(BIG), is_admin=False
            )
        assert profile.person is not None and profile.person.id == 2
        assert [council.slug for _, council in profile.memberships] == ["noord"]
    finally:
        await db.dispose()
