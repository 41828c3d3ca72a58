"""/newpoll: a guided conversation to write a poll.

Its step and what was typed live in the member's database draft (`flow.Flow`, `states.save`),
so a restart in the middle loses nothing and any process continues it. The draft lives an hour
after the last step (`states.TIMEOUT_SECONDS`): a step after that says so, and nothing is sent.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.chat.commands import names
from handlers.newpoll import preview, settings, start, translating, writing
from handlers.newpoll.flow import Flow, steps_of
from handlers.newpoll.states import (
    ANONYMITY,
    AUDIENCE,
    CHANGES,
    CLOSES,
    CLOSES_AT,
    COUNCIL,
    EDIT,
    KIND,
    KIND_NAME,
    NOTE,
    OPENS,
    OPENS_AT,
    OPTIONS,
    PREVIEW,
    TAGS,
    TEMPLATE,
    TEXT,
    TITLE,
    TRANSLATE,
    VOICE,
    VOICE_LANGUAGE,
    VOICE_PART,
    button,
    typed,
)


def conversation(steps: dict[int, dict[str, str]]) -> Flow:
    """The whole flow at a glance: state → what the council member may do there."""
    return Flow(
        kind=KIND_NAME,
        steps=steps,
        entry_points=[CommandHandler(names("newpoll"), start.new_poll)],
        states={
            COUNCIL: [button("c", start.council_chosen)],
            TEMPLATE: [button("t", start.template_chosen)],
            TITLE: [typed(writing.title_typed)],
            KIND: [button("k", writing.kind_chosen)],
            TEXT: [typed(writing.question_typed)],
            OPTIONS: [typed(writing.options_typed)],
            AUDIENCE: [button("a", settings.audience_chosen)],
            TAGS: [typed(settings.tags_typed)],
            ANONYMITY: [button("an", settings.anonymity_chosen)],
            OPENS: [button("o", settings.opening_chosen)],
            OPENS_AT: [typed(settings.opening_typed)],
            CLOSES: [button("cl", settings.closing_chosen)],
            CLOSES_AT: [typed(settings.closing_typed)],
            CHANGES: [button("ch", settings.changes_chosen)],
            TRANSLATE: [
                typed(translating.translation_typed),
                button("tr", translating.translation_chosen),
            ],
            PREVIEW: [
                button("p", preview.preview_chosen),
                button("pv", preview.preview_in_language),
            ],
            EDIT: [button("e", preview.edit_chosen)],
            NOTE: [typed(preview.note_typed), button("p", preview.preview_chosen)],
            VOICE_PART: [button("vw", translating.part_chosen)],
            VOICE_LANGUAGE: [
                button("vl", translating.language_chosen),
                button("vw", translating.back_from_voice),
            ],
            VOICE: [
                MessageHandler(
                    filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, translating.voice_received
                ),
                button("vw", translating.back_from_voice),
                typed(translating.not_a_voice),
            ],
        },
        fallbacks=[
            CommandHandler(names("cancel"), start.cancelled),
            button("x", start.cancelled),
            typed(start.use_buttons),
        ],
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(conversation(steps_of(app)))
