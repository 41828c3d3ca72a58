"""Families answer: one tap per question, the message shows the answer, then the next question.

Every tap is checked: the question must belong to a poll this person was sent, the poll must
be open, and a change only counts while changing is allowed. A second tap, a replayed or a
forged button never counts twice: the answer table has a unique key per person and question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from bot.chat.buttons import (
    ANSWER,
    ANSWERING,
    CHANGE,
    DONE,
    OPEN,
    PICK,
    SKIP,
    TOGGLE,
    parse,
)
from bot.chat.context import Ctx
from bot.polls.asking import OPEN_ANSWER, expect_open_answer, forget_open_answer, next_question
from bot.polls.questions import (
    FACES,
    GRADES,
    HEX,
    OPEN_TEXT_LIMIT,
    TOP,
    YES_NO,
    answer_buttons,
    answered,
    asking,
    closes_on,
)
from handlers.ui import acknowledge, on_text, reply, stale_button
from storage import answers, drafts, polls
from storage.answers import Choice
from storage.models import Draft, Person, PollStatus, QuestionKind
from storage.polls import PollView, QuestionView
from storage.pseudonyms import pseudonym

PATTERN = "|".join(button.pattern for button in ANSWERING)


@dataclass
class Asked:
    """A tap (or typed answer) that passed every check, with what it is about."""

    view: PollView
    question: QuestionView
    person: Person
    pseudonym: str


async def tapped(update: Update, ctx: Ctx) -> None:
    """Any answer button: check it, then let the button's action do its part."""
    query = update.callback_query
    parsed = parse(query.data)
    if parsed is None or parsed[0] not in ANSWERING:
        await stale_button(update, ctx)
        return
    action, parts = parsed[0].prefix, parsed[1]
    question_id, value = parts[0], parts[1] if len(parts) > 1 else ""
    if question_id == "0":
        await acknowledge(query, ctx.t("newpoll.preview_button"))
        return
    asked = await _checked(update, ctx, question_id)
    if asked is None:
        return
    kinds = KINDS_OF.get(action)
    if kinds is not None and asked.question.question.kind not in kinds:
        await stale_button(update, ctx)
        return
    await ACTIONS[action](update, ctx, asked, value)


async def answer_chosen(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    """One tap: an option, a face, a grade, or yes / no / don't know."""
    choice = _single_choice(asked.question, value)
    if choice is None:
        await stale_button(update, ctx)
        return
    await _store(update, ctx, asked, [choice])


async def several_toggled(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    """Several choices: show the new selection; nothing is stored until Done."""
    mask = _mask(asked.question, value)
    if mask is None:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query)
    markup = answer_buttons(ctx.t, asked.question, mask=mask)
    await _quietly(update.callback_query.edit_message_reply_markup(markup))


async def several_done(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    mask = _mask(asked.question, value)
    if mask is None:
        await stale_button(update, ctx)
        return
    if not mask:
        await acknowledge(update.callback_query, ctx.t("poll.choose_one"))
        return
    chosen = [o for o in asked.question.options if mask & 1 << o.position]
    await _store(update, ctx, asked, [Choice(slot=o.position, option_id=o.id) for o in chosen])


async def priority_picked(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    """Priorities: each tap adds the next place; the third (or last possible) one stores."""
    picks = "" if value == "-" else value
    positions = [HEX.find(pick) for pick in picks]
    options = asked.question.options
    enough = min(TOP, len(options))
    unknown = any(asked.question.option_at(p) is None for p in positions)
    if len(set(picks)) != len(picks) or len(picks) > enough or unknown:
        await stale_button(update, ctx)
        return
    if len(picks) < enough:
        await acknowledge(update.callback_query)
        text, markup = asking(ctx.t, asked.view, asked.question, picks=picks)
        await _quietly(update.callback_query.edit_message_text(text, reply_markup=markup))
        return
    choices = [
        Choice(slot=rank, option_id=asked.question.option_at(position).id)
        for rank, position in enumerate(positions, 1)
    ]
    await _store(update, ctx, asked, choices)


async def skipped(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    await _store(update, ctx, asked, [Choice(skipped=True)])


async def change_requested(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    """Show the question's buttons again, when changing is allowed."""
    if not asked.view.poll.allow_change:
        await acknowledge(update.callback_query, ctx.t("poll.already_saved"))
        return
    await acknowledge(update.callback_query)
    text, markup = asking(ctx.t, asked.view, asked.question)
    await _quietly(update.callback_query.edit_message_text(text, reply_markup=markup))


async def open_requested(update: Update, ctx: Ctx, asked: Asked, value: str) -> None:
    """An open question: the next message the family types is the (new) answer."""
    poll, person = asked.view.poll, asked.person
    async with ctx.db.begin() as session:
        respondent = await answers.find_respondent(
            session, poll_id=poll.id, pseudonym=asked.pseudonym
        )
        done = await answers.answers_of(session, respondent_id=respondent.id) if respondent else {}
        locked = asked.question.id in done and not poll.allow_change
        if not locked:
            await expect_open_answer(
                session,
                view=asked.view,
                telegram_id=person.telegram_id,
                question_id=asked.question.id,
            )
    if locked:
        await acknowledge(update.callback_query, ctx.t("poll.already_saved"))
        return
    await acknowledge(update.callback_query)
    await reply(update, ctx.t("poll.open_change"))


async def open_answer_typed(update: Update, ctx: Ctx, draft: Draft) -> None:
    """The typed answer to an open question (from a draft set when the question was shown)."""
    text = (update.effective_message.text or "").strip()
    if len(text) > OPEN_TEXT_LIMIT:
        await reply(update, ctx.t("common.too_long", limit=OPEN_TEXT_LIMIT))
        return
    asked = await _checked(update, ctx, str(draft.data.get("question_id")))
    if asked is None:
        async with ctx.db.begin() as session:
            await drafts.drop_drafts(session, telegram_id=draft.telegram_id, kind=draft.kind)
        return
    await _store(update, ctx, asked, [Choice(text=text)])


KINDS_OF = {
    ANSWER.prefix: {
        QuestionKind.single,
        QuestionKind.faces,
        QuestionKind.grade,
        QuestionKind.yes_no,
    },
    TOGGLE.prefix: {QuestionKind.multiple},
    DONE.prefix: {QuestionKind.multiple},
    PICK.prefix: {QuestionKind.priorities},
    OPEN.prefix: {QuestionKind.open_text},
}
"""Which question kinds each button belongs to; skip (qs) and change (qc) fit every kind."""
ACTIONS = {
    ANSWER.prefix: answer_chosen,
    TOGGLE.prefix: several_toggled,
    DONE.prefix: several_done,
    PICK.prefix: priority_picked,
    SKIP.prefix: skipped,
    CHANGE.prefix: change_requested,
    OPEN.prefix: open_requested,
}


async def _store(update: Update, ctx: Ctx, asked: Asked, choices: list[Choice]) -> None:
    """Store the answer in one transaction; then show it and, if it was new, ask the next."""
    poll, question, person = asked.view.poll, asked.question, asked.person
    first, upcoming, rows, keep = False, None, None, False
    async with ctx.db.begin() as session:
        still_open = await answers.still_open(session, poll_id=poll.id)
        if still_open:
            respondent = await answers.respondent_for(
                session, poll=poll, pseudonym=asked.pseudonym, person_id=person.id
            )
            before = (await answers.answers_of(session, respondent_id=respondent.id)).get(
                question.id
            )
            same = before is not None and [_as_choice(row) for row in before] == choices
            keep = before is not None and (same or not poll.allow_change)
            rows = before
            if not keep:
                first = await answers.record(
                    session, respondent_id=respondent.id, question_id=question.id, choices=choices
                )
                rows = (await answers.answers_of(session, respondent_id=respondent.id))[question.id]
                await forget_open_answer(
                    session, telegram_id=person.telegram_id, question_id=question.id
                )
            if first:
                upcoming = await next_question(
                    session,
                    ctx.t,
                    view=asked.view,
                    pseudonym=asked.pseudonym,
                    telegram_id=person.telegram_id,
                )
    if not still_open:  # closed between the tap and now
        await _closed(update, ctx)
        return
    await _show_answer(update, ctx, asked, rows, saved=not keep)
    if first:
        text, markup = upcoming or (ctx.t("poll.thanks", closes=closes_on(asked.view)), None)
        await update.effective_chat.send_message(text, reply_markup=markup)


async def _closed(update: Update, ctx: Ctx) -> None:
    if update.callback_query:
        await acknowledge(update.callback_query, ctx.t("poll.closed"))
    else:
        await reply(update, ctx.t("poll.closed"))


async def _show_answer(
    update: Update, ctx: Ctx, asked: Asked, rows: list[Any], *, saved: bool
) -> None:
    text, markup = answered(ctx.t, asked.view, asked.question, rows)
    query = update.callback_query
    if query is None:
        await reply(update, ctx.t("poll.open_saved") + "\n\n" + text, markup)
        return
    await acknowledge(query, ctx.t("poll.saved" if saved else "poll.already_saved"))
    await _quietly(query.edit_message_text(text, reply_markup=markup))


async def _checked(update: Update, ctx: Ctx, question_id: str) -> Asked | None:
    """The poll and question behind a tap, if this person was asked and the poll is open."""
    person = ctx.profile.person if ctx.profile else None
    view = None
    if person is not None and question_id.isdigit():
        async with ctx.db.read() as session:  # only reads: no write lock on SQLite
            poll_id = await polls.poll_of_question(session, question_id=int(question_id))
            if poll_id and await polls.was_asked(session, poll_id=poll_id, person_id=person.id):
                view = await polls.load_poll(session, poll_id=poll_id)
    if view is None:
        await stale_button(update, ctx)
        return None
    if view.poll.status is not PollStatus.open:
        await _closed(update, ctx)
        return None
    key = pseudonym(
        ctx.settings.pseudonym_key, poll_id=view.poll.id, telegram_id=person.telegram_id
    )
    return Asked(view=view, question=view.question(int(question_id)), person=person, pseudonym=key)


def _single_choice(question: QuestionView, value: str) -> Choice | None:
    if not value.isdigit():
        return None
    number = int(value)
    match question.question.kind:
        case QuestionKind.single:
            option = question.option_at(number)
            return Choice(option_id=option.id) if option else None
        case QuestionKind.faces if 1 <= number <= len(FACES):
            return Choice(value=number)
        case QuestionKind.grade if number in GRADES:
            return Choice(value=number)
        case QuestionKind.yes_no if number in YES_NO:
            return Choice(value=number)
    return None


def _mask(question: QuestionView, value: str) -> int | None:
    if question.question.kind is not QuestionKind.multiple or not value.isdigit():
        return None
    allowed = sum(1 << option.position for option in question.options)
    mask = int(value)
    return mask if mask & ~allowed == 0 else None


def _as_choice(row: Any) -> Choice:
    return Choice(
        slot=row.slot, option_id=row.option_id, value=row.value, text=row.text, skipped=row.skipped
    )


async def _quietly(edit: Any) -> None:
    """Edit a message; a double tap that changes nothing is not an error."""
    try:
        await edit
    except BadRequest as error:
        if "not modified" not in str(error):
            raise


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CallbackQueryHandler(tapped, pattern=PATTERN))
    on_text(app, *OPEN_ANSWER, open_answer_typed)
