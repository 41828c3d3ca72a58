"""Joining with an invite: language, consent, age band (and a guardian under 16), subscribed.

Nothing about the person is stored before they agree: each step's button carries the
language and the invite code itself (which the user already has in their /start message),
and every step checks the code again, so a forged button cannot join anything.
"""

from __future__ import annotations

import math
import time
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import menus
from bot.chat.buttons import SIGNUP
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.chat.throttle import Throttle
from bot.texts import LANGUAGES, Texts, texts_for
from handlers.ui import replace, reply, stale_button
from storage import councils, invites, people
from storage.invites import CodeProblem
from storage.models import AgeBand, Invite, Role, utcnow

GUESSES = "signup_guesses"


async def start(update: Update, ctx: Ctx) -> None:
    """/start: with a code, begin joining; without, welcome back or explain how to join."""
    code = ctx.args[0] if ctx.args else None
    if code:
        await start_with_code(update, ctx, code)
    elif ctx.profile and ctx.profile.memberships:
        names_ = ", ".join(council.name for _, council in ctx.profile.memberships)
        await reply(update, ctx.t("start.welcome_back", councils=names_))
    else:
        await reply(update, ctx.t("start.how_to_join"))
    if not code and ctx.profile and ctx.profile.is_admin:
        await reply(update, ctx.t("start.admin_hint"))


async def start_with_code(update: Update, ctx: Ctx, code: str) -> None:
    """Check the code (slowly after repeated misses); new people choose a language first."""
    invite = await _checked_invite(update, ctx, code, ctx.t)
    if invite is None:
        return
    if ctx.profile and ctx.profile.person:
        await ask_consent(update, ctx, ctx.t, code, invite)
        return
    buttons = [
        (texts_for(lang)("account.language_name"), SIGNUP.data("l", lang, code))
        for lang in LANGUAGES
    ]
    await reply(update, ctx.t("signup.choose_language"), keyboard(buttons, per_row=2))


async def step_tapped(update: Update, ctx: Ctx) -> None:
    """One tap in the sign-up: move to the next question, or finish."""
    parts = SIGNUP.parse(update.callback_query.data)
    if parts is None or parts[1] not in LANGUAGES or parts[0] not in NEXT_STEP:
        await stale_button(update, ctx)
        return
    step, language, code = parts
    t = texts_for(language)
    person = ctx.profile.person if ctx.profile else None
    if person is not None and step not in KNOWN_PERSON_STEPS:
        await replace(update, t("start.welcome_back", councils=_council_names(ctx)))
        return
    invite = await _checked_invite(update, ctx, code, t)
    if invite is None:
        return
    if person is not None and step in ("y", "g"):
        needs_guardian = step == "y" and person.age_band is AgeBand.under16
        await (ask_guardian if needs_guardian else _join_existing)(update, ctx, t, code, invite)
        return
    await NEXT_STEP[step](update, ctx, t, code, invite)


async def ask_consent(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    async with ctx.db.read() as session:
        council = await councils.get_council(session, council_id=invite.council_id)
    buttons = [(t("signup.agree"), _data("y", t, code)), (t("signup.refuse"), _data("n", t, code))]
    await replace(update, t("signup.consent", council=council.name), keyboard(buttons))


async def consent_refused(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    await replace(update, t("signup.refused"))


async def ask_age(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    buttons = [
        (t("signup.age_under16"), _data("u", t, code)),
        (t("signup.age_16plus"), _data("a", t, code)),
    ]
    await replace(update, t("signup.age"), keyboard(buttons))


async def ask_guardian(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    buttons = [
        (t("signup.guardian_yes"), _data("g", t, code)),
        (t("signup.guardian_no"), _data("x", t, code)),
    ]
    await replace(update, t("signup.guardian"), keyboard(buttons))


async def guardian_missing(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    await replace(update, t("signup.guardian_missing"))


async def join_under16(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    await _finish(update, ctx, t, invite, AgeBand.under16)


async def join_16plus(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    await _finish(update, ctx, t, invite, AgeBand.adult)


KNOWN_PERSON_STEPS = {"n", "y", "g", "x"}
"""Someone who already agreed once still agrees per council (and a guardian again under 16)."""
NEXT_STEP = {
    "l": ask_consent,
    "n": consent_refused,
    "y": ask_age,
    "u": ask_guardian,
    "x": guardian_missing,
    "g": join_under16,
    "a": join_16plus,
}


async def _finish(update: Update, ctx: Ctx, t: Texts, invite: Invite, age: AgeBand) -> None:
    """Store the person (the first write about them) and subscribe them with the invite's tags."""
    async with ctx.db.begin() as session:
        joined = await invites.redeem(session, invite_id=invite.id)
        if joined:
            person = await people.create_person(
                session, telegram_id=update.effective_user.id, language=t.language, age_band=age
            )
            await people.join_council(
                session,
                person=person,
                council_id=invite.council_id,
                role=invite.role,
                tags=invite.tags,
            )
        council = await councils.get_council(session, council_id=invite.council_id)
    if not joined:
        await replace(update, t("signup.code_used"))
        return
    await replace(update, t("signup.done", council=council.name))
    await menus.publish_personal_menu(
        ctx.bot, chat_id=update.effective_chat.id, role=invite.role, language=t.language
    )


async def _join_existing(update: Update, ctx: Ctx, t: Texts, code: str, invite: Invite) -> None:
    """Someone who already agreed (and now agreed for this council) joins it, or gets a new role."""
    profile = ctx.profile
    async with ctx.db.begin() as session:
        council = await councils.get_council(session, council_id=invite.council_id)
        current = next((m for m, c in profile.memberships if c.id == invite.council_id), None)
        membership, before = current, current.role if current else None
        promoted = current is None or people.RANK[invite.role] > people.RANK[current.role]
        if promoted and await invites.redeem(session, invite_id=invite.id):
            membership, before = await people.join_council(
                session,
                person=profile.person,
                council_id=invite.council_id,
                role=invite.role,
                tags=invite.tags,
            )
    if membership is None:
        text = t("signup.code_used")
    elif before is None:
        text = t("signup.joined_another", council=council.name)
    elif membership.role is not before:
        role_name = t(f"roles.{membership.role.value}")
        text = t("signup.role_changed", council=council.name, role=role_name)
    else:
        text = t("signup.already_member", council=council.name)
    await replace(update, text)
    if membership is not None:
        highest = max(membership.role, profile.role or Role.family, key=people.RANK.__getitem__)
        await menus.publish_personal_menu(
            ctx.bot, chat_id=update.effective_chat.id, role=highest, language=t.language
        )


async def _checked_invite(update: Update, ctx: Ctx, code: str, t: Texts) -> Invite | None:
    """The invite, or None after telling the user what is wrong (and slowing down guessers)."""
    guesses: Throttle = ctx.application.bot_data[GUESSES]
    user_id, now = update.effective_user.id, time.monotonic()
    wait = guesses.wait_seconds(user_id, now=now)
    if wait > 0:
        await replace(update, t("signup.slowed_down", minutes=max(1, math.ceil(wait / 60))))
        return None
    async with ctx.db.read() as session:
        found = await invites.check_code(session, code=code, now=utcnow())
    if isinstance(found, CodeProblem):
        guesses.note(user_id, now=now)
        await replace(update, t(f"signup.code_{found.value}"))
        return None
    return found


def _data(step: str, t: Texts, code: str) -> str:
    return SIGNUP.data(step, t.language, code)


def _council_names(ctx: Ctx) -> str:
    return ", ".join(council.name for _, council in ctx.profile.memberships) if ctx.profile else ""


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.bot_data[GUESSES] = Throttle(limit=5, window=15 * 60)
    app.add_handler(CommandHandler(names("start"), start))
    app.add_handler(CallbackQueryHandler(step_tapped, pattern=SIGNUP.pattern))
