"""Fuzzing the real bot: ten thousand random, forged and malformed updates.

The updates go through the local Bot API server and the bot's own polling loop (getUpdates,
parsing, `handle_batch`, the offset), 100 at a time as one getUpdates batch: the path Telegram
uses, including what the bot does with an update it cannot parse, for about the cost of calling
`app.process_update` directly (the handlers and their replies over HTTP are what takes the
time, 2-4 ms an update). Update types Telegram would not deliver at all (unknown ones) go
straight into `handle_batch` after the same parsing. Hypothesis draws 50 batches of 100 per
test, the same ones every run (derandomized, so CI does not flake), without shrinking (a
failing batch is reported whole, with the error and the update that caused it).

After every batch: no error reached the error handler, every button press in a private chat was
answered (no spinner left), and the database holds nothing it should not. Strangers may write
nothing at all (every row of every table is compared). A family and a council member may only
write answers (to their own poll, valid for the question), respondents with their tags, drafts
and conversation states; every other table keeps its number of rows, and the other council's
polls stay as they were. Afterwards a new family still signs up and answers. Left out, as the
inputs that legitimately delete their sender: /forget and its "fg:" button.

WhatsApp: signed POSTs to the bot's real webhook, fewer but each real work (the signature, the
message ids stored, the family core's answer sent to the local Cloud API, a read mark): per
test, edge cases once (every prefix and step of the registry with real, huge and odd parts as
reply button, list row and template quick reply, about 630 taps in 210 bodies; bodies that are
not JSON; texts of 5,000 and 3.1 million characters; a body over the 3 MiB limit, refused
with 413) and then 12 random batches of 25 bodies (about 450 messages and 150 statuses):
broken envelopes and wrong types in every field, unknown message types, missing ids, BSUID-only
senders, HTML and NUL in texts, system messages, statuses with unknown ids, odd states and
codes, ids again in one body and across bodies, wrong signatures. About 1,100 messages a
test, 5-7 s on SQLite; ten thousand would not fit the suite's budget. After every batch: the
webhook answered 200 (403 unsigned), nothing was logged at ERROR, every well-formed message
id was handled exactly once (the read marks) and stored once, strangers stored nothing else,
families only answers and drafts. Afterwards a new family joins on WhatsApp and answers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from telegram.ext import Application

from bot.botapi import LocalBotApi
from bot.botapi.state import QueryRecord
from bot.chat.buttons import FORGET, REGISTRY
from bot.chat.commands import COMMANDS
from bot.run.polling import handle_batch, readable
from bot.run.whatsapp import KEY as WHATSAPP_PARTS
from bot.wasim import LocalWhatsApp, WaUser
from bot.wasim.webhook import encode, sign
from bot.whatsapp import webhook as whatsapp_webhook
from bot.whatsapp.webhook import MAX_BODY
from bot.whatsapp.words import vocabulary
from handlers import gate
from storage import templates
from storage.models import Answer, Council, Delivery, Option, Poll, Question, Role, metadata
from tests.builders import (
    answered_poll,
    make_invite,
    make_settings,
    open_poll_now,
    sign_up,
)
from tests.e2e.conftest import RunningBot, polling_bot, with_whatsapp
from tests.e2e.families import OnWhatsApp, join

BATCH = 100
STRANGERS = (900_001, 900_002, 900_003, 900_004, 777_000_000_001, 2**52 - 1)
MEMBER, FAMILY, FAMILY_TOO, OTHER_FAMILY = 3101, 3102, 3104, 3103
GROUPS = (-100_500, -1_001_234_567_890)
CHANNEL = -1_009_999_999_999
ALL_KINDS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "multiple", "text": "Wat hielp?", "options": ["Uitleg", "Tijd", "Koffie"]},
    {"kind": "faces", "text": "Hoe voel je je?"},
    {"kind": "grade", "text": "Welk cijfer?"},
    {"kind": "yes_no", "text": "Kom je terug?"},
    {"kind": "open_text", "text": "Wat kan beter?"},
    {"kind": "priorities", "text": "Wat eerst?", "options": ["A", "B", "C", "D"]},
]
ANSWER_TABLES = {"answer", "respondent", "respondenttag", "draft", "inbox"}
"""Tables an update may change (the inbox holds every update a moment: its rows say only
that someone sent something, their bodies are gone once handled)."""


@dataclass
class World:
    """The ids a forger would try: our own and another council's."""

    own_questions: list[int]
    other_questions: list[int]
    polls: list[int]
    templates: list[int]
    councils: list[int]
    errors: list[tuple[object, BaseException]] = field(default_factory=list)
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10**6))
    unknown_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10**9))

    @property
    def ids(self) -> list[int]:
        return [
            *self.own_questions,
            *self.other_questions,
            *self.polls,
            *self.templates,
            *self.councils,
        ]


# ---- what a random update is made of -------------------------------------------------------

HOSTILE = [
    "<b>x</b>",
    "</i>",
    "&amp;",
    "<a href='tg://user?id=1'>x</a>",
    "*bold*",
    "_x_",
    "`code`",
    "[link](http://x)",
    "<",
    "&",
    "\u202e",
    "مرحبا",
    "ĳsje",
    "👨‍👩‍👧",
]
COMMAND_WORDS = [
    *(name for command in COMMANDS.values() for name in command.names),
    *("start@achterban_test_bot", "hulp@other_bot", "x" * 40, "é", "_"),
]
words = st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE))
numbers = st.one_of(
    st.integers(-5, 20),
    st.integers(-(10**30), 10**30),
    st.sampled_from(["", "0", "00", "²", "٣", "１", "1e9", "-1", " 1", "9" * 25]),
).map(str)
commands = st.builds(
    lambda word, args: " ".join([f"/{word}", *args]),
    st.sampled_from([word for word in COMMAND_WORDS if word not in ("forget", "vergeet")]),
    st.lists(st.one_of(words, numbers), max_size=3),
)
"""Every command with random arguments, but /forget: it legitimately deletes its sender."""
long_texts = st.builds(lambda piece, times: (piece * times)[:4096], words, st.integers(1, 4096))
texts = st.one_of(words, commands, commands, long_texts)
random_entities = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["bold", "bot_command", "url", "mention", "text_link"]),
            "offset": st.integers(-3, 500),
            "length": st.integers(-3, 500),
        }
    ),
    max_size=2,
)
PREFIXES = tuple(
    shape
    for button in REGISTRY.values()
    if button is not FORGET
    for shape in (button.prefix, *(f"{button.prefix}:{step}" for step in button.steps))
)
"""Every button prefix the bot uses, and every step of one (from the registry); "fg" (forget
me) is left out, as the one forgery that legitimately deletes the person who sends it."""

STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}
PHOTO = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]


@cache
def callback_data(ids: tuple[int, ...]) -> st.SearchStrategy[str]:
    """Button data: a real prefix with real, wrong, huge or odd parts, or anything at all."""
    part = st.one_of(st.sampled_from(ids).map(str), numbers, words)
    shaped = st.builds(
        lambda prefix, parts: ":".join([prefix, *parts]),
        st.sampled_from(PREFIXES),
        st.lists(part, max_size=4),
    )
    return st.one_of(shaped, shaped, st.text(max_size=70), st.just("é" * 64))


def user_dict(user_id: int, language: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Fuzz"}
    if language is not None:
        user["language_code"] = language
    return user


def chat_dict(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Fuzz"}
    kind = "supergroup" if chat_id < -(10**12) else "group"
    return {"id": chat_id, "type": kind, "title": "<b>Ouders</b> & co"}


@st.composite
def message_update(draw: st.DrawFn, people: tuple[int, ...]) -> dict[str, Any]:
    """A message or an edit, in a private chat or a group, with text, a sticker or a photo."""
    user_id = draw(st.sampled_from(people))
    chat_id = draw(st.sampled_from((user_id, user_id, user_id, *GROUPS)))
    language = draw(st.sampled_from([None, "nl", "en", "ar", "x"]))
    message: dict[str, Any] = {
        "message_id": 1,
        "date": 1,
        "chat": chat_dict(chat_id),
        "from": user_dict(user_id, language),
    }
    typed = draw(texts)
    content = draw(st.sampled_from(["text", "text", "text", "text", "sticker", "none", "photo"]))
    if content == "text":
        message["text"] = typed
        command = typed.startswith("/") and draw(st.booleans())
        length = len(typed.split(" ")[0])
        message["entities"] = (
            [{"type": "bot_command", "offset": 0, "length": length}]
            if command
            else draw(random_entities)
        )
    elif content == "sticker":
        message["sticker"] = STICKER
    elif content == "photo":
        message |= {"caption": typed, "photo": PHOTO}
    if draw(st.integers(0, 6)) == 0:
        return {"edited_message": message | {"edit_date": 2}}
    return {"message": message}


@st.composite
def channel_update(draw: st.DrawFn) -> dict[str, Any]:
    post = {
        "message_id": 1,
        "date": 1,
        "chat": {"id": CHANNEL, "type": "channel", "title": "Nieuws"},
        "text": draw(texts),
    }
    return {draw(st.sampled_from(["channel_post", "edited_channel_post"])): post}


@st.composite
def callback_update(draw: st.DrawFn, people: tuple[tuple[int, tuple[int, ...]], ...]) -> Any:
    """A tap on one of the bot's messages in the user's chat, with random or forged data."""
    user_id, ids = draw(st.sampled_from(people))
    query: dict[str, Any] = {
        "id": "",  # given when it is sent, so the server knows the query
        "from": user_dict(user_id, draw(st.sampled_from([None, "nl", "en"]))),
        "chat_instance": "1",
        "message": draw(st.integers(0, 50)),  # which of the bot's messages (chosen when sent)
    }
    if draw(st.integers(0, 20)):
        query["data"] = draw(callback_data(ids))
    else:
        query["game_short_name"] = "x"
    return {"callback_query": query}


@st.composite
def other_update(draw: st.DrawFn, people: tuple[int, ...]) -> dict[str, Any]:
    user = user_dict(draw(st.sampled_from(people)), None)
    private = {"id": user["id"], "type": "private", "first_name": "Fuzz"}
    member = {"user": user, "status": "member"}
    kicked = {"user": user, "status": "kicked", "until_date": 0}
    choices = [
        {"inline_query": {"id": "1", "from": user, "query": draw(words), "offset": ""}},
        {"poll_answer": {"poll_id": "1", "user": user, "option_ids": [0]}},
        {
            "my_chat_member": {
                "chat": private,
                "from": user,
                "date": 1,
                "old_chat_member": member,
                "new_chat_member": kicked,
            }
        },
        {
            "chat_join_request": {
                "chat": {"id": GROUPS[0], "type": "group", "title": "x"},
                "from": user,
                "user_chat_id": user["id"],
                "date": 1,
            }
        },
        {
            "message_reaction": {
                "chat": private,
                "message_id": 1,
                "date": 1,
                "user": user,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        },
    ]
    return draw(st.sampled_from(choices))


broken_updates = st.sampled_from(
    [
        {"message": {"text": "no chat, no date"}},
        {"message": {"message_id": 1, "date": 1, "chat": {"id": 1}}},
        {"message": "not an object"},
        {"callback_query": {"id": "1"}},
        {"edited_message": None},
        {"callback_query": {"id": "1", "from": {"id": 5}, "chat_instance": "1", "data": 5}},
        {},
    ]
)
UNKNOWN_TYPES = ("future_update", "story", "business_thing")
unknown_updates = st.builds(
    lambda name, body: {name: body},
    st.sampled_from(UNKNOWN_TYPES),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def updates(people: dict[int, list[int]]) -> st.SearchStrategy[dict[str, Any]]:
    """Any update from `people` (each with the ids they forge buttons with)."""
    users = tuple(sorted(people))
    taps = tuple((user, tuple(ids)) for user, ids in sorted(people.items()))
    return st.one_of(
        message_update(users),
        message_update(users),
        callback_update(taps),
        callback_update(taps),
        channel_update(),
        other_update(users),
        broken_updates,
        unknown_updates,
    )


# ---- sending a batch the way Telegram would --------------------------------------------------


async def deliver_batch(api: LocalBotApi, app: Application, world: World, batch: list[Any]) -> None:
    """Queue the batch on the server (one getUpdates), wait until the bot confirmed all of it,
    and check that every button press in a private chat was answered. Types Telegram would not
    deliver go to `handle_batch` directly (with ids of their own, far above the server's)."""
    unknown, queued, presses = [], [], []
    for update in batch:
        if not update or next(iter(update)) in UNKNOWN_TYPES:
            unknown.append({"update_id": next(world.unknown_ids), **update})
            continue
        update = {"update_id": next(world.update_ids), **update}
        if "callback_query" in update:
            update, press = _as_press(api, update)
            presses.append(press)
        queued.append(api.queue.put(update))
    await handle_batch(app, readable(app, unknown))
    for update_id in queued:
        await api.queue.wait_confirmed(update_id, api.wait_timeout)
    spinning = [data for data, answer in presses if not answer.done()]
    assert not spinning, f"button presses left unanswered: {spinning}"


def _as_press(
    api: LocalBotApi, update: dict[str, Any]
) -> tuple[dict[str, Any], tuple[str | None, asyncio.Future[str | None]]]:
    """A callback query on one of the bot's real messages in that chat, known to the server."""
    query = dict(update["callback_query"])
    if not isinstance(query.get("message"), int):  # one of the broken ones: sent as it is
        return update, (None, _answered())
    chat = api.state.chats[query["from"]["id"]]
    mine = [message for message in chat.messages.values() if message.from_bot]
    message = mine[query["message"] % len(mine)].to_dict()
    query["id"] = f"fz{update['update_id']}"
    query["message"] = message
    answer: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    api.state.queries[query["id"]] = QueryRecord(chat.id, query["from"]["id"], answer)
    return {**update, "callback_query": query}, (query.get("data"), answer)


def _answered() -> asyncio.Future[str | None]:
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


# ---- what the database holds ------------------------------------------------------------------


async def snapshot(bot: RunningBot, *, skip: set[str] = frozenset()) -> dict[str, list[Any]]:
    """Every row of every table (but `skip`, and the inbox: the log of what came in, whose
    bodies go once handled), in a stable order."""
    rows = {}
    async with bot.db.read() as session:
        for table in metadata.sorted_tables:
            if table.name not in skip | {"inbox"}:
                found = await session.execute(select(table))
                rows[table.name] = sorted(map(repr, found.all()))
    return rows


async def counts(bot: RunningBot, *, skip: set[str]) -> dict[str, int]:
    """How many rows each table has (but `skip`)."""
    async with bot.db.read() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table))
            for table in metadata.sorted_tables
            if table.name not in skip
        }


async def other_polls(bot: RunningBot, world: World) -> list[Any]:
    async with bot.db.read() as session:
        found = await session.execute(select(Poll).where(Poll.id.in_(world.polls[1:])))
        return [repr(poll) for poll in found.scalars()]


async def answers_are_valid(bot: RunningBot, world: World) -> int:
    """Every answer to our own poll is a possible answer to its question; returns how many
    answers other polls have (which must not change)."""
    async with bot.db.read() as session:
        stored = (
            await session.execute(
                select(Answer, Question).join(Question, Question.id == Answer.question_id)
            )
        ).all()
        option_of = dict((await session.execute(select(Option.id, Option.question_id))).all())
    for answer, question in stored:
        if question.id not in world.own_questions or answer.skipped:
            continue
        if answer.option_id is not None:
            assert option_of[answer.option_id] == question.id, (answer, question.kind)
        elif answer.text is not None:
            assert question.kind == "open_text" and 0 < len(answer.text) <= 500
        else:
            top = {"faces": 5, "grade": 10, "yes_no": 3}[question.kind]
            assert 1 <= answer.value <= top, (answer, question.kind)
    return sum(question.id not in world.own_questions for _, question in stored)


# ---- the tests ----------------------------------------------------------------------------------


@pytest.fixture
async def fuzzed(api: LocalBotApi, db_url: str) -> AsyncIterator[tuple[RunningBot, World]]:
    """The bot (no flood limit: every update must reach the features), with two councils, a
    council member, a family with an open poll of every kind, and another council's polls."""
    quick = make_settings(api, db_url)
    quick = replace(quick, telegram=replace(quick.telegram, messages_per_second=1000))
    async with polling_bot(quick) as bot:
        bot.app.bot_data[gate.FLOOD] = 10**9
        errors: list[tuple[object, BaseException]] = []

        async def capture(update: object, ctx: Any) -> None:
            errors.append((update, ctx.error))

        bot.app.add_error_handler(capture)
        world = await _build_world(api, bot)
        world.errors = errors
        yield bot, world


async def _build_world(api: LocalBotApi, bot: RunningBot) -> World:
    await sign_up(api.user(MEMBER), await make_invite(bot.db, role=Role.council))
    await sign_up(api.user(FAMILY), await make_invite(bot.db, tags=("locatie:noord",)))
    await sign_up(api.user(FAMILY_TOO), await make_invite(bot.db, tags=("locatie:zuid",)))
    await sign_up(api.user(OTHER_FAMILY), await make_invite(bot.db, council="zuid"))
    own = await open_poll_now(bot.db, questions=ALL_KINDS)
    other = await open_poll_now(bot.db, questions=ALL_KINDS[:2], council="zuid")
    closed = await answered_poll(
        bot.db, council="zuid", questions=ALL_KINDS[:1], answers=[((), [1])] * 3
    )
    async with bot.db.begin() as session:
        zuid = await session.scalar(select(Council.id).where(Council.slug == "zuid"))
        await templates.save_template(
            session, council_id=zuid, title="Sjabloon", body={"questions": ALL_KINDS[:1]}
        )
    await bot.deliver()
    for stranger in STRANGERS:
        await api.user(stranger).command("start")
    for group_id in GROUPS:
        api.group(group_id, "<b>Ouders</b> & co")
    async with bot.db.read() as session:
        questions = dict((await session.execute(select(Question.id, Question.poll_id))).all())
        councils = list(await session.scalars(text("select id from council")))
        saved = list(await session.scalars(text("select id from template")))
    return World(
        own_questions=[q for q, poll in questions.items() if poll == own],
        other_questions=[q for q, poll in questions.items() if poll != own],
        polls=[own, other, closed],
        templates=saved,
        councils=councils,
    )


FUZZ = settings(
    max_examples=50,
    database=None,
    phases=[Phase.generate],  # no shrinking: each example is a whole batch through the bot
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


async def test_strangers_groups_channels_and_garbage_change_nothing(
    api: LocalBotApi, fuzzed: tuple[RunningBot, World]
) -> None:
    bot, world = fuzzed
    before = await snapshot(bot)

    async def batch_changes_nothing(batch: list[dict[str, Any]]) -> None:
        await deliver_batch(api, bot.app, world, batch)
        assert not world.errors, world.errors[:3]
        assert await snapshot(bot) == before, "a stranger's update changed the database"

    await fuzz(batch_changes_nothing, dict.fromkeys(STRANGERS, world.ids))
    await _still_works(api, bot, world)


async def test_a_family_and_a_council_member_forging_buttons_store_only_real_answers(
    api: LocalBotApi, fuzzed: tuple[RunningBot, World]
) -> None:
    bot, world = fuzzed
    before = await counts(bot, skip=ANSWER_TABLES)
    theirs_before = await other_polls(bot, world)
    answers_elsewhere = await answers_are_valid(bot, world)

    async def batch_stores_only_answers(batch: list[dict[str, Any]]) -> None:
        await deliver_batch(api, bot.app, world, batch)
        assert not world.errors, world.errors[:3]
        assert await counts(bot, skip=ANSWER_TABLES) == before
        assert await other_polls(bot, world) == theirs_before, "another council's poll changed"
        assert await answers_are_valid(bot, world) == answers_elsewhere

    theirs = [*world.other_questions, *world.polls[1:], *world.templates, *world.councils]
    # The member forges only the other council's ids: their own poll they may really close.
    people = {FAMILY: world.ids, FAMILY_TOO: world.ids, MEMBER: theirs}
    await fuzz(batch_stores_only_answers, people)
    await _still_works(api, bot, world)


async def fuzz(
    check: Callable[[list[dict[str, Any]]], Awaitable[None]], people: dict[int, list[int]]
) -> None:
    """Run `check` on FUZZ.max_examples random batches. Hypothesis drives from a thread (it
    does not run coroutines itself); each batch runs on the bot's event loop."""
    loop = asyncio.get_running_loop()

    @FUZZ
    @given(batch=st.lists(updates(people), min_size=BATCH, max_size=BATCH))
    def one_batch(batch: list[dict[str, Any]]) -> None:
        asyncio.run_coroutine_threadsafe(check(batch), loop).result()

    await asyncio.to_thread(one_batch)


async def _still_works(api: LocalBotApi, bot: RunningBot, world: World) -> None:
    """After all that, a new family signs up and answers the first question."""
    newcomer = api.user(3199)
    await sign_up(newcomer, await make_invite(bot.db))
    assert "Je doet nu mee met" in newcomer.last.text
    await open_poll_now(bot.db, questions=ALL_KINDS[:1], title="Daarna")
    await bot.deliver()
    await newcomer.press("Goed")
    assert newcomer.last.text.startswith("Dank je wel!")
    assert not world.errors


# ---- WhatsApp: signed webhook POSTs, the way Meta sends them --------------------------------

WA_STRANGERS = ("31699900001", "31699900002", "447700900123")
WA_BSUIDS = ("NL.1349120865530274191", "US.ENT.99", "XX." + "a1" * 64)
"""Business-scoped user ids; the last is as long as Meta allows (`CC.` and 128 characters)."""
WA_ODD = ("+31612345678", "abc", "9" * 200, "31\x0061", " ", "٣١٦", "NL.")
WA_FAMILY, WA_FAMILY_TOO, WA_FAMILY_BSUID = "31612399001", "31612399002", "NL.7770001112223334445"
WA_NEWCOMER, WA_NEWCOMER_BSUID = "31612399009", "NL." + "9" * 128
WA_SECRET = "wa-test-app-secret"
"""LocalWhatsApp's app secret (the fixture checks), to sign a body the wrong way."""
WA_BATCH = 25
"""Bodies per batch (about 45 messages and statuses in them), posted at once."""
WA_EXAMPLES = 8
HUGE_ID = "wamid." + "A" * 400
NOT_JSON = (b"", b"not json", b"\xff\xfe\x00", b"[1,2", b"null", b"5", b'"x"', b"[]", b"{}")
ALL_PREFIXES = tuple(
    shape
    for button in REGISTRY.values()
    for shape in (button.prefix, *(f"{button.prefix}:{step}" for step in button.steps))
)
"""PREFIXES with "fg" (forget me): a stranger may forge it too (there is nobody to forget)."""
bad_codes = st.one_of(
    st.integers(-5, 10**6),
    st.sampled_from([131047, 131026, 131000, 131048, 368, 190, 2**63, True, None, 1.5]),
    numbers,
    st.sampled_from(["abc", "", "9" * 5000]),
)
"""Error codes in a status: real, wrong types, odd digits ("²", "٣"), over int()'s limit."""
OTHER_TYPES = ("image", "sticker", "location", "contacts", "reaction", "unsupported", "order")
OTHER_TYPES += ("video", "document", "request_welcome", "future_type")
not_text = st.sampled_from([None, 5, [], {}, ["x"], {"body": 5}, True, 1.5])
"""A value of a field that must be text (an id, a sender), of any other type."""
bad_fields = st.sampled_from([None, 5, "x", [], {}, ["x"], {"body": 5}, {"id": None}, True])
wa_texts = st.one_of(
    words,
    numbers,
    long_texts,
    st.builds(lambda piece, size: (piece * size)[:size], words, st.integers(4097, 20_000)),
    st.sampled_from(["a\x00b", "<script>alert(1)</script>", "*vet* _schuin_ ~weg~ ```x```"]),
)


@dataclass
class Post:
    """One webhook POST: its bytes, how it is signed, what the bot must answer, and which
    message ids it must handle (well-formed, signed, for our number) or may (odd but legal)."""

    body: bytes
    signature: str | None = "valid"
    answer: int = 200
    must: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        body = self.body[:1500] + (b"..." if len(self.body) > 1500 else b"")
        return f"Post({body!r}, signature={self.signature!r}, answer={self.answer})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how Hypothesis shows it
        printer.text(repr(self))


@dataclass
class WaWorld:
    """What the WhatsApp fuzz keeps between batches."""

    world: World
    sink: Any
    """A simulated user that owns every fuzzed message id, so the read marks (the bot marks a
    message read once it handled it) count how often each id was handled."""
    inbound: int = 0
    """Message ids stored before the fuzz (the families' own, as they joined)."""
    handled: set[str] = field(default_factory=set)
    maybe: set[str] = field(default_factory=set)


@st.composite
def wa_message(
    draw: st.DrawFn, people: tuple[tuple[str | None, str | None], ...], data: Any, texts: Any
) -> tuple[dict[str, Any], str]:
    """One message, and whether it must be handled ("must"), may be ("maybe") or not."""
    wa_id, user_id = draw(st.sampled_from(people))
    message: dict[str, Any] = {}
    verdict = "must"
    sender = draw(st.integers(0, 12))
    if sender == 0:
        message["from"] = draw(not_text)
        wa_id = None
    elif sender == 1:  # not a number Meta sends: the bot may answer it or pass it over
        wa_id, user_id = draw(st.sampled_from(WA_ODD)), None
        verdict = "maybe"
    if wa_id is not None:
        message["from"] = wa_id
    if user_id is not None:
        message["from_user_id"] = user_id
    if not (wa_id or user_id):
        verdict = "never"
    ids = draw(st.integers(0, 12))
    if ids == 0:
        verdict = "never"  # no id at all
    elif ids == 1:
        message["id"] = draw(not_text)
        verdict = "never"
    elif ids == 2:
        message["id"] = draw(st.sampled_from([HUGE_ID, ""]))
        verdict = "maybe" if message["id"] == "" and verdict == "must" else verdict
    else:
        message["id"] = f"wamid.FZ{draw(st.integers(0, 1500))}"  # often again: duplicates
    message["timestamp"] = draw(st.sampled_from(["1767225600", "1767225600000", "x", 5, None]))
    kind = draw(
        st.sampled_from(["text", "text", "text", "tap", "tap", "tap", "quick", "audio", "other"])
    )
    if kind == "text":
        body = draw(texts) if draw(st.integers(0, 8)) else draw(bad_fields)
        message |= {"type": "text", "text": {"body": body}}
        if not draw(st.integers(0, 8)):
            message["text"] = draw(bad_fields)
    elif kind == "tap":
        shape = draw(st.sampled_from(["button_reply", "list_reply", "nfm_reply", "x", None]))
        reply = {"id": draw(data), "title": draw(words), "description": draw(words)}
        if not draw(st.integers(0, 8)):
            reply = draw(bad_fields)
        message |= {"type": "interactive", "interactive": {"type": shape, shape or "y": reply}}
    elif kind == "quick":
        payload = draw(data) if draw(st.integers(0, 8)) else draw(bad_fields)
        message |= {"type": "button", "button": {"payload": payload, "text": draw(words)}}
    elif kind == "audio":
        message |= {"type": draw(st.sampled_from(["audio", "voice"])), "audio": draw(bad_fields)}
    else:
        other = draw(st.sampled_from([*OTHER_TYPES, "", 5, None, "system"]))
        message |= {"type": other, str(other): draw(bad_fields)}
        if other == "system":
            change = draw(
                st.sampled_from(
                    ["user_changed_number", "user_changed_user_id", "customer_identity_changed"]
                )
            )
            new = draw(st.sampled_from([*WA_STRANGERS, *WA_BSUIDS, *WA_ODD]))
            message["system"] = {"type": change, "body": "changed", "wa_id": new, "user_id": new}
            if change == "customer_identity_changed":
                verdict = "never"
    if draw(st.integers(0, 4)) == 0:
        context = {"from": draw(st.sampled_from(["31201234567", 5])), "id": draw(data)}
        message["context"] = context | {"forwarded": draw(st.booleans())}
    return message, verdict


@st.composite
def wa_status(draw: st.DrawFn, ids: tuple[str, ...]) -> dict[str, Any]:
    """A status about a message we sent (or did not): odd ids, states and error codes."""
    status: dict[str, Any] = {
        "id": draw(st.one_of(st.sampled_from(ids), bad_fields, st.just(HUGE_ID))),
        "status": draw(
            st.one_of(
                st.sampled_from(["sent", "delivered", "read", "failed", "played", "deleted"]),
                bad_fields,
            )
        ),
        "timestamp": "1767225600",
        "recipient_id": draw(st.sampled_from([*WA_STRANGERS, *WA_ODD])),
    }
    if draw(st.booleans()):
        errors = st.lists(st.fixed_dictionaries({"code": bad_codes, "title": words}), max_size=2)
        status["errors"] = draw(st.one_of(errors, errors, bad_fields))
    return status


@st.composite
def wa_post(
    draw: st.DrawFn,
    metadata: dict[str, str],
    people: tuple[tuple[str | None, str | None], ...],
    data: Any,
    texts: Any,
    status_ids: tuple[str, ...],
) -> Post:
    """One webhook POST: mostly what Meta sends, with every part sometimes wrong."""
    if not draw(st.integers(0, 25)):
        return Post(draw(st.sampled_from(NOT_JSON)))
    drawn = draw(st.lists(wa_message(people, data, texts), max_size=3))
    if drawn and not draw(st.integers(0, 6)):
        drawn.append(drawn[0])  # the same message twice in one body
    messages = [message for message, _ in drawn]
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": dict(metadata)}
    if messages:
        value["messages"] = messages
    contacts = [
        {"profile": {"name": draw(words)}, "wa_id": message.get("from")}
        | ({"user_id": message["from_user_id"]} if "from_user_id" in message else {})
        for message in messages
        if draw(st.integers(0, 5))
    ]
    if contacts:
        value["contacts"] = contacts if draw(st.integers(0, 10)) else draw(bad_fields)
    if draw(st.integers(0, 2)) == 0:
        value["statuses"] = draw(st.lists(wa_status(status_ids), min_size=1, max_size=3))
    if draw(st.integers(0, 15)) == 0:
        value["errors"] = [{"code": draw(bad_codes), "title": draw(words)}]
    ours = True
    envelope_of = draw(st.integers(0, 30))
    if envelope_of == 1:
        value["metadata"] = draw(bad_fields)
        ours = False
    elif envelope_of == 2:
        value["metadata"]["phone_number_id"] = "999888777"  # another number of the business
        ours = False
    elif envelope_of == 3:
        value["metadata"]["phone_number_id"] = int(metadata["phone_number_id"])
    field_name = "account_update" if envelope_of == 8 else "messages"  # read the same way
    change: Any = {"field": field_name, "value": value}
    entry: Any = {"id": "102290129340398", "changes": [change]}
    payload: Any = {"object": "whatsapp_business_account", "entry": [entry]}
    if envelope_of == 4:
        change["value"] = draw(bad_fields)
        ours = False
    elif envelope_of == 5:
        entry["changes"] = draw(bad_fields) if draw(st.booleans()) else [draw(bad_fields), change]
        ours = ours and isinstance(entry["changes"], list) and change in entry["changes"]
    elif envelope_of == 6:
        payload = draw(st.sampled_from([[payload], None, "x", 5, {"entry": "x"}]))
        ours = False
    elif envelope_of == 7:
        payload["entry"] = [entry, entry]  # Meta batches changes: the same ones twice here
    post = Post(encode(payload))
    signing = draw(st.integers(0, 20))
    if signing == 0:
        post.signature, post.answer = None, 403
    elif signing == 1:
        post.signature = draw(
            st.sampled_from(["sha256=" + "0" * 64, "sha1=x", "", "sha256=", "x" * 71])
        )
        post.answer = 403
    elif signing == 2:  # signed, but not these bytes: a re-serialised body
        post.signature = sign(WA_SECRET, json.dumps(payload).encode())
        post.answer = 403 if json.dumps(payload).encode() != post.body else 200
    if post.answer == 200 and ours:
        for message, verdict in drawn:
            if verdict == "must" and field_name == "messages":
                post.must.add(message["id"])
            elif verdict != "never":
                post.maybe.add(message["id"])
    return post


@cache
def wa_reply_ids(ids: tuple[int, ...], prefixes: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Reply ids (button data): every prefix and step with real, wrong, huge or odd parts."""
    part = st.one_of(st.sampled_from(ids).map(str), numbers, words)
    shaped = st.builds(
        lambda prefix, parts: ":".join([prefix, *parts]),
        st.sampled_from(prefixes),
        st.lists(part, max_size=4),
    )
    return st.one_of(shaped, shaped, shaped, st.text(max_size=300))


def wa_body(metadata: dict[str, str], messages: list[dict[str, Any]], **value: Any) -> bytes:
    """Meta's envelope around one change, encoded as Meta does (what is signed)."""
    change = {"messaging_product": "whatsapp", "metadata": metadata, "messages": messages}
    return encode(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": change | value}]}],
        }
    )


def edge_posts(
    metadata: dict[str, str],
    people: tuple[tuple[str | None, str | None], ...],
    ids: tuple[int, ...],
    prefixes: tuple[str, ...],
) -> list[Post]:
    """The cases drawn rarely or never at random, each once: every prefix and step with real
    and wrong parts in each kind of reply, bodies that are not JSON, and huge texts."""
    posts = [Post(body) for body in NOT_JSON]
    number = itertools.count()
    kinds = itertools.cycle(["button_reply", "list_reply", "button"])
    senders = itertools.cycle(people)
    forged = [
        ":".join([prefix, *parts])
        for prefix in prefixes
        for parts in (
            [],
            [str(ids[0])],
            ["²"],
            ["9" * 25],
            ["abc"],
            [str(ids[-1]), str(ids[0])],
            [str(ids[-1]), "-1"],
            [str(ids[0]), str(ids[-1]), "x"],
            ["²", "x", "", "-1"],
        )
    ]
    for start in range(0, len(forged), 3):
        messages = []
        for data in forged[start : start + 3]:
            wa_id, user_id = next(senders)
            kind = next(kinds)
            message: dict[str, Any] = {"id": f"wamid.EDGE{next(number)}", "timestamp": "1"}
            message |= {"from": wa_id} if wa_id else {}
            message |= {"from_user_id": user_id} if user_id else {}
            if kind == "button":
                message |= {"type": "button", "button": {"payload": data, "text": "Start"}}
            else:
                reply = {"id": data, "title": "?"}
                message |= {"type": "interactive", "interactive": {"type": kind, kind: reply}}
            messages.append(message)
        posts.append(Post(wa_body(metadata, messages), must={m["id"] for m in messages}))
    wa_id, user_id = people[0]
    for size in (5000, 3_100_000):  # over WhatsApp's 4096, and just under the 3 MiB body limit
        message = {"id": f"wamid.EDGE{next(number)}", "type": "text", "text": {"body": "ab" * size}}
        message |= {"from": wa_id} if wa_id else {"from_user_id": user_id}
        message["text"]["body"] = message["text"]["body"][:size]
        posts.append(Post(wa_body(metadata, [message]), must={message["id"]}))
    too_big = {"id": "wamid.EDGE-too-big", "from": "31699900001", "type": "text"}
    too_big["text"] = {"body": "a" * (MAX_BODY + 1)}
    posts.append(Post(wa_body(metadata, [too_big]), answer=413))  # Meta sends at most 3 MB
    return posts


@pytest.fixture
async def wafuzzed(
    api: LocalBotApi, wa: LocalWhatsApp, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[RunningBot, WaWorld]]:
    """The bot with WhatsApp on (no flood limit, no pace to speak of: every message must reach
    the features), the Telegram world of `fuzzed`, and two families on WhatsApp that got our
    poll of every kind: one known by number, one by its BSUID. The simulator posts no
    statuses of its own (the fuzz posts them), and a status about an unknown message is tried
    again once, at once, instead of six times over 50 s."""
    assert wa.app_secret == WA_SECRET
    monkeypatch.setattr(whatsapp_webhook, "EARLY_TRIES", (0.0,))
    quick = make_settings(api, db_url)
    quick = replace(quick, telegram=replace(quick.telegram, messages_per_second=1000))
    async with polling_bot(with_whatsapp(quick, wa, messages_per_second=1000)) as bot:
        bot.app.bot_data[gate.FLOOD] = 10**9
        bot.app.bot_data[WHATSAPP_PARTS].families.flood_limit = 10**9
        errors: list[tuple[object, BaseException]] = []

        async def capture(update: object, ctx: Any) -> None:
            errors.append((update, ctx.error))

        bot.app.add_error_handler(capture)
        for user in (wa.user(WA_FAMILY), wa.user(WA_FAMILY_TOO, bsuid=WA_FAMILY_BSUID)):
            code = await make_invite(bot.db, tags=("locatie:noord",))
            await join(OnWhatsApp(user, wa.business_number), code)
        world = await _build_world(api, bot)  # opens the polls: the WhatsApp families get ours
        world.errors = errors
        for number in WA_STRANGERS:  # they wrote today: the bot's answers may go free-form
            wa.user(number).last_message_at = wa.now()
        wa.statuses = "none"
        state = WaWorld(world, WaUser(wa, "0", "sink", None, True))
        state.inbound = (await inbound_and_more(bot))["inbound"]
        yield bot, state


async def deliver_posts(
    wa: LocalWhatsApp, bot: RunningBot, state: WaWorld, posts: list[Post], caplog: Any
) -> None:
    """POST them all at once, signed as each says; wait until every message was handled;
    check the webhook's answers, that each message id was handled once, and the logs."""
    for post in posts:
        for message_id in post.must | post.maybe:
            wa.inbound_owner[message_id] = state.sink
    answers = await asyncio.gather(*(wa.delivery.post(post.body, post.signature) for post in posts))
    parts = bot.app.bot_data[WHATSAPP_PARTS]
    await bot.handled()
    while parts.webhook._early:  # statuses about messages not (yet) recorded  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not logged, [(r.name, r.getMessage(), r.exc_text) for r in logged[:3]]
    wrong = [
        (got, post.answer, post.body[:300])
        for got, post in zip(answers, posts, strict=True)
        if got != post.answer
    ]
    assert not wrong, f"the webhook answered (got, expected, body): {wrong[:3]}"
    assert not state.world.errors, state.world.errors[:3]
    for post in posts:
        state.handled |= post.must
        state.maybe |= post.maybe
    marks = Counter(state.sink.read_marks)
    assert not [key for key, times in marks.items() if times > 1], "a message handled twice"
    assert not state.handled - set(marks), "a message not handled"
    assert set(marks) <= state.handled | state.maybe, "handled what it should not have"
    stored = (await inbound_and_more(bot))["inbound"] - state.inbound
    assert len(marks) <= stored <= len(state.handled | state.maybe), "each id stored once"


async def inbound_and_more(bot: RunningBot) -> dict[str, int]:
    return await counts(bot, skip={table.name for table in metadata.sorted_tables} - {"inbound"})


async def wa_fuzz(
    check: Callable[[list[Post]], Awaitable[None]], posts: st.SearchStrategy[Post]
) -> None:
    """Run `check` on WA_EXAMPLES batches of WA_BATCH posts (as `fuzz` does)."""
    loop = asyncio.get_running_loop()

    @settings(FUZZ, max_examples=WA_EXAMPLES)
    @given(batch=st.lists(posts, min_size=WA_BATCH, max_size=WA_BATCH))
    def one_batch(batch: list[Post]) -> None:
        asyncio.run_coroutine_threadsafe(check(batch), loop).result()

    await asyncio.to_thread(one_batch)


UNKNOWN_STATUS_IDS = (
    "wamid.HBgLMzE2MTIzNDU2Nzg5FQIAERgSQUJDREVG",
    "wamid.x",
    "",
    "wamid." + "9" * 90,
)


async def test_whatsapp_strangers_and_garbage_change_nothing(
    api: LocalBotApi,
    wa: LocalWhatsApp,
    wafuzzed: tuple[RunningBot, WaWorld],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unknown numbers and BSUIDs (also without `from`), odd senders and broken bodies: the
    webhook answers 200 (403 unsigned, 413 over 3 MiB), each message id is handled once, and
    nothing is stored but the message ids (every other row of every table is compared)."""
    bot, state = wafuzzed
    before = await snapshot(bot, skip={"inbound"})
    people = (
        *((number, None) for number in WA_STRANGERS),
        *((None, bsuid) for bsuid in WA_BSUIDS),
        (WA_STRANGERS[0], WA_BSUIDS[0]),
    )
    ids = tuple(state.world.ids)

    async def batch_changes_nothing(batch: list[Post]) -> None:
        await deliver_posts(wa, bot, state, batch, caplog)
        assert await snapshot(bot, skip={"inbound"}) == before, "a stranger changed the database"

    await batch_changes_nothing(edge_posts(wa.metadata, people, ids, ALL_PREFIXES))
    vocabulary_words = st.sampled_from(sorted(vocabulary()))
    posts = wa_post(
        wa.metadata,
        people,
        wa_reply_ids(ids, ALL_PREFIXES),
        st.one_of(wa_texts, vocabulary_words),
        UNKNOWN_STATUS_IDS,
    )
    await wa_fuzz(batch_changes_nothing, posts)
    await _still_works_on_whatsapp(wa, bot, state, caplog)


async def test_whatsapp_families_forging_replies_store_only_real_answers(
    api: LocalBotApi,
    wa: LocalWhatsApp,
    wafuzzed: tuple[RunningBot, WaWorld],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The two WhatsApp families forge replies of every prefix (the other council's ids and
    their own round's deliveries among the parts), type words, numbers and open answers, and
    statuses about what they were really sent come with odd states and codes: only answers
    (valid for their question) and drafts are written; other tables keep their rows."""
    bot, state = wafuzzed
    world = state.world
    skip = ANSWER_TABLES | {"inbound"}
    before = await counts(bot, skip=skip)
    theirs_before = await other_polls(bot, world)
    answers_elsewhere = await answers_are_valid(bot, world)

    async def batch_stores_only_answers(batch: list[Post]) -> None:
        await deliver_posts(wa, bot, state, batch, caplog)
        assert await counts(bot, skip=skip) == before
        assert await other_polls(bot, world) == theirs_before, "another council's poll changed"
        assert await answers_are_valid(bot, world) == answers_elsewhere

    async with bot.db.read() as session:
        sent = list(
            await session.scalars(select(Delivery.id).where(Delivery.channel == "whatsapp"))
        )
    ids = (*world.ids, *sent)
    people = ((WA_FAMILY, None), (WA_FAMILY_TOO, WA_FAMILY_BSUID), (None, WA_FAMILY_BSUID))
    await batch_stores_only_answers(edge_posts(wa.metadata, people, ids, PREFIXES))
    shown = [
        message for number in (WA_FAMILY, WA_FAMILY_TOO) for message in wa.user(number).messages
    ]
    real = sorted(
        {
            reply_id
            for message in shown
            for reply_id, _ in message.choices
            if not FORGET.parse(reply_id)
        }
    )  # the buttons they were really shown (taps that store)
    harmless = sorted(word for word, action in vocabulary().items() if action != "forget")
    status_ids = (*UNKNOWN_STATUS_IDS, *(record.wamid for record in wa.sends))
    posts = wa_post(
        wa.metadata,
        people,
        st.one_of(wa_reply_ids(ids, PREFIXES), st.sampled_from(real)),
        st.one_of(wa_texts, st.sampled_from(harmless)),
        status_ids,
    )
    await wa_fuzz(batch_stores_only_answers, posts)
    await _still_works_on_whatsapp(wa, bot, state, caplog)


async def _still_works_on_whatsapp(
    wa: LocalWhatsApp, bot: RunningBot, state: WaWorld, caplog: Any
) -> None:
    """After all that, a new family joins on WhatsApp, answers, and writes once more with
    only its BSUID (no `from`), and is answered."""
    stored = (await inbound_and_more(bot))["inbound"]
    newcomer = wa.user(WA_NEWCOMER, bsuid=WA_NEWCOMER_BSUID)
    await join(OnWhatsApp(newcomer, wa.business_number), await make_invite(bot.db))
    # the newcomer's BSUID is as long as Meta allows (131 characters)
    assert "Je doet nu mee met" in newcomer.last.body
    await open_poll_now(bot.db, questions=ALL_KINDS[:1], title="Daarna")
    await bot.deliver()
    await newcomer.tap("Goed")
    assert newcomer.last.body.startswith("Dank je wel!")
    state.inbound += (await inbound_and_more(bot))["inbound"] - stored  # the newcomer's own
    seen = len(newcomer.messages)
    message = {"from_user_id": WA_NEWCOMER_BSUID, "id": "wamid.BSUID-only", "type": "text"}
    message["text"] = {"body": "hulp"}
    post = Post(wa_body(wa.metadata, [message]), must={message["id"]})
    await deliver_posts(wa, bot, state, [post], caplog)
    assert len(newcomer.messages) > seen, "a message without `from` is answered"
