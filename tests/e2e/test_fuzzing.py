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
"""

from __future__ import annotations

import asyncio
import itertools
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
from bot.chat.throttle import Throttle
from bot.run.polling import handle_batch, readable
from handlers import gate
from storage import templates
from storage.models import Answer, Council, Option, Poll, Question, Role, metadata
from tests.builders import (
    answered_poll,
    make_invite,
    make_settings,
    open_poll_now,
    sign_up,
)
from tests.e2e.conftest import RunningBot, polling_bot

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
ANSWER_TABLES = {"answer", "respondent", "respondenttag", "draft", "conversation_state"}


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
    """Every row of every table (but `skip`), in a stable order."""
    rows = {}
    async with bot.db.read() as session:
        for table in metadata.sorted_tables:
            if table.name not in skip:
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
        bot.app.bot_data[gate.FLOOD] = Throttle(limit=10**9, window=60)
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
            session, council_id=zuid, title="Sjabloon", questions=ALL_KINDS[:1]
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
