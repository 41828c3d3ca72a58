"""/participation: how many families signed up, and how many are active, paused, stopped or
blocked, overall and per group. Small numbers are concealed as in the results.
`/participation rounds`: per group the response rate of each of the last closed polls, as a
table and a chart (whom the council hears well, and whom not)."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.chat.commands import COMMANDS, names
from bot.chat.context import Ctx
from bot.results.breakdown import segment_name
from bot.results.disclosure import Concealed, hide_small, protect_table
from bot.results.hearing import rounds_charts, rounds_text
from bot.results.publish import count_or_note, split_long
from bot.results.tables import monospace_table
from bot.texts import LANGUAGES, Html, Texts, texts_for
from handlers.ui import allowed, reply
from storage import councils
from storage.models import Council, MembershipStatus, Role
from storage.participation import Participation, participation, past_rounds
from storage.segments import NO_VALUE, SEVERAL

STATUSES = list(MembershipStatus)


async def participation_command(update: Update, ctx: Ctx) -> None:
    if not await allowed(update, ctx, "participation"):
        return
    if ctx.args and ctx.args[0].lower() in _rounds_words():
        await show_rounds(update, ctx)
        return
    async with ctx.db.read() as session:
        everything = await councils.all_councils(session)
        mine = ctx.profile.councils_with(Role.council, everything)
        found = [(council, await participation(session, council_id=council.id)) for council in mine]
    text = "\n\n".join(council_text(ctx.t, council, counts) for council, counts in found)
    command = COMMANDS["participation"].shown_as(ctx.t.language)
    hint = ctx.t("hearing.rounds_hint", command=f"/{command} {ctx.t('hearing.rounds_word')}")
    for part in split_long(f"{text}\n\n{hint}"):
        await reply(update, part)


async def show_rounds(update: Update, ctx: Ctx) -> None:
    """Per council: the response rate per group over its last closed polls, table and chart."""
    async with ctx.db.read() as session:
        everything = await councils.all_councils(session)
        mine = ctx.profile.councils_with(Role.council, everything)
        found = [(council, await past_rounds(session, council=council)) for council in mine]
    for council, rounds in found:
        for part in split_long(rounds_text(ctx.t, rounds, council=council)):
            await reply(update, part)
        for chart in await rounds_charts(ctx.t, rounds, council=council):
            photo = InputFile(chart.png, filename=f"rounds-{council.slug}.png")
            await update.effective_chat.send_photo(photo, caption=chart.caption)


def _rounds_words() -> set[str]:
    return {texts_for(language)("hearing.rounds_word").lower() for language in LANGUAGES}


def council_text(t: Texts, council: Council, counts: Participation) -> str:
    k = council.privacy_threshold
    lines = [t("participation.title", council=council.name)]
    if counts.total < k:
        lines.append(t("participation.too_few", k=k))
        return "\n".join(lines)
    statuses = hide_small(
        {status: counts.statuses.get(status, 0) for status in STATUSES}, k, total=counts.total
    )
    if not statuses:
        lines.append(t("participation.too_few", k=k))
        return "\n".join(lines)
    shown = {status.value: Html(count_or_note(t, value, k)) for status, value in statuses.items()}
    lines.append(t("participation.overall", total=counts.total, **shown))
    for kind, split in counts.by_kind.items():
        lines += ["", t("participation.by_kind", kind=kind), _kind_table(t, split, statuses, k)]
    if counts.by_kind:
        lines.append(t("breakdown.legend", k=k))
    return "\n".join(lines)


def _kind_table(
    t: Texts,
    split: dict[tuple[str, MembershipStatus], int],
    statuses: dict[MembershipStatus, int | Concealed],
    k: int,
) -> str:
    columns = sorted(
        {value for value, _ in split}, key=lambda value: (value in (NO_VALUE, SEVERAL), value)
    )
    sizes = {value: sum(n for (v, _), n in split.items() if v == value) for value in columns}
    column_totals = hide_small(sizes, k, total=sum(sizes.values()))
    counts = [[split.get((value, status), 0) for value in columns] for status in STATUSES]
    row_totals = [statuses[status] for status in STATUSES]
    shown = (
        protect_table(
            counts, k, row_totals=row_totals, column_totals=[column_totals[c] for c in columns]
        )
        if column_totals
        else None
    )
    if shown is None:
        return t("breakdown.cannot_split", k=k)
    headers = [segment_name(t, value) for value in columns]
    rows = [
        (t(f"participation.{status.value}"), cells)
        for status, cells in zip(STATUSES, shown, strict=True)
    ]
    rows.append((t("participation.total"), [column_totals[c] for c in columns]))
    return monospace_table(headers, rows, k=k)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("participation"), participation_command))
