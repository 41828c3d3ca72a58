"""The poll in the council's other languages, text by text, and voice notes per part and
language (recorded in Telegram while writing the poll)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.chat.buttons import NEWPOLL
from bot.chat.context import Ctx
from bot.chat.keyboards import keyboard
from bot.polls import translations
from bot.polls.checking import MAX_QUESTION, MAX_TITLE, Problem, check_options, check_text
from bot.polls.translations import Piece
from handlers.newpoll.states import (
    AUDIENCE,
    PREVIEW,
    TRANSLATE,
    VOICE,
    VOICE_LANGUAGE,
    VOICE_PART,
    asks,
    council_of,
    go,
    save,
    value_of,
    with_draft,
)
from handlers.ui import acknowledge, replace, reply, stale_button
from storage.models import QuestionKind


async def languages_of(ctx: Ctx, data: dict[str, Any]) -> tuple[str, list[str]]:
    """The poll's first language and the others it may be written in."""
    council = await council_of(ctx, data)
    council_languages = council.languages.split(",")
    first = data.setdefault("language", council_languages[0])
    return first, translations.others(data, council_languages)


@asks(TRANSLATE)
async def ask_translation(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """The next text missing in the next language not put off; when none, go on."""
    first, others = await languages_of(ctx, data)
    later = data.get("later", [])
    for language in others:
        piece = translations.missing(data, language)
        if language in later or piece is None:
            continue
        data["translating"] = language
        await replace(update, _question(ctx, data, first, language, piece), _buttons(ctx))
        return await save(ctx, data, TRANSLATE)
    data.pop("translating", None)
    return await go(PREVIEW if data.get("ready") else AUDIENCE, update, ctx, data)


@with_draft
async def translation_typed(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    language = data.get("translating", "")
    piece = translations.missing(data, language)
    if piece is None:
        return await ask_translation(update, ctx, data)
    first = data.get("language", "nl")
    value = _checked(ctx, data, piece, update.effective_message.text)
    if isinstance(value, Problem):
        await reply(update, ctx.t(value.key, **value.values))
        return TRANSLATE
    if isinstance(value, list) and len(value) != len(piece.original(data)):
        count = len(piece.original(data))
        await reply(
            update, ctx.t("translate.count", count=count, first=translations.name(ctx.t, first))
        )
        return TRANSLATE
    return await _given(update, ctx, data, language, piece, value)


@with_draft
async def translation_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """Same text (a name, a place: it reads the same) or Later (this language, for now)."""
    choice = value_of(ctx, update.callback_query.data)
    language = data.get("translating", "")
    piece = translations.missing(data, language)
    if piece is None or choice not in ("same", "later"):
        await stale_button(update, ctx)
        return TRANSLATE
    if choice == "same":
        return await _given(update, ctx, data, language, piece, piece.original(data))
    data.setdefault("later", []).append(language)
    await acknowledge(update.callback_query)
    await update.callback_query.edit_message_reply_markup(None)
    first = translations.name(ctx.t, data.get("language", "nl"))
    await reply(
        update,
        ctx.t("translate.skipped", language=translations.name(ctx.t, language), first=first),
    )
    return await ask_translation(_typed(update), ctx, data)


async def _given(
    update: Update,
    ctx: Ctx,
    data: dict[str, Any],
    language: str,
    piece: Piece,
    value: str | list[str],
) -> int:
    piece.write(data.setdefault("languages", {}).setdefault(language, {}), value)
    if translations.missing(data, language) is None:
        await reply(update, ctx.t("translate.done", language=translations.name(ctx.t, language)))
        update = _typed(update)
    return await ask_translation(update, ctx, data)


def _typed(update: Update) -> Update:
    """The same update, answered with new messages from now on (the tapped one stays)."""
    if update.callback_query is None:
        return update
    return Update(update.update_id, message=update.callback_query.message)


def _question(ctx: Ctx, data: dict[str, Any], first: str, language: str, piece: Piece) -> str:
    t = ctx.t
    names = {"language": translations.name(t, language), "first": translations.name(t, first)}
    original = piece.original(data)
    if piece.part == "title":
        return t("translate.ask_title", text=original, **names)
    if piece.part == "text":
        return t("translate.ask_text", number=piece.index + 1, text=original, **names)
    options = "\n".join(f"• {option}" for option in original)
    return t(
        "translate.ask_options",
        number=piece.index + 1,
        count=len(original),
        options=options,
        **names,
    )


def _buttons(ctx: Ctx) -> Any:
    return keyboard(
        [
            (ctx.t("translate.same"), NEWPOLL.data("tr", "same")),
            (ctx.t("translate.later"), NEWPOLL.data("tr", "later")),
        ]
    )


def _checked(
    ctx: Ctx, data: dict[str, Any], piece: Piece, text: str | None
) -> str | list[str] | Problem:
    if piece.part == "options":
        kind = QuestionKind(data["questions"][piece.index]["kind"])
        return check_options(text, kind)
    return check_text(text, limit=MAX_TITLE if piece.part == "title" else MAX_QUESTION)


# Voice notes.


@asks(VOICE_PART)
async def ask_part(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    buttons = [(ctx.t("voice_note.intro"), NEWPOLL.data("vw", "intro"))]
    buttons += [
        (ctx.t("voice_note.question", number=index + 1), NEWPOLL.data("vw", index))
        for index in range(len(data["questions"]))
    ]
    back = [(ctx.t("voice_note.back"), NEWPOLL.data("vw", "back"))]
    await replace(update, ctx.t("voice_note.which"), keyboard(buttons, footer=back))
    return await save(ctx, data, VOICE_PART)


@with_draft
async def part_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    value = value_of(ctx, update.callback_query.data)
    if value == "back":
        return await go(PREVIEW, update, ctx, data)
    if value != "intro" and not (value.isdigit() and int(value) < len(data["questions"])):
        await stale_button(update, ctx)
        return VOICE_PART
    first, _ = await languages_of(ctx, data)
    spoken = [first, *translations.complete(data)]
    data["voice_for"] = {"part": value, "language": first}
    if len(spoken) == 1:
        return await _ask_recording(update, ctx, data)
    buttons = [
        (translations.name(ctx.t, language), NEWPOLL.data("vl", language)) for language in spoken
    ]
    back = [(ctx.t("voice_note.back"), NEWPOLL.data("vw", "back"))]
    await replace(update, ctx.t("voice_note.which_language"), keyboard(buttons, footer=back))
    return await save(ctx, data, VOICE_LANGUAGE)


@with_draft
async def language_chosen(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    language = value_of(ctx, update.callback_query.data)
    first, _ = await languages_of(ctx, data)
    if "voice_for" not in data or language not in (first, *translations.complete(data)):
        await stale_button(update, ctx)
        return VOICE_LANGUAGE
    data["voice_for"]["language"] = language
    return await _ask_recording(update, ctx, data)


async def _ask_recording(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    language = translations.name(ctx.t, data["voice_for"]["language"])
    back = [(ctx.t("voice_note.back"), NEWPOLL.data("vw", "back"))]
    await replace(update, ctx.t("voice_note.record", language=language), keyboard(back))
    return await save(ctx, data, VOICE)


@with_draft
async def voice_received(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    """The recording: kept by its Telegram file id (the note itself stays with Telegram).
    Only a voice message: an audio file or a video note is asked for again, as Telegram
    refuses to send its id as a voice note (type of file mismatch) and WhatsApp plays only
    OGG/OPUS as one."""
    message = update.effective_message
    note = message.voice
    if note is None:
        return await not_a_voice(update, ctx)
    target = data.pop("voice_for", None)
    if target is None:
        return VOICE
    entry = {"file_id": note.file_id, "duration": note.duration or 0}
    part, language = target["part"], target["language"]
    holder = data if part == "intro" else data["questions"][int(part)]
    holder.setdefault("voices", {})[language] = entry
    await reply(update, ctx.t("voice_note.saved", language=translations.name(ctx.t, language)))
    return await go(PREVIEW, update, ctx, data)


async def not_a_voice(update: Update, ctx: Ctx) -> int:
    await reply(update, ctx.t("voice_note.not_voice"))
    return VOICE


@with_draft
async def back_from_voice(update: Update, ctx: Ctx, data: dict[str, Any]) -> int:
    data.pop("voice_for", None)
    return await go(PREVIEW, update, ctx, data)
