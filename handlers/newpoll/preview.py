"""The preview (exactly what families will see), then Send, Change, Save as template, Cancel."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.error import BadRequest

from bot.chat import formatting
from bot.chat.buttons import NEWPOLL
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard, markup
from bot.polls import translations
from bot.polls.checking import Problem, check_text
from bot.polls.questions import asking
from bot.texts import Texts, texts_for
from handlers.newpoll.states import (
    AUDIENCE,
    CLOSES,
    EDIT,
    END,
    KIND,
    KIND_NAME,
    NOTE,
    PREVIEW,
    TITLE,
    TRANSLATE,
    VOICE_PART,
    asks,
    council_of,
    drop,
    go,
    save,
    value_of,
    with_draft,
)
from handlers.ui import acknowledge, reply, stale_button
from storage import drafts, polls, templates
from storage.models import (
    Council,
    Option,
    Poll,
    PollStatus,
    Question,
    QuestionKind,
    RoundKind,
    utcnow,
)
from storage.polls import PollView, QuestionView

log = logging.getLogger(__name__)
MAX_NOTE = 200
"""The council's own line under the results for families (`Poll.results_note`)."""
SHARING = ("share", "note", "nonote", "recruit")


@asks(PREVIEW)
async def show(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Every question as families will get it, then a summary with what to do next."""
    return await _show(update, ctx, data, ctx.t)


@with_draft
async def preview_in_language(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """The poll as a family of another language gets it (its buttons in that language too)."""
    language = value_of(ctx, update.callback_query.data)
    council = await council_of(ctx, data)
    if language not in translations.others(data, council.languages.split(",")):
        await stale_button(update, ctx)
        return PREVIEW
    return await _show(update, ctx, data, texts_for(language))


async def _show(update: Update, ctx: Ctx, data: dict[str, Any], t: Texts) -> int:
    council = await council_of(ctx, data)
    data.setdefault("language", council.languages.split(",")[0])
    view = preview_view(data, council)
    chat = update.effective_chat
    if update.callback_query:
        await acknowledge(update.callback_query)
    if t.language == data["language"]:
        await chat.send_message(ctx.t("newpoll.preview_intro"))
    else:  # the preview in another language says which
        language = translations.name(ctx.t, t.language)
        await chat.send_message(ctx.t("newpoll.preview_intro_in", language=language))
    for index, question in enumerate(view.questions):
        screen = asking(t, view, question)
        for file_id in _notes(data, index, view, t.language):
            try:
                await chat.send_voice(file_id)
            except BadRequest as error:  # the member takes no voice notes: the preview goes on
                log.warning("preview voice note not sent (%s)", error.message[:64])
        await chat.send_message(screen.text, reply_markup=markup(screen))
    await chat.send_message(_summary(ctx, data, council), reply_markup=_choices(ctx, data, council))
    return await save(ctx, data, PREVIEW)


@with_draft
async def preview_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    choice = value_of(ctx, update.callback_query.data)
    if choice == "send":
        return await _send(update, ctx, data)
    if choice == "translate":
        data.pop("later", None)
        return await go(TRANSLATE, update, ctx, data)
    if choice == "voice":
        return await go(VOICE_PART, update, ctx, data)
    if choice in SHARING:
        return await _sharing(update, ctx, data, choice)
    if choice == "save":
        async with ctx.db.begin() as session:
            await templates.save_template(
                session,
                council_id=data["council_id"],
                title=data["title"],
                body=translations.body(data),
            )
        await acknowledge(update.callback_query, ctx.t("newpoll.template_saved"), alert=True)
        return PREVIEW
    if choice == "edit":
        buttons = [(ctx.t("newpoll.edit_title"), NEWPOLL.data("e", "title"))]
        buttons += [
            (ctx.t("newpoll.edit_question", number=index + 1), NEWPOLL.data("e", index))
            for index in range(len(data["questions"]))
        ]
        buttons.append((ctx.t("newpoll.edit_settings"), NEWPOLL.data("e", "settings")))
        await acknowledge(update.callback_query)
        await update.callback_query.edit_message_text(
            ctx.t("newpoll.edit_what"), reply_markup=keyboard(buttons)
        )
        return EDIT
    await acknowledge(update.callback_query)
    await drop(ctx)
    await update.callback_query.edit_message_text(ctx.t("common.cancelled"))
    return END


@with_draft
async def edit_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Go back to one part; after it, straight back to the preview."""
    value = value_of(ctx, update.callback_query.data)
    if value == "title":
        data["editing"] = "title"
        return await go(TITLE, update, ctx, data)
    if value.isdigit() and int(value) < len(data["questions"]):
        data["editing"] = int(value)
        return await go(KIND, update, ctx, data)
    return await go(AUDIENCE, update, ctx, data)


async def _send(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Store the poll; when it opens now, queue it for its audience in the same transaction."""
    if datetime.fromisoformat(data["closes_at"]) <= utcnow():
        await acknowledge(update.callback_query)
        await reply(update, ctx.t("newpoll.in_the_past"))
        return await go(CLOSES, update, ctx, data)
    person = ctx.profile.person
    async with ctx.db.begin() as session:
        poll = await polls.create_poll(
            session,
            council_id=data["council_id"],
            body=data,
            created_by=person.id if person else None,
            now=utcnow(),
        )
        sending = None
        if poll.status is PollStatus.open:
            recipients = polls.audience(poll.council_id, poll.audience_tags)
            sending = await polls.start_round(
                session,
                poll=poll,
                kind=RoundKind.questions,
                recipients=recipients,
                period_key="questions",
            )
            sending.progress_chat_id = update.effective_chat.id
        await drafts.drop_drafts(session, address=ctx.profile.address, kind=KIND_NAME)
    council = await council_of(ctx, data)
    await acknowledge(update.callback_query)
    await update.callback_query.edit_message_reply_markup(None)
    if sending is None:
        await reply(
            update,
            ctx.t(
                "newpoll.planned",
                opens=_local(poll.opens_at, council),
                closes=_local(poll.closes_at, council),
            ),
        )
    elif sending.total:
        ctx.services.outbox.kick()
        await reply(
            update,
            ctx.t("newpoll.sent", count=sending.total, closes=_local(poll.closes_at, council)),
        )
    else:
        await reply(update, ctx.t("newpoll.sent_nobody"))
    return END


async def _sharing(update: Update, ctx: Ctx, data: dict[str, Any], choice: str) -> int:
    """The results for families on or off, the council's own line with them, the invitation
    to join at the end: the summary below the preview shows the change at once."""
    if choice == "note":
        await acknowledge(update.callback_query)
        await reply(update, ctx.t("shared.ask_note", limit=MAX_NOTE))
        return await save(ctx, data, NOTE)
    if choice == "share":
        data["share_results"] = not data.get("share_results", True)
    elif choice == "recruit":
        data["recruit"] = not data.get("recruit", False)
    else:
        data.pop("results_note", None)
    council = await council_of(ctx, data)
    await acknowledge(update.callback_query)
    await update.callback_query.edit_message_text(
        _summary(ctx, data, council), reply_markup=_choices(ctx, data, council)
    )
    return await save(ctx, data, PREVIEW)


@with_draft
async def note_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """The council's own line under the results for families (one line, checked)."""
    note = check_text(update.effective_message.text, limit=MAX_NOTE)
    if isinstance(note, Problem):
        await reply(update, ctx.t(note.key, **note.values))
        return NOTE
    data["results_note"] = note
    council = await council_of(ctx, data)
    await reply(update, _summary(ctx, data, council), _choices(ctx, data, council))
    return await save(ctx, data, PREVIEW)


def preview_view(data: dict[str, Any], council: Council) -> PollView:
    """The draft as a PollView, so the preview uses exactly the families' rendering.

    Its questions have id 0, so a tap on a preview button only says it is a preview."""
    languages = translations.complete(data)
    poll = Poll(
        council_id=council.id,
        title=data["title"],
        language=data.get("language", "nl"),
        translations={language: text["title"] for language, text in languages.items()},
        status=PollStatus.open,
        anonymous=data.get("anonymous", True),
        allow_change=data.get("allow_change", True),
        closes_at=datetime.fromisoformat(data["closes_at"]) if data.get("closes_at") else utcnow(),
    )
    questions = [
        QuestionView(
            Question(
                id=0,
                poll_id=0,
                position=position,
                kind=QuestionKind(spec["kind"]),
                text=spec["text"],
                translations={
                    language: text["questions"][str(position - 1)]["text"]
                    for language, text in languages.items()
                },
            ),
            [
                Option(
                    id=index,
                    question_id=0,
                    position=index,
                    label=label,
                    translations={
                        language: text["questions"][str(position - 1)]["options"][index - 1]
                        for language, text in languages.items()
                    },
                )
                for index, label in enumerate(spec.get("options", []), 1)
            ],
        )
        for position, spec in enumerate(data["questions"], 1)
    ]
    return PollView(poll=poll, council=council, questions=questions)


def _notes(data: dict[str, Any], index: int, view: PollView, language: str) -> list[str]:
    """The file ids of the voice notes a family of `language` gets before question `index`."""
    spoken = language if view.speaks(language) else view.poll.language
    parts = [data, data["questions"][index]] if index == 0 else [data["questions"][index]]
    notes = [part.get("voices", {}).get(spoken) for part in parts]
    return [note["file_id"] for note in notes if note]


def _summary(ctx: Ctx, data: dict[str, Any], council: Council) -> str:
    t = ctx.t
    opens = datetime.fromisoformat(data["opens_at"]) if data.get("opens_at") else None
    return t(
        "newpoll.summary",
        title=data["title"],
        count=len(data["questions"]),
        audience=", ".join(data.get("audience_tags", [])) or t("newpoll.everyone"),
        anonymous=t("newpoll.yes" if data.get("anonymous", True) else "newpoll.no"),
        opens=_local(opens, council) if opens else t("newpoll.now"),
        closes=_local(datetime.fromisoformat(data["closes_at"]), council),
        changes=t("newpoll.yes" if data.get("allow_change", True) else "newpoll.no"),
    ) + "".join(f"\n{line}" for line in [*_sharing_lines(t, data), *_languages(t, data, council)])


def _sharing_lines(t: Texts, data: dict[str, Any]) -> list[str]:
    """Whether families get the results (with the council's line) and the invitation."""
    share = data.get("share_results", True)
    lines = [t("shared.summary_share", state=t("shared.on" if share else "shared.off"))]
    if share and data.get("results_note"):
        lines.append(t("shared.summary_note", note=data["results_note"]))
    recruit = data.get("recruit", False)
    lines.append(t("shared.summary_recruit", state=t("shared.on" if recruit else "shared.off")))
    return lines


def _languages(t: Texts, data: dict[str, Any], council: Council) -> list[str]:
    """Which languages the poll has, which are not done yet, how many voice notes."""
    others = translations.others(data, council.languages.split(","))
    if not others:
        return []
    done = translations.complete(data)
    names = [translations.name(t, data.get("language", "nl"))]
    names += [translations.name(t, language) for language in others if language in done]
    lines = [t("translate.languages", languages=", ".join(names))]
    missing = [translations.name(t, language) for language in others if language not in done]
    if missing:
        lines.append(t("translate.missing", languages=", ".join(missing)))
    voices = len(data.get("voices", {})) + sum(len(q.get("voices", {})) for q in data["questions"])
    if voices:
        lines.append(t("translate.voices", count=voices))
    return lines


def _choices(ctx: Ctx, data: dict[str, Any], council: Council) -> Any:
    others = translations.others(data, council.languages.split(","))
    done = translations.complete(data)
    rows = [
        (ctx.t("newpoll.send"), NEWPOLL.data("p", "send")),
        (ctx.t("newpoll.edit"), NEWPOLL.data("p", "edit")),
    ]
    if any(language not in done for language in others):
        rows.append((ctx.t("translate.translate"), NEWPOLL.data("p", "translate")))
    rows += [
        (
            ctx.t.label("translate.preview_in", language=translations.name(ctx.t, language)),
            NEWPOLL.data("pv", language),
        )
        for language in others
    ]
    rows += _sharing_choices(ctx.t, data)
    rows += [
        (ctx.t("translate.voice"), NEWPOLL.data("p", "voice")),
        (ctx.t("newpoll.save_template"), NEWPOLL.data("p", "save")),
        (ctx.t("newpoll.cancel"), NEWPOLL.data("p", "cancel")),
    ]
    return keyboard(rows)


def _sharing_choices(t: Texts, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The buttons that switch the results for families, its line, and the invitation."""
    share = data.get("share_results", True)
    rows = [
        (t.label("shared.share_on" if share else "shared.share_off"), NEWPOLL.data("p", "share"))
    ]
    if share:
        note = "shared.note_change" if data.get("results_note") else "shared.note_add"
        rows.append((t.label(note), NEWPOLL.data("p", "note")))
    if share and data.get("results_note"):
        rows.append((t.label("shared.note_remove"), NEWPOLL.data("p", "nonote")))
    recruit = data.get("recruit", False)
    rows.append(
        (
            t.label("shared.recruit_on" if recruit else "shared.recruit_off"),
            NEWPOLL.data("p", "recruit"),
        )
    )
    return rows


def _local(moment: datetime, council: Council) -> str:
    return formatting.moment(moment, council.timezone)
