"""Small builders for tests: settings, invites, and a family that has signed up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.botapi import LocalBotApi, SimUser
from bot.config import CouncilSettings, Settings, TelegramSettings
from storage import invites
from storage.db import Database
from storage.models import Council, Role, utcnow

ADMIN_ID = 1000
PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALWAYS = ("00:00", "00:00")  # no quiet hours, so tests behave the same at any time of day
COUNCILS = (
    CouncilSettings(slug="noord", name="Cliëntenraad Noord", quiet_hours=ALWAYS),
    CouncilSettings(slug="zuid", name="Jongerenraad Zuid", privacy_threshold=3, quiet_hours=ALWAYS),
    CouncilSettings(slug="west", name="Ouderraad West", quiet_hours=ALWAYS),
)


def make_settings(api: LocalBotApi, db_url: str, **changes: Any) -> Settings:
    """Settings that point the bot at the local Bot API server and the test database."""
    settings = Settings(
        telegram=TelegramSettings(token=api.token, base_url=api.base_url),
        database_url=db_url,
        admins=frozenset({ADMIN_ID}),
        pseudonym_key=PSEUDONYM_KEY,
        councils=COUNCILS,
    )
    return replace(settings, **changes)


async def make_invite(
    db: Database,
    *,
    council: str = "noord",
    role: Role = Role.family,
    tags: tuple[str, ...] = (),
    uses: int = 10,
    days: int = 7,
) -> str:
    """An invite code straight from storage (the /invite flow has its own tests)."""
    async with db.begin() as session:
        found = await session.scalar(select(Council).where(Council.slug == council))
        _, code = await invites.create_invite(
            session,
            council_id=found.id,
            role=role,
            tags=list(tags),
            expires_at=utcnow() + timedelta(days=days),
            max_uses=uses,
            created_by=None,
        )
    return code


async def sign_up(
    user: SimUser, code: str, *, language: str = "Nederlands", adult: bool = True
) -> None:
    """Walk through the sign-up: language, consent, age band (and a guardian under 16)."""
    await user.command("start", code)
    await user.press(language)
    await user.press("Ja, ik ga akkoord" if language == "Nederlands" else "Yes, I agree")
    if language == "Nederlands":
        await user.press("16 of ouder" if adult else "Jonger dan 16")
        if not adult:
            await user.press("Ja, die is akkoord")
    else:
        await user.press("16 or older" if adult else "Younger than 16")
        if not adult:
            await user.press("Yes, they agree")


async def write_poll(
    user: SimUser, *, title: str = "Hoe gaat het?", anonymous: bool = True
) -> None:
    """A council member writes a two-question poll with /nieuw and sends it to everyone."""
    await user.command("nieuw")
    await user.send(title)
    await user.press("Eén keuze")
    await user.send("Hoe vond je het gesprek?")
    await user.send("Goed\nGaat wel\nNiet goed")
    await user.press("Gezichtjes 😞 tot 😄")
    await user.send("Hoe voel je je?")
    await user.press("Geen vragen meer")
    await user.press("Iedereen van Cliëntenraad Noord")
    await user.press(
        "Anoniem (beste keuze)" if anonymous else "Met namen: de raad ziet wie wat antwoordde"
    )
    await user.press("Meteen")
    await user.press("Na 7 dagen")
    await user.press("Ja, dat mag")


async def open_poll_now(
    db: Database,
    *,
    questions: list[dict[str, Any]],
    council: str = "noord",
    anonymous: bool = True,
    allow_change: bool = True,
    tags: tuple[str, ...] = (),
    title: str = "Onze peiling",
) -> int:
    """A poll straight from storage, opened now for its audience (the outbox sends it)."""
    from storage import polls
    from storage.models import RoundKind

    async with db.begin() as session:
        found = await session.scalar(select(Council).where(Council.slug == council))
        poll = await polls.create_poll(
            session,
            council_id=found.id,
            body={
                "title": title,
                "questions": questions,
                "anonymous": anonymous,
                "allow_change": allow_change,
                "audience_tags": list(tags),
                "closes_at": (utcnow() + timedelta(days=7)).isoformat(),
            },
            created_by=None,
            now=utcnow(),
        )
        await polls.start_round(
            session,
            poll=poll,
            kind=RoundKind.questions,
            recipients=polls.audience(poll.council_id, poll.audience_tags),
        )
    return poll.id


async def populate(db: Database, *, count: int, first_id: int, council: str = "noord") -> list[int]:
    """`count` signed-up families at once (straight into the tables), for broadcast tests."""
    from sqlalchemy import insert

    from storage.models import AgeBand, Membership, MembershipStatus, Person

    ids = list(range(first_id, first_id + count))
    async with db.begin() as session:
        council_id = await session.scalar(select(Council.id).where(Council.slug == council))
        now = utcnow()
        await session.execute(
            insert(Person),
            [
                {
                    "telegram_id": tid,
                    "language": "nl",
                    "age_band": AgeBand.adult,
                    "guardian_consent": False,
                    "consented_at": now,
                }
                for tid in ids
            ],
        )
        person_ids = list(
            await session.scalars(select(Person.id).where(Person.telegram_id.in_(ids)))
        )
        await session.execute(
            insert(Membership),
            [
                {
                    "person_id": pid,
                    "council_id": council_id,
                    "role": Role.family,
                    "status": MembershipStatus.active,
                    "joined_at": now,
                }
                for pid in person_ids
            ],
        )
    return ids
