"""/schedule: recurring rounds of a template ("every first Monday of the month at 19:00").

Making one takes a few taps; every button carries the choices so far (callback data of at
most ~30 bytes), so nothing is half-stored and a restart loses nothing.
  sc:t:<template>                              how often?
  sc:e:<template>:<every>                      which day?     (every: w1, w2, m)
  sc:d:<template>:<every>:<weekday>            which one of the month? (monthly only)
  sc:n:<template>:<every>:<weekday>:<nth>      what time?
  sc:h:<...>:<hour>                            how many days open?
  sc:s:<...>:<hour>:<days>                     save
  sc:p|r|x:<schedule>                          pause, resume, remove
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting
from bot.chat.buttons import SCHEDULE
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.scheduling.recurrence import EPOCH, MONTHLY, WEEKLY, upcoming
from bot.texts import Texts
from handlers.ui import acknowledge, allowed, council_ids, replace, reply, stale_button
from storage import schedules, templates
from storage.models import Council, Schedule, Template, utcnow

HOURS = (10, 14, 16, 19, 20)
DAYS_OPEN = (3, 7, 14)
NTHS = (1, 2, 3, 4, -1)


async def show_schedules(update: Update, ctx: Ctx) -> None:
    """/schedule: every recurring round with its next moment, and what can be done with it."""
    if not await allowed(update, ctx, "schedule"):
        return
    async with ctx.db.read() as session:
        planned = await schedules.schedules_of(session, council_ids=await council_ids(ctx, session))
    lines = [ctx.t("schedule.intro") if planned else ctx.t("schedule.none")]
    buttons: list[tuple[str, str]] = []
    for schedule, template, council in planned:
        lines.append(_line(ctx.t, schedule, template, council))
        toggle = ("resume", "r") if schedule.paused else ("pause", "p")
        buttons.append(
            (
                ctx.t.label(f"schedule.{toggle[0]}", title=template.title[:25]),
                SCHEDULE.data(toggle[1], schedule.id),
            )
        )
        buttons.append(
            (
                ctx.t.label("schedule.remove", title=template.title[:25]),
                SCHEDULE.data("x", schedule.id),
            )
        )
    buttons.append((ctx.t("schedule.add"), SCHEDULE.data("new", 0)))
    await reply(update, "\n".join(lines), keyboard(buttons))


async def tapped(update: Update, ctx: Ctx) -> None:
    """Any /schedule button: the next step of making one, or pause / resume / remove."""
    step, *values = SCHEDULE.parse(update.callback_query.data) or ["", ""]
    handler = STEPS.get(step)
    well_formed = values[0].isdigit() and all(v.lstrip("-").isalnum() for v in values)
    if handler is None or not well_formed:
        await stale_button(update, ctx)
        return
    await handler(update, ctx, values)


async def pick_template(update: Update, ctx: Ctx, values: list[str]) -> None:
    async with ctx.db.read() as session:
        mine = await templates.own_templates(session, council_ids=await council_ids(ctx, session))
    if not mine:
        await replace(update, ctx.t("schedule.no_templates"))
        return
    buttons = [(template.title[:40], SCHEDULE.data("t", template.id)) for template in mine]
    await replace(update, ctx.t("schedule.pick_template"), keyboard(buttons))


async def pick_every(update: Update, ctx: Ctx, values: list[str]) -> None:
    choices = (("every_week", "w1"), ("every_two_weeks", "w2"), ("every_month", "m"))
    buttons = [
        (ctx.t(f"schedule.{key}"), SCHEDULE.data("e", *values, code)) for key, code in choices
    ]
    await replace(update, ctx.t("schedule.pick_every"), keyboard(buttons))


async def pick_weekday(update: Update, ctx: Ctx, values: list[str]) -> None:
    step = "d" if values[-1] == "m" else "n"
    extra = () if step == "d" else (0,)
    buttons = [
        (
            ctx.t(f"schedule.weekday_{day}").capitalize(),
            SCHEDULE.data(step, *values, day, *extra),
        )
        for day in range(7)
    ]
    await replace(update, ctx.t("schedule.pick_weekday"), keyboard(buttons, per_row=2))


async def pick_nth(update: Update, ctx: Ctx, values: list[str]) -> None:
    buttons = [
        (
            ctx.t(f"schedule.nth_{'last' if nth == -1 else nth}"),
            SCHEDULE.data("n", *values, nth),
        )
        for nth in NTHS
    ]
    await replace(update, ctx.t("schedule.pick_nth"), keyboard(buttons))


async def pick_hour(update: Update, ctx: Ctx, values: list[str]) -> None:
    buttons = [(f"{hour}:00", SCHEDULE.data("h", *values, hour)) for hour in HOURS]
    await replace(update, ctx.t("schedule.pick_hour"), keyboard(buttons, per_row=5))


async def pick_days(update: Update, ctx: Ctx, values: list[str]) -> None:
    buttons = [
        (ctx.t("schedule.days", days=days), SCHEDULE.data("s", *values, days)) for days in DAYS_OPEN
    ]
    await replace(update, ctx.t("schedule.pick_days"), keyboard(buttons, per_row=3))


async def save(update: Update, ctx: Ctx, values: list[str]) -> None:
    """Store the schedule for the template's own council, after checking every choice."""
    rule = _rule(values)
    template_id = int(values[0])
    async with ctx.db.begin() as session:
        template = await session.get(Template, template_id)
        council = await session.get(Council, template.council_id) if template else None
        fits = (
            rule is not None
            and council is not None
            and council.id in await council_ids(ctx, session)
        )
        if fits:
            rule["parity"] = _parity(rule, council.timezone)
            await schedules.add_schedule(
                session, council_id=council.id, template_id=template.id, rule=rule
            )
    if not fits:
        await stale_button(update, ctx)
        return
    moment = _local(upcoming(rule, timezone=council.timezone, now=utcnow()), council)
    await replace(
        update,
        ctx.t("schedule.saved", title=template.title, rule=describe(ctx.t, rule), next=moment),
    )


async def change(update: Update, ctx: Ctx, values: list[str], action: str) -> None:
    async with ctx.db.begin() as session:
        schedule = await session.get(Schedule, int(values[0])) if values[0].isdigit() else None
        mine = schedule is not None and schedule.council_id in await council_ids(ctx, session)
        if mine and action == "x":
            await schedules.remove_schedule(session, schedule_id=schedule.id)
        elif mine:
            await schedules.set_paused(session, schedule=schedule, paused=action == "p")
    if not mine:
        await stale_button(update, ctx)
        return
    await acknowledge(update.callback_query, ctx.t("schedule.removed") if action == "x" else None)
    await show_schedules(update, ctx)


"""How many values each step's button carries; anything else is forged."""
STEPS = {
    "new": pick_template,
    "t": pick_every,
    "e": pick_weekday,
    "d": pick_nth,
    "n": pick_hour,
    "h": pick_days,
    "s": save,
    "p": lambda update, ctx, values: change(update, ctx, values, "p"),
    "r": lambda update, ctx, values: change(update, ctx, values, "r"),
    "x": lambda update, ctx, values: change(update, ctx, values, "x"),
}


def describe(t: Texts, rule: dict[str, Any]) -> str:
    """A rule in words: "every other Wednesday at 19:00"."""
    weekday = t(f"schedule.weekday_{rule['weekday']}")
    if rule["every"] == MONTHLY:
        nth = t(f"schedule.nth_{'last' if rule['nth'] == -1 else rule['nth']}").lower()
        return t("schedule.rule_month", nth=nth, weekday=weekday, hour=rule["hour"])
    key = "schedule.rule_two_weeks" if rule.get("weeks") == 2 else "schedule.rule_weeks"
    return t(key, weekday=weekday, hour=rule["hour"])


def _rule(values: list[str]) -> dict[str, Any] | None:
    """The rule from the button's values, or None if any value is out of range."""
    if (
        len(values) != 6
        or not all(value.lstrip("-").isdigit() for value in values[2:])
        or values[1] not in ("w1", "w2", "m")
    ):
        return None
    weekday, nth, hour, days = (int(value) for value in values[2:])
    if weekday not in range(7) or hour not in HOURS or days not in DAYS_OPEN:
        return None
    if values[1] == "m":
        if nth not in NTHS:
            return None
        return {"every": MONTHLY, "nth": nth, "weekday": weekday, "hour": hour, "days_open": days}
    return {
        "every": WEEKLY,
        "weeks": int(values[1][1]),
        "weekday": weekday,
        "hour": hour,
        "days_open": days,
    }


def _parity(rule: dict[str, Any], timezone: str) -> int:
    """Every other week starts with the next such weekday."""
    today = utcnow().astimezone(ZoneInfo(timezone)).date()
    first = today + timedelta(days=(rule["weekday"] - today.weekday()) % 7)
    return ((first - EPOCH).days // 7) % rule.get("weeks", 1)


def _line(t: Texts, schedule: Schedule, template: Template, council: Council) -> str:
    upcoming_moment = upcoming(schedule.rule, timezone=council.timezone, now=utcnow())
    return t(
        "schedule.line_paused" if schedule.paused else "schedule.line",
        title=template.title,
        rule=describe(t, schedule.rule),
        days=schedule.rule.get("days_open", 7),
        next=t("schedule.paused") if schedule.paused else _local(upcoming_moment, council),
    )


def _local(moment: Any, council: Council) -> str:
    return formatting.moment(moment, council.timezone)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler(names("schedule"), show_schedules))
    app.add_handler(CallbackQueryHandler(tapped, pattern=SCHEDULE.pattern))
