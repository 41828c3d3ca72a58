"""A person's own account: what we store (/privacy), language, pause, resume, stop, forget."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.chat import formatting, menus
from bot.chat.buttons import FORGET, LANGUAGE
from bot.chat.commands import names
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.polls.questions import describe
from bot.results.publish import split_long
from bot.texts import LANGUAGES, Html, Texts, texts_for
from handlers.ui import replace, reply, stale_button
from storage import answers, people, polls
from storage.forget import forget_person
from storage.models import AgeBand, MembershipStatus, Person
from storage.pseudonyms import pseudonym

MAX_OWN_POLLS = 10
ACTIVE, PAUSED, STOPPED = MembershipStatus.active, MembershipStatus.paused, MembershipStatus.stopped


async def show_privacy(update: Update, ctx: Ctx) -> None:
    """/privacy: exactly what is stored about this user, shown to them."""
    person = ctx.profile.person if ctx.profile else None
    if person is None:
        await reply(update, ctx.t("account.privacy_nobody"))
        return
    t = ctx.t
    async with ctx.db.read() as session:
        tags = {
            m.id: await people.membership_tags(session, membership_id=m.id)
            for m, _ in ctx.profile.memberships
        }
    memberships = "; ".join(
        t(
            "account.membership",
            council=council.name,
            role=t(f"roles.{membership.role.value}"),
            status=t(f"status.{membership.status.value}"),
            tags=Html(_tag_note(t, tags[membership.id])),
        )
        for membership, council in ctx.profile.memberships
    )
    age = "account.age_under16" if person.age_band is AgeBand.under16 else "account.age_16plus"
    stored = t(
        "account.privacy",
        language=t("account.language_name"),
        age=t(age),
        consented=formatting.day(person.consented_at, ctx.settings.timezone),
        memberships=memberships or "-",
    )
    for part in split_long(f"{stored}\n\n{await _own_answers(ctx, person)}"):
        await reply(update, part)


async def _own_answers(ctx: Ctx, person: Person) -> str:
    """The person's own answers to the newest polls, found with their keyed pseudonym."""
    key, telegram_id = ctx.settings.pseudonym_key, person.telegram_id
    council_ids = [council.id for _, council in ctx.profile.memberships]
    lines = [ctx.t("account.own_answers")]
    async with ctx.db.read() as session:
        found = await answers.own_respondents(
            session,
            council_ids=council_ids,
            pseudonym_of=lambda poll_id: pseudonym(key, poll_id=poll_id, telegram_id=telegram_id),
            limit=MAX_OWN_POLLS,
        )
        for poll_id, respondent_id in found:
            view = await polls.load_poll(session, poll_id=poll_id)
            given = await answers.answers_of(session, respondent_id=respondent_id)
            lines.append(ctx.t("account.own_poll", title=view.poll.title))
            lines += [
                ctx.t(
                    "account.own_answer",
                    question=question.question.text,
                    answer=Html(describe(ctx.t, question, given[question.id])),
                )
                for question in view.questions
                if question.id in given
            ]
    if not found:
        lines.append(ctx.t("account.own_none"))
    return "\n".join(lines)


def _tag_note(t: Texts, tags: list[str]) -> str:
    return t("account.membership_tags", tags=", ".join(tags)) if tags else ""


async def choose_language(update: Update, ctx: Ctx) -> None:
    """/language: two big buttons."""
    if not await _is_member(update, ctx):
        return
    buttons = [
        (texts_for(lang)("account.language_name"), LANGUAGE.data(lang)) for lang in LANGUAGES
    ]
    await reply(update, ctx.t("account.choose_language"), keyboard(buttons, per_row=2))


async def language_tapped(update: Update, ctx: Ctx) -> None:
    """Store the chosen language and answer in it, menu included."""
    parts = LANGUAGE.parse(update.callback_query.data)
    person = ctx.profile.person if ctx.profile else None
    if parts is None or parts[0] not in LANGUAGES or person is None:
        await stale_button(update, ctx)
        return
    async with ctx.db.begin() as session:
        await people.set_language(session, person=person, language=parts[0])
    await replace(update, texts_for(parts[0])("account.language_set"))
    await menus.publish_personal_menu(
        ctx.bot, chat_id=update.effective_chat.id, role=ctx.profile.role, language=parts[0]
    )


async def pause(update: Update, ctx: Ctx) -> None:
    """/pause: no questions until /resume."""
    await _move(
        update, ctx, to=PAUSED, only_from=[ACTIVE], done="paused", unchanged="already_paused"
    )


async def resume(update: Update, ctx: Ctx) -> None:
    """/resume: questions again, also after /stop."""
    await _move(
        update,
        ctx,
        to=ACTIVE,
        only_from=[PAUSED, STOPPED],
        done="resumed",
        unchanged="already_active",
    )


async def stop(update: Update, ctx: Ctx) -> None:
    """/stop: no more messages at all."""
    await _move(
        update, ctx, to=STOPPED, only_from=[ACTIVE, PAUSED], done="stopped", unchanged="stopped"
    )


async def forget(update: Update, ctx: Ctx) -> None:
    """/forget: ask for confirmation first."""
    if not await _is_member(update, ctx):
        return
    buttons = [
        (ctx.t("account.forget_yes"), FORGET.data("yes")),
        (ctx.t("account.forget_no"), FORGET.data("no")),
    ]
    await reply(update, ctx.t("account.forget_confirm"), keyboard(buttons))


async def forget_tapped(update: Update, ctx: Ctx) -> None:
    """Erase the person (yes) or keep everything (no)."""
    parts = FORGET.parse(update.callback_query.data)
    person = ctx.profile.person if ctx.profile else None
    if parts is None or parts[0] not in ("yes", "no") or person is None:
        await stale_button(update, ctx)
        return
    if parts[0] == "no":
        await replace(update, ctx.t("account.forget_kept"))
        return
    async with ctx.db.begin() as session:
        await forget_person(session, person=person, pseudonym_key=ctx.settings.pseudonym_key)
    await replace(update, ctx.t("account.forgotten"))
    await menus.publish_personal_menu(
        ctx.bot, chat_id=update.effective_chat.id, role=None, language=ctx.t.language
    )


async def _move(
    update: Update,
    ctx: Ctx,
    *,
    to: MembershipStatus,
    only_from: list[MembershipStatus],
    done: str,
    unchanged: str,
) -> None:
    if not await _is_member(update, ctx):
        return
    async with ctx.db.begin() as session:
        moved = await people.set_status(
            session, person_id=ctx.profile.person.id, new=to, only_from=only_from
        )
    await reply(update, ctx.t(f"account.{done if moved else unchanged}"))


async def _is_member(update: Update, ctx: Ctx) -> bool:
    if ctx.profile and ctx.profile.person:
        return True
    await reply(update, ctx.t("account.not_member"))
    return False


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for command, callback in (
        ("privacy", show_privacy),
        ("language", choose_language),
        ("pause", pause),
        ("resume", resume),
        ("stop", stop),
        ("forget", forget),
    ):
        app.add_handler(CommandHandler(names(command), callback))
    app.add_handler(CallbackQueryHandler(language_tapped, pattern=LANGUAGE.pattern))
    app.add_handler(CallbackQueryHandler(forget_tapped, pattern=FORGET.pattern))
