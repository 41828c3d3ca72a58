"""For council members: /polls (status and response), /close, and /followup ("you said, we did")."""

from __future__ import annotations

import html
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import POLLS
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.polls import translations
from bot.polls.checking import MAX_FOLLOWUP, Problem, check_text
from bot.results.closing import close_and_report
from bot.results.publish import split_long
from bot.results.report import results_text
from bot.texts import Html
from handlers.picking import own_poll, pick, poll_label
from handlers.ui import (
    acknowledge,
    allowed,
    council_ids,
    on_text,
    quietly,
    replace,
    reply,
    stale_button,
)
from storage import drafts, polls
from storage.models import Draft, Poll, PollStatus, utcnow

FOLLOWUP = "followup"
ICONS = {
    PollStatus.draft: "📝",
    PollStatus.scheduled: "🗓",
    PollStatus.open: "🟢",
    PollStatus.closed: "✅",
}


async def list_polls(update: Update, ctx: Ctx) -> None:
    """/polls: the newest polls with status and response rate; a button opens each one."""
    if not await allowed(update, ctx, "polls"):
        return
    async with ctx.db.read() as session:
        lines = await polls.polls_of(session, council_ids=await council_ids(ctx, session))
    if not lines:
        await reply(update, ctx.t("polls.none"))
        return
    text = "\n".join([ctx.t("polls.intro"), *(_line(ctx, line) for line in lines)])
    buttons = [
        (
            poll_label(line.poll, ctx.t.language, line.council.timezone),
            POLLS.data("v", line.poll.id),
        )
        for line in lines
    ]
    await reply(update, text, keyboard(buttons))


async def close_command(update: Update, ctx: Ctx) -> None:
    """/close [poll]: close an open poll now (without its number: pick one)."""
    poll = await pick(
        update,
        ctx,
        "close",
        "c",
        [PollStatus.open],
        "polls.pick_close",
        "polls.nothing_to_close",
        button=POLLS,
    )
    if poll is not None:
        await close_tapped(update, ctx, poll)


async def followup_command(update: Update, ctx: Ctx) -> None:
    """/followup [poll]: tell a poll's families what the council did (without its number:
    pick the poll)."""
    statuses = [PollStatus.open, PollStatus.closed]
    poll = await pick(
        update,
        ctx,
        "followup",
        "f",
        statuses,
        "polls.pick_followup",
        "polls.nothing_to_follow_up",
        button=POLLS,
    )
    if poll is not None:
        await followup_tapped(update, ctx, poll)


async def poll_tapped(update: Update, ctx: Ctx) -> None:
    """A poll button: view it, close it, or start or send its follow-up."""
    parts = POLLS.parse(update.callback_query.data)
    poll = await own_poll(ctx, parts[1]) if parts and parts[0] in ACTIONS else None
    if poll is None:
        await stale_button(update, ctx)
        return
    await ACTIONS[parts[0]](update, ctx, poll)


async def show_poll(update: Update, ctx: Ctx, poll: Poll) -> None:
    """The poll's page: results once it is closed (an open poll's results could be compared
    answer by answer), and its follow-ups."""
    if poll.status is PollStatus.closed:
        text = await results_text(ctx.db, poll_id=poll.id, language=ctx.t.language) or ""
    else:
        text = ctx.t("polls.results_after_closing", title=poll.title_in(ctx.t.language))
    async with ctx.db.read() as session:
        followups = await polls.followups_of(session, poll_id=poll.id)
    for followup in followups:
        text += "\n\n" + ctx.t(
            "followup.message", title=poll.title_in(ctx.t.language), text=followup.text
        )
    await acknowledge(update.callback_query)
    for part in split_long(text):
        await reply(update, part)


async def close_tapped(update: Update, ctx: Ctx, poll: Poll) -> None:
    """Close the poll (a button of the picker, or `/close 12`); the results follow."""
    query = update.callback_query
    if query is not None:
        await acknowledge(query)
    closed = await close_and_report(ctx.bot, ctx.db, poll_id=poll.id, now=utcnow())
    text = (
        ctx.t("polls.closed", title=poll.title_in(ctx.t.language))
        if closed
        else ctx.t("polls.already_closed")
    )
    if query is None:
        await reply(update, text)
    else:
        await quietly(query.edit_message_text(text))


async def followup_tapped(update: Update, ctx: Ctx, poll: Poll) -> None:
    async with ctx.db.begin() as session:
        await drafts.save_draft(
            session,
            address=ctx.profile.address,
            kind=FOLLOWUP,
            step="text",
            data={"poll_id": poll.id},
        )
    await replace(
        update, ctx.t("polls.ask_followup", title=poll.title_in(ctx.t.language), limit=MAX_FOLLOWUP)
    )


async def followup_typed(update: Update, ctx: Ctx, draft: Draft) -> None:
    """The follow-up text, then its translations into the poll's other languages (each may
    wait for later); then shown as families will see it, with Send and Cancel."""
    text = check_text(update.effective_message.text, limit=MAX_FOLLOWUP)
    if isinstance(text, Problem):
        await reply(update, ctx.t(text.key, **text.values))
        return
    data = dict(draft.data)
    if draft.step == "translate":
        data["translations"] = data.get("translations", {}) | {data["language"]: text}
    else:
        data |= {"text": text, "translations": {}, "later": []}
    await _followup_next(update, ctx, draft, data)


async def followup_later(update: Update, ctx: Ctx, poll: Poll) -> None:
    """Later: this language gets the follow-up in the poll's first language."""
    async with ctx.db.read() as session:
        draft = await drafts.get_draft(session, address=ctx.profile.address, kind=FOLLOWUP)
    if draft is None or draft.step != "translate" or draft.data.get("poll_id") != poll.id:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query)
    await update.callback_query.edit_message_reply_markup(None)
    data = dict(draft.data)
    data["later"] = [*data.get("later", []), data["language"]]
    await _followup_next(update, ctx, draft, data)


async def _followup_next(update: Update, ctx: Ctx, draft: Draft, data: dict[str, Any]) -> None:
    poll = await own_poll(ctx, str(data["poll_id"]))
    done = {*data.get("translations", {}), *data.get("later", [])}
    language = next((lang for lang in poll.translations if lang not in done), None)
    async with ctx.db.begin() as session:
        await drafts.save_draft(
            session,
            address=draft.contact,
            kind=FOLLOWUP,
            step="confirm" if language is None else "translate",
            data=data | {"language": language},
        )
    if language is not None:
        names = {
            "language": translations.name(ctx.t, language),
            "first": translations.name(ctx.t, poll.language),
        }
        later = keyboard([(ctx.t("translate.later"), POLLS.data("l", poll.id))])
        await reply(update, ctx.t("translate.ask_followup", text=data["text"], **names), later)
        return
    buttons = [
        (ctx.t("newpoll.send"), POLLS.data("s", poll.id)),
        (ctx.t("newpoll.cancel"), POLLS.data("x", poll.id)),
    ]
    text = ctx.t("followup.message", title=poll.title_in(ctx.t.language), text=data["text"])
    for language, translated in data.get("translations", {}).items():  # each one read back
        text += f"\n\n<b>{html.escape(translations.name(ctx.t, language))}</b>\n"
        text += html.escape(translated, quote=False)
    if data.get("later"):
        missing = ", ".join(translations.name(ctx.t, lang) for lang in data["later"])
        first = translations.name(ctx.t, poll.language)
        text += "\n\n<i>" + ctx.t("translate.followup_missing", first=first, languages=missing)
        text += "</i>"
    await reply(update, text, keyboard(buttons))


async def followup_confirmed(update: Update, ctx: Ctx, poll: Poll) -> None:
    """Send: store the follow-up and queue it for everyone who was asked."""
    async with ctx.db.begin() as session:
        draft = await drafts.get_draft(session, address=ctx.profile.address, kind=FOLLOWUP)
        if draft is None or draft.step != "confirm" or draft.data.get("poll_id") != poll.id:
            sending = None
        else:
            person = ctx.profile.person
            sending = await polls.add_followup(
                session,
                poll=poll,
                text=draft.data["text"],
                translations=draft.data.get("translations", {}),
                created_by=person.id if person else None,
            )
            sending.progress_chat_id = update.effective_chat.id
            await drafts.drop_drafts(session, address=draft.contact, kind=FOLLOWUP)
    if sending is None:
        await stale_button(update, ctx)
        return
    ctx.services.outbox.kick()
    await acknowledge(update.callback_query)
    await update.callback_query.edit_message_reply_markup(None)
    await reply(update, ctx.t("polls.followup_sent", count=sending.total))


async def followup_cancelled(update: Update, ctx: Ctx, poll: Poll) -> None:
    async with ctx.db.begin() as session:
        await drafts.drop_drafts(session, address=ctx.profile.address, kind=FOLLOWUP)
    await replace(update, ctx.t("polls.followup_cancelled"))


ACTIONS = {
    "v": show_poll,
    "c": close_tapped,
    "f": followup_tapped,
    "s": followup_confirmed,
    "x": followup_cancelled,
    "l": followup_later,
}


def _line(ctx: Ctx, line: polls.PollLine) -> str:
    """One poll: status, the response (a count below the threshold is not shown), and its
    languages."""
    poll, k = line.poll, line.council.privacy_threshold
    closes = formatting.short_moment(poll.closes_at, line.council.timezone)
    return ctx.t(
        "polls.line",
        icon=ICONS[poll.status],
        title=poll.title_in(ctx.t.language),
        status=ctx.t(f"polls.status_{poll.status.value}", closes=closes),
        response=Html(
            ctx.t("polls.response", answered=line.answered, asked=line.asked, rate=line.rate)
            if line.answered >= k
            else ctx.t("polls.response_hidden", asked=line.asked, k=k)
        ),
        followed=ctx.t("polls.followed") if line.followups else "",
        languages=Html(_languages(ctx, line)),
    )


def _languages(ctx: Ctx, line: polls.PollLine) -> str:
    """The languages the poll was written in, when the council writes in more than one (so a
    poll that lacks one shows it)."""
    if "," not in line.council.languages:
        return ""
    poll = line.poll
    names = [ctx.t(f"languages.{code}") for code in (poll.language, *poll.translations)]
    return ctx.t("polls.languages", names=", ".join(names))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("polls"), list_polls))
    app.add_handler(CommandHandler(names("close"), close_command))
    app.add_handler(CommandHandler(names("followup"), followup_command))
    app.add_handler(CallbackQueryHandler(poll_tapped, pattern=POLLS.pattern))
    on_text(app, FOLLOWUP, "text", followup_typed)
    on_text(app, FOLLOWUP, "confirm", followup_typed)
    on_text(app, FOLLOWUP, "translate", followup_typed)
