"""How a poll question looks to a family: its text and its big buttons, before and after.

The buttons' data is declared in bot/chat/buttons.py (ANSWERING).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol

from bot.chat import formatting
from bot.chat.buttons import ANSWER, CHANGE, DONE, OPEN, PICK, SKIP, TOGGLE
from bot.chat.screens import Choice, Screen, Sound
from bot.texts import Texts
from storage.models import QuestionKind
from storage.polls import PollView, QuestionView

FACES = ("😞", "🙁", "😐", "🙂", "😄")
GRADES = tuple(range(1, 11))
YES_NO = {1: "poll.yes", 2: "poll.no", 3: "poll.dont_know"}
TOP = 3
OPEN_TEXT_LIMIT = 500
HEX = "0123456789abcdef"


class Given(Protocol):
    """One row of an answer (a stored `Answer`, or a `storage.answers.Choice`)."""

    slot: int
    option_id: int | None
    value: int | None
    text: str | None
    skipped: bool


def closes_on(view: PollView) -> str:
    """The closing moment in the council's timezone, as families read it."""
    return formatting.moment(view.poll.closes_at, view.council.timezone)


def header(t: Texts, view: PollView, question: QuestionView) -> str:
    """Question N of M and the question itself, in the reader's language when the poll has it;
    the first also introduces the poll (and says so when it is not in the reader's language)."""
    lines = []
    shown = view.in_language(t.language)
    question = question.in_language(t.language)
    if question.question.position == 1:
        details = "poll.details_anonymous" if view.poll.anonymous else "poll.details_named"
        lines += [
            t("poll.intro", council=view.council.name, title=shown.poll.title),
            t(details, count=len(view.questions), closes=closes_on(view)),
            "",
        ]
        if not view.speaks(t.language):
            lines[-1:-1] = [f"<i>{other_language(t, view)}</i>"]
    number = t("poll.question_header", number=question.question.position, total=len(view.questions))
    lines += [f"<b>{number}</b>", t("poll.question", text=question.question.text)]
    return "\n".join(lines)


def other_language(t: Texts, view: PollView) -> str:
    """One line: the poll is not in the reader's language, so it is in the poll's first."""
    return t("poll.other_language", language=t(f"languages.{view.poll.language}"))


def sounds(t: Texts, view: PollView, question: QuestionView) -> tuple[Sound, ...]:
    """The voice notes to play before a question: the introduction's before the first, then
    the question's, in the language its text is shown in."""
    language = t.language if view.speaks(t.language) else view.poll.language
    notes = view.voices_for(question.id, language)
    if question.question.position == 1:
        notes = view.voices_for(None, language) + notes
    return tuple(Sound(note.id, note.file_id, note.duration) for note in notes)


def asking(
    t: Texts, view: PollView, question: QuestionView, *, mask: int = 0, picks: str = ""
) -> Screen:
    """The question with its answer buttons (and the hint its kind needs), after its voice
    notes when it is sent as a new message."""
    kind = question.question.kind
    text = header(t, view, question)
    question = question.in_language(t.language)
    hint = {
        QuestionKind.multiple: t("poll.multiple_hint"),
        QuestionKind.priorities: t("poll.priorities_hint", chosen=_picked_labels(question, picks)),
        QuestionKind.open_text: t("poll.open_hint", limit=OPEN_TEXT_LIMIT)  # + where to turn
        + (f"\n{t('helplines.pointer')}" if "helplines.pointer" in t.keys() else ""),  # noqa: SIM118
    }.get(kind)
    if hint:
        text += f"\n\n<i>{hint}</i>"
    screen = answer_buttons(t, question, text=text, mask=mask, picks=picks)
    return dataclasses.replace(screen, sounds=sounds(t, view, question)) if view.voices else screen


def answer_buttons(
    t: Texts, question: QuestionView, *, text: str = "", mask: int = 0, picks: str = ""
) -> Screen:
    """`text` with the question's answer buttons (labelled in the reader's language)."""
    question = question.in_language(t.language)
    qid = question.id
    skip = Choice(t("poll.skip"), SKIP.data(qid))
    match question.question.kind:
        case QuestionKind.single:
            buttons = [Choice(o.label, ANSWER.data(qid, o.position)) for o in question.options]
            return Screen(text, tuple(buttons), footer=(skip,))
        case QuestionKind.multiple:
            buttons = [
                Choice(
                    ("☑ " if mask & 1 << o.position else "☐ ") + o.label,
                    TOGGLE.data(qid, mask ^ 1 << o.position),
                )
                for o in question.options
            ]
            done = Choice(t("poll.done"), DONE.data(qid, mask))
            return Screen(text, tuple(buttons), footer=(done, skip))
        case QuestionKind.priorities:
            chosen = set(picks)
            buttons = [
                Choice(o.label, PICK.data(qid, picks + HEX[o.position]))
                for o in question.options
                if HEX[o.position] not in chosen
            ]
            again = (Choice(t("poll.start_over"), PICK.data(qid, "-")),) if picks else ()
            return Screen(text, tuple(buttons), footer=(*again, skip))
        case QuestionKind.faces:
            buttons = [Choice(face, ANSWER.data(qid, value)) for value, face in enumerate(FACES, 1)]
            return Screen(text, tuple(buttons), per_row=5, footer=(skip,))
        case QuestionKind.grade:
            buttons = [Choice(str(grade), ANSWER.data(qid, grade)) for grade in GRADES]
            return Screen(text, tuple(buttons), per_row=5, footer=(skip,))
        case QuestionKind.yes_no:
            buttons = [Choice(t(key), ANSWER.data(qid, value)) for value, key in YES_NO.items()]
            return Screen(text, tuple(buttons), per_row=3, footer=(skip,))
        case _:
            typed = Choice(t("poll.type_answer"), OPEN.data(qid))
            return Screen(text, (typed,), footer=(skip,))


def answered(
    t: Texts, view: PollView, question: QuestionView, rows: Sequence[Given], *, open_: bool = True
) -> Screen:
    """The question with the family's answer, and a Change button while that is allowed."""
    text = f"{header(t, view, question)}\n\n{describe(t, question, rows)}"
    can_change = view.poll.allow_change and open_
    change = OPEN if question.question.kind is QuestionKind.open_text else CHANGE
    choices = (Choice(t("poll.change"), change.data(question.id)),) if can_change else ()
    return Screen(text, choices)


def describe(t: Texts, question: QuestionView, rows: Sequence[Given]) -> str:
    """'✓ Your answer: …' in words a family recognises."""
    if not rows or rows[0].skipped:
        return t("poll.skipped")
    question = question.in_language(t.language)
    kind = question.question.kind
    if kind is QuestionKind.open_text:
        return t("poll.your_answer", answer=f"«{rows[0].text}»")
    if kind is QuestionKind.faces:
        label = f"{FACES[rows[0].value - 1]} ({rows[0].value}/5)"
    elif kind is QuestionKind.grade:
        label = str(rows[0].value)
    elif kind is QuestionKind.yes_no:
        label = t(YES_NO[rows[0].value])
    else:
        labels = {option.id: option.label for option in question.options}
        ordered = sorted(rows, key=lambda row: row.slot)
        label = ", ".join(
            (f"{row.slot}. " if kind is QuestionKind.priorities else "") + labels[row.option_id]
            for row in ordered
        )
    return t("poll.your_answer", answer=label)


def _picked_labels(question: QuestionView, picks: str) -> str:
    chosen = [question.option_at(HEX.index(pick)) for pick in picks]
    return (
        ", ".join(f"{rank}. {option.label}" for rank, option in enumerate(chosen, 1) if option)
        or "-"
    )
