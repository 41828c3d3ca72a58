"""Writing the poll itself: its title, then 1 to 5 questions of seven kinds."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.chat.buttons import NEWPOLL
from bot.chat.context import Ctx
from bot.chat.keyboards import MAX_LABEL, keyboard
from bot.polls import translations
from bot.polls.checking import (
    MAX_QUESTION,
    MAX_QUESTIONS,
    MAX_TITLE,
    OPTION_COUNTS,
    Problem,
    check_options,
    check_text,
    needs_options,
)
from handlers.newpoll.states import (
    KIND,
    OPTIONS,
    TEXT,
    TITLE,
    TRANSLATE,
    asks,
    go,
    save,
    value_of,
    with_draft,
)
from handlers.ui import acknowledge, replace, reply
from storage.models import QuestionKind


@asks(TITLE)
async def ask_title(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    await replace(update, ctx.t("newpoll.ask_title", limit=MAX_TITLE))
    return await save(ctx, data, TITLE)


@with_draft
async def title_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """The title: checked, stored, then the first question (or back to the preview)."""
    title = check_text(update.effective_message.text, limit=MAX_TITLE)
    if isinstance(title, Problem):
        await _explain(update, ctx, title)
        return TITLE
    if title != data.get("title"):
        translations.forget_title(data)
    data["title"] = title
    if data.pop("editing", None) is not None or data.get("ready"):
        return await go(TRANSLATE, update, ctx, data)
    return await ask_kind(update, ctx, data)


@asks(KIND)
async def ask_kind(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Which kind the next question is; after the first, 'no more questions' too."""
    number = _number(data)
    buttons = [
        (ctx.t(f"newpoll.kind_{kind.value}"), NEWPOLL.data("k", kind.value))
        for kind in QuestionKind
    ]
    done = (
        [(ctx.t("newpoll.no_more"), NEWPOLL.data("k", "end"))]
        if data["questions"] and data.get("editing") is None
        else []
    )
    key = "newpoll.ask_kind_more" if done else "newpoll.ask_kind"
    await replace(update, ctx.t(key, number=number), keyboard(buttons, footer=done))
    return await save(ctx, data, KIND)


@with_draft
async def kind_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    value = value_of(ctx, update.callback_query.data)
    if value == "end" and data["questions"]:
        return await go(TRANSLATE, update, ctx, data)
    full = len(data["questions"]) >= MAX_QUESTIONS and data.get("editing") is None
    if value not in QuestionKind.__members__.values() or full:
        await acknowledge(update.callback_query, ctx.t("common.stale_button"))
        return KIND
    data["current"] = {"kind": value}
    await replace(update, ctx.t("newpoll.ask_text", number=_number(data), limit=MAX_QUESTION))
    return await save(ctx, data, TEXT)


@with_draft
async def question_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    text = check_text(update.effective_message.text, limit=MAX_QUESTION)
    if isinstance(text, Problem):
        await _explain(update, ctx, text)
        return TEXT
    data["current"]["text"] = text
    kind = QuestionKind(data["current"]["kind"])
    if needs_options(kind):
        low, high = OPTION_COUNTS[kind]
        await reply(update, ctx.t("newpoll.ask_options", low=low, high=high, limit=MAX_LABEL))
        return await save(ctx, data, OPTIONS)
    return await _question_done(update, ctx, data)


@with_draft
async def options_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    options = check_options(update.effective_message.text, QuestionKind(data["current"]["kind"]))
    if isinstance(options, Problem):
        await _explain(update, ctx, options)
        return OPTIONS
    data["current"]["options"] = options
    return await _question_done(update, ctx, data)


async def _question_done(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Add (or replace, when editing) the question; then the next one, the settings or preview."""
    question = data.pop("current")
    editing = data.pop("editing", None)
    if isinstance(editing, int):
        data["questions"][editing] = question
        translations.forget_question(data, editing)
    else:
        data["questions"].append(question)
    if editing is not None or data.get("ready") or len(data["questions"]) >= MAX_QUESTIONS:
        return await go(TRANSLATE, update, ctx, data)
    return await ask_kind(update, ctx, data)


def _number(data: dict[str, Any]) -> int:
    editing = data.get("editing")
    return editing + 1 if isinstance(editing, int) else len(data["questions"]) + 1


async def _explain(update: Update, ctx: Ctx, problem: Problem) -> None:
    await reply(update, ctx.t(problem.key, **problem.values))
