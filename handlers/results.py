"""For council members and staff: /results (with a breakdown per group), /chart and /export.

A poll is chosen with a button or by its number after the command (`/results 12 locatie`).
Results of an open poll are not shown: they could be compared answer by answer. Someone of
another council gets the same answer as for a poll that does not exist.
"""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import RESULTS
from bot.chat.commands import COMMANDS, names
from bot.chat.context import Ctx
from bot.chat.keyboards import MAX_CALLBACK_BYTES, keyboard
from bot.family import helplines
from bot.results.breakdown import breakdown_text
from bot.results.exports import answers_csv, table_csv
from bot.results.pictures import poll_pictures
from bot.results.publish import response_line, split_long
from bot.results.report import Report, load_report
from handlers.picking import offer_polls, own_poll
from handlers.ui import acknowledge, allowed, reply, stale_button
from storage import audit, polls, segments
from storage.answers import answer_rows
from storage.models import Poll, PollStatus, Role

ANSWERS = ("answers", "antwoorden")
VISIBLE = [PollStatus.open, PollStatus.closed]
MAX_KIND_BUTTONS = 3


async def results_command(update: Update, ctx: Ctx) -> None:
    """/results [poll [tag kind]]: the results, or a breakdown by one kind of tag."""
    poll = await _chosen_poll(update, ctx, "results", "v", "results.pick", VISIBLE)
    if poll is None:
        return
    if len(ctx.args or []) > 1:
        await show_breakdown(update, ctx, poll, ctx.args[1].lower())
    else:
        await show_results(update, ctx, poll)


async def chart_command(update: Update, ctx: Ctx) -> None:
    """/chart [poll]: a picture per question (and the trend of a recurring round)."""
    poll = await _chosen_poll(update, ctx, "chart", "c", "chart.pick", [PollStatus.closed])
    if poll is not None:
        await send_charts(update, ctx, poll)


async def export_command(update: Update, ctx: Ctx) -> None:
    """/export [poll [answers]]: the results table as CSV; staff may also get every answer."""
    poll = await _chosen_poll(update, ctx, "export", "e", "export.pick", [PollStatus.closed])
    if poll is None:
        return
    if len(ctx.args or []) > 1 and ctx.args[1].lower() in ANSWERS:
        await export_answers(update, ctx, poll)
    else:
        await export_table(update, ctx, poll)


async def _chosen_poll(
    update: Update, ctx: Ctx, command: str, action: str, ask: str, statuses: list[PollStatus]
) -> Poll | None:
    """The poll named after the command; without one, buttons to choose (and None)."""
    if not await allowed(update, ctx, command):
        return None
    if not ctx.args:
        none = "results.none"
        await offer_polls(
            update, ctx, button=RESULTS, action=action, statuses=statuses, ask=ask, none=none
        )
        return None
    poll = await own_poll(ctx, ctx.args[0])
    if poll is None:
        shown = COMMANDS[command].shown_as(ctx.t.language)
        await reply(update, ctx.t("results.unknown_poll", value=ctx.args[0][:12], command=shown))
    return poll


async def result_tapped(update: Update, ctx: Ctx) -> None:
    """A results button: view, breakdown (`rs:b:poll:kind`), chart, or an export."""
    data = update.callback_query.data or ""
    parts = RESULTS.parse(data) or RESULTS.parse(data) or [""]
    shape_ok = (parts[0] in ACTIONS and len(parts) == 2) or (parts[0] == "b" and len(parts) == 3)
    poll = await own_poll(ctx, parts[1]) if shape_ok else None
    if poll is None:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query)
    if parts[0] == "b":
        await show_breakdown(update, ctx, poll, parts[2])
    else:
        await ACTIONS[parts[0]](update, ctx, poll)


async def show_results(update: Update, ctx: Ctx, poll: Poll) -> None:
    report = await _closed_report(update, ctx, poll)
    if report is None:
        return
    text = report.text(ctx.t)
    if await own_poll(ctx, str(poll.id), Role.staff) is not None:  # staff only, under the header
        header, _, rest = text.partition("\n")
        count = report.view.poll.help_replies
        text = f"{header}\n{helplines.results_line(ctx.t, count, k=report.k)}\n{rest}"
    parts = split_long(text)
    for part in parts[:-1]:
        await reply(update, part)
    await reply(update, parts[-1], await _more_buttons(ctx, report))


async def show_breakdown(update: Update, ctx: Ctx, poll: Poll, kind: str) -> None:
    report = await _closed_report(update, ctx, poll)
    if report is None:
        return
    if report.purged:
        await reply(update, ctx.t("results.purged_no_split"))
        return
    async with ctx.db.read() as session:
        kinds = await segments.tag_kinds(session, poll_id=poll.id)
        split = (
            await segments.tally_by_segment(session, poll_id=poll.id, kind=kind)
            if kind in kinds
            else None
        )
    if split is None:
        key = "breakdown.unknown_kind" if kinds else "breakdown.no_kinds"
        await reply(
            update,
            ctx.t(key, kind=kind[:30], kinds=", ".join(kinds)),
            _kind_buttons(ctx, poll.id, kinds),
        )
        return
    text = breakdown_text(
        ctx.t,
        report.view,
        report.tallies,
        split,
        kind=kind,
        asked=report.asked,
        answered=report.answered,
        k=report.k,
    )
    for part in split_long(text):
        await reply(update, part)


async def send_charts(update: Update, ctx: Ctx, poll: Poll) -> None:
    report = await _closed_report(update, ctx, poll)
    if report is None:
        return
    if not report.enough:
        await reply(update, ctx.t("results.not_enough", k=report.k))
        return
    history = await _history(ctx, report)
    await update.effective_chat.send_action("upload_photo")
    pictures = await poll_pictures(ctx.t, report, history)
    if not pictures:
        await reply(update, ctx.t("chart.nothing", k=report.k))
    for number, picture in enumerate(pictures, 1):
        photo = InputFile(picture.png, filename=f"chart-{poll.id}-{number}.png")
        await update.effective_chat.send_photo(photo, caption=picture.caption)


async def export_table(update: Update, ctx: Ctx, poll: Poll) -> None:
    report = await _closed_report(update, ctx, poll)
    if report is None:
        return
    await _send_csv(update, ctx, report, table_csv(ctx.t, report), "table")


async def export_answers(update: Update, ctx: Ctx, poll: Poll) -> None:
    if await own_poll(ctx, str(poll.id), Role.staff) is None:
        await reply(update, ctx.t("export.staff_only"))
        return
    report = await _closed_report(update, ctx, poll)
    if report is None:
        return
    if not report.enough or report.purged:
        key = "results.purged_no_answers" if report.purged else "results.not_enough"
        await reply(update, ctx.t(key, k=report.k))
        return
    async with ctx.db.read() as session:
        rows = await answer_rows(session, poll_id=poll.id)
    await _send_csv(update, ctx, report, answers_csv(ctx.t, report, rows), "answers")


async def _send_csv(update: Update, ctx: Ctx, report: Report, data: bytes, what: str) -> None:
    """Write the export to the audit log (who, when, what), then send it as a document."""
    poll = report.view.poll
    async with ctx.db.begin() as session:
        person = ctx.profile.person if ctx.profile else None
        audit.record(
            session,
            action=f"export_{what}",
            council_id=poll.council_id,
            actor_id=person.id if person else None,
            detail=f"poll {poll.id}" + ("" if person else " by an administrator"),
        )
    filename = ctx.t(f"export.filename_{what}", poll=poll.id)
    caption = ctx.t(f"export.caption_{what}", title=poll.title_in(ctx.t.language), k=report.k)
    staff = await own_poll(ctx, str(poll.id), Role.staff) is not None
    more = (
        keyboard([(ctx.t("export.answers_button"), RESULTS.data("a", poll.id))])
        if what == "table" and staff and report.enough and not report.purged
        else None
    )
    await update.effective_chat.send_document(
        InputFile(data, filename=filename), caption=caption, reply_markup=more
    )


async def _closed_report(update: Update, ctx: Ctx, poll: Poll) -> Report | None:
    """The poll's numbers once it is closed; before that, how many answered and when."""
    if poll.status is not PollStatus.closed:
        report = await load_report(ctx.db, poll_id=poll.id, language=ctx.t.language)
        lines = [ctx.t("results.title", title=poll.title_in(ctx.t.language))]
        if poll.status is PollStatus.open and report is not None:
            lines.append(
                response_line(ctx.t, answered=report.answered, asked=report.asked, k=report.k)
            )
            lines.append(ctx.t("results.after_closing", closes=_closes(report)))
        else:
            lines.append(ctx.t("results.not_sent"))
        await reply(update, "\n".join(lines))
        return None
    return await load_report(ctx.db, poll_id=poll.id, language=ctx.t.language)


def _closes(report: Report) -> str:
    moment = report.view.poll.closes_at
    return formatting.short_moment(moment, report.view.council.timezone) if moment else "?"


async def _history(ctx: Ctx, report: Report) -> list[tuple[str, Report]]:
    """The earlier closed rounds of a recurring poll (with this one), labelled by date."""
    async with ctx.db.read() as session:
        rounds = await polls.earlier_rounds(session, poll=report.view.poll)
    zone = report.view.council.timezone
    history = []
    for poll in rounds:
        loaded = (
            report
            if poll.id == report.view.poll.id
            else await load_report(ctx.db, poll_id=poll.id, language=ctx.t.language)
        )
        if loaded is not None:
            moment = poll.opens_at or poll.created_at
            history.append((formatting.day(moment, zone), loaded))
    return history


async def _more_buttons(ctx: Ctx, report: Report) -> Any:
    if not report.enough:
        return None
    poll_id = report.view.poll.id
    async with ctx.db.read() as session:
        kinds = await segments.tag_kinds(session, poll_id=poll_id)
    buttons = _by_kind(ctx, poll_id, kinds)
    buttons += [
        (ctx.t("results.chart_button"), RESULTS.data("c", poll_id)),
        (ctx.t("results.export_button"), RESULTS.data("e", poll_id)),
    ]
    return keyboard(buttons)


def _kind_buttons(ctx: Ctx, poll_id: int, kinds: list[str]) -> Any:
    buttons = _by_kind(ctx, poll_id, kinds)
    return keyboard(buttons) if buttons else None


def _by_kind(ctx: Ctx, poll_id: int, kinds: list[str]) -> list[tuple[str, str]]:
    """A "Per …" button for the first kinds whose data fits Telegram's 64 bytes (a kind that
    does not fit can still be typed: /results 12 kind)."""
    data = {kind: f"{RESULTS.prefix}:b:{poll_id}:{kind}" for kind in kinds}
    fitting = [kind for kind in kinds if len(data[kind].encode()) <= MAX_CALLBACK_BYTES]
    return [
        (ctx.t("results.by_kind", kind=kind), RESULTS.data("b", poll_id, kind))
        for kind in fitting[:MAX_KIND_BUTTONS]
    ]


ACTIONS = {
    "v": show_results,
    "c": send_charts,
    "e": export_table,
    "a": export_answers,
}


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("results"), results_command))
    app.add_handler(CommandHandler(names("chart"), chart_command))
    app.add_handler(CommandHandler(names("export"), export_command))
    app.add_handler(CallbackQueryHandler(result_tapped, pattern=RESULTS.pattern))
