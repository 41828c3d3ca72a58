"""Small builders for tests: settings, invites, and a family that has signed up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.botapi import LocalBotApi, SimUser
from bot.botapi.simuser import command_entities
from bot.config import CouncilSettings, MetricsSettings, Settings, TelegramSettings
from storage import invites
from storage.db import Database
from storage.models import Council, Membership, Person, Role, utcnow

ADMIN_ID = 1000
PSEUDONYM_KEY = "test-pseudonym-key-0123456789abcdefghijklmnopqrstuvwxyz"
LANGUAGE_NAMES = ["Nederlands", "English", "العربية", "Türkçe", "Polski", "Українська"]
"""The language picker, each name in its own script."""
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
        metrics=MetricsSettings(port=0),  # any free port: tests run side by side
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
    voices: tuple[VoiceNote, ...] = (),
    languages: dict[str, Any] | None = None,
) -> int:
    """A poll straight from storage, opened now for its audience (the outbox sends it), with
    its voice notes (`voices`: see `add_voice`) and its texts in other `languages` (as
    /newpoll keeps them: {language: {"title", "questions": {"0": {"text", "options"}}}})."""
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
                "languages": languages or {},
            },
            created_by=None,
            now=utcnow(),
        )
        for note in voices:
            await add_voice(session, poll.id, *note)
        await polls.start_round(
            session,
            poll=poll,
            kind=RoundKind.questions,
            recipients=polls.audience(poll.council_id, poll.audience_tags),
        )
    return poll.id


VoiceNote = tuple[int | None, str, str, int]
"""A voice note of a poll: (question position, None for the introduction; language;
Telegram file id; duration in seconds)."""


async def add_voice(
    session: Any, poll_id: int, position: int | None, language: str, file_id: str, duration: int
) -> int:
    """A voice note row straight into the table; its id."""
    from storage.models import Question, Voice

    question_id = None
    if position is not None:
        question_id = await session.scalar(
            select(Question.id).where(Question.poll_id == poll_id, Question.position == position)
        )
    voice = Voice(
        poll_id=poll_id,
        question_id=question_id,
        language=language,
        file_id=file_id,
        duration=duration,
    )
    session.add(voice)
    await session.flush()
    return voice.id


async def populate(
    db: Database,
    *,
    count: int,
    first_id: int,
    council: str = "noord",
    channel: str = "telegram",
    window_open: bool = False,
) -> list[int]:
    """`count` signed-up families at once (straight into the tables), for broadcast tests;
    on WhatsApp their ids are their numbers, and `window_open` says they wrote to us today."""
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
                    "channel": channel,
                    "address": str(tid),
                    "language": "nl",
                    "age_band": AgeBand.adult,
                    "guardian_consent": False,
                    "consented_at": now,
                    "window_at": now if window_open else None,
                }
                for tid in ids
            ],
        )
        person_ids = list(
            await session.scalars(
                select(Person.id).where(
                    Person.channel == channel, Person.address.in_([str(i) for i in ids])
                )
            )
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


Pick = int | str | list[int] | None
"""One answer in `answered_poll`: an option position or a value, a text, positions (several
choices, or a ranking in order), or None for a skip."""


async def answered_poll(
    db: Database,
    *,
    questions: list[dict[str, Any]],
    answers: list[tuple[tuple[str, ...], list[Pick]]],
    council: str = "noord",
    asked: int | None = None,
    title: str = "De peiling",
    closed: bool = True,
    schedule_id: int | None = None,
    first_id: int = 50_000,
) -> int:
    """A poll with answers straight in the tables: per respondent their tags and one pick per
    question; `asked` families received it (default: as many as answered)."""
    from sqlalchemy import update

    from storage import answers as stored
    from storage import polls
    from storage.models import (
        Delivery,
        DeliveryStatus,
        PollStatus,
        Respondent,
        RespondentTag,
        RoundKind,
    )

    ids = await populate(db, count=asked or len(answers), first_id=first_id, council=council)
    async with db.begin() as session:
        council_id = await session.scalar(select(Council.id).where(Council.slug == council))
        body = {"title": title, "questions": questions, "closes_at": utcnow().isoformat()}
        poll = await polls.create_poll(
            session, council_id=council_id, body=body, created_by=None, now=utcnow()
        )
        poll.schedule_id = schedule_id
        sending = await polls.start_round(
            session,
            poll=poll,
            kind=RoundKind.questions,
            recipients=polls.audience(council_id, []).where(
                Membership.person_id.in_(
                    select(Person.id).where(Person.address.in_([str(i) for i in ids]))
                )
            ),
        )
        await session.execute(
            update(Delivery)
            .where(Delivery.round_id == sending.id)
            .values(status=DeliveryStatus.sent)
        )
        view = await polls.load_poll(session, poll_id=poll.id)
        for number, (tags, picks) in enumerate(answers):
            respondent = Respondent(poll_id=poll.id, pseudonym=f"r{first_id}-{number}")
            session.add(respondent)
            session.add_all(RespondentTag(respondent_id=respondent.id, tag=tag) for tag in tags)
            await session.flush()
            for question, pick in zip(view.questions, picks, strict=True):
                await stored.record(
                    session,
                    respondent_id=respondent.id,
                    question_id=question.id,
                    choices=_choices(question, pick),
                )
        if closed:
            poll.status, poll.closed_at = PollStatus.closed, utcnow()
    return poll.id


def _choices(question: Any, pick: Pick) -> list[Any]:
    from storage.answers import Choice
    from storage.models import QuestionKind

    kind = question.question.kind
    if pick is None:
        return [Choice(skipped=True)]
    if isinstance(pick, str):
        return [Choice(text=pick)]
    if kind is QuestionKind.priorities:
        return [
            Choice(slot=rank, option_id=question.option_at(position).id)
            for rank, position in enumerate(pick, 1)
        ]
    if isinstance(pick, list):
        return [
            Choice(slot=position, option_id=question.option_at(position).id) for position in pick
        ]
    if kind is QuestionKind.single:
        return [Choice(option_id=question.option_at(pick).id)]
    return [Choice(value=pick)]


def poll_button(user: SimUser, title: str) -> str:
    """The label of the newest picker button of the poll titled `title` (`#12 · title ·
    03-12-2026`, a long title cut with "…")."""
    for message in reversed(user.messages):
        for label in message.labels:
            parts = label.split(" · ")
            if len(parts) < 3 or not parts[0].startswith("#"):
                continue
            shown = " · ".join(parts[1:-1])
            if shown == title or (shown.endswith("…") and title.startswith(shown[:-1])):
                return label
    raise AssertionError(f"no poll button for {title!r}")


def queue_text(api: LocalBotApi, user: SimUser, text: str) -> int:
    """A message from `user`, queued on the server without waiting for the bot."""
    message = user.chat.add(
        sender=user.user_dict,
        from_bot=False,
        kind="text",
        text=text,
        entities=command_entities(text),
    )
    return api.queue.put({"message": message.to_dict()})
