"""A family answers a poll: a button's data (or a typed open answer) in, what to show out.

Every input is checked: the question must belong to a poll this person was sent, the poll must
be open, and a change only counts while changing is allowed. A second tap, a replayed or a
forged button never counts twice: the answer table has a unique key per person and question.

A tap that stores is one unit of work (`storage.answers.store_answer`): the poll's questions
come from a per-process cache (`bot.polls.sent`), the next question is worked out in memory,
and only open questions touch a draft. Nothing here knows which channel the person is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.buttons import (
    ANSWER,
    ANSWERING,
    CHANGE,
    DONE,
    OPEN,
    PICK,
    SKIP,
    TOGGLE,
    parse,
    plain_number,
)
from bot.chat.screens import Reply, Screen
from bot.family import helplines
from bot.family.core import Core, Family
from bot.polls.asking import OPEN_ANSWER, expect_open_answer, first_unanswered, forget_open_answer
from bot.polls.invitation import ending
from bot.polls.questions import (
    FACES,
    GRADES,
    HEX,
    OPEN_TEXT_LIMIT,
    TOP,
    YES_NO,
    answered,
    asking,
)
from storage import answers, drafts, inbox
from storage.answers import Choice, Tapped
from storage.helplines import count_help_reply
from storage.models import PollStatus, QuestionKind
from storage.polls import PollView, QuestionView

KINDS_OF = {
    ANSWER: {QuestionKind.single, QuestionKind.faces, QuestionKind.grade, QuestionKind.yes_no},
    TOGGLE: {QuestionKind.multiple},
    DONE: {QuestionKind.multiple},
    PICK: {QuestionKind.priorities},
    OPEN: {QuestionKind.open_text},
}
"""Which question kinds each button belongs to; skip and change fit every kind."""


@dataclass(frozen=True)
class Asked:
    """The poll and question an input is about (not yet checked against the database)."""

    view: PollView
    question: QuestionView


async def tap(core: Core, family: Family, data: str | None) -> Reply:
    """Any answer button."""
    parsed = parse(data)
    if parsed is None or parsed[0] not in ANSWERING:
        return _stale(family)
    button, parts = parsed
    if parts[0] == "0":  # a button in the preview of a poll being written
        return Reply(toast=family.t("newpoll.preview_button"))
    asked = await _asked(core, parts[0])
    if asked is None or asked.question.question.kind not in KINDS_OF.get(button, set(QuestionKind)):
        return _stale(family)
    value = parts[1] if len(parts) > 1 else ""
    question = asked.question
    if button is ANSWER:
        choice = _single_choice(question, value)
        return await _store(core, family, asked, [choice]) if choice else _stale(family)
    if button in (TOGGLE, DONE):
        mask = _mask(question, value)
        if mask is None:
            return _stale(family)
        if button is TOGGLE:  # only the buttons change: a reminder's first line stays
            shown = asking(family.t, asked.view, question, mask=mask)
            refused = await _refused_now(core, family, asked)
            return refused or Reply(shown=shown, buttons_only=True)
        if not mask:
            return Reply(toast=family.t("poll.choose_one"))
        chosen = [o for o in question.options if mask & 1 << o.position]
        return await _store(
            core, family, asked, [Choice(slot=o.position, option_id=o.id) for o in chosen]
        )
    if button is PICK:
        return await _picked(core, family, asked, "" if value == "-" else value)
    if button is SKIP:
        return await _store(core, family, asked, [Choice(skipped=True)])
    if button is CHANGE:
        refused = await _refused_now(core, family, asked)
        if refused is None and not asked.view.poll.allow_change:
            return Reply(toast=family.t("poll.already_saved"))
        return refused or Reply(shown=asking(family.t, asked.view, question))
    return await _open_requested(core, family, asked)


async def typed(
    core: Core,
    family: Family,
    question_id: object,
    text: str,
    *,
    desk: helplines.Desk = helplines.DEFAULT_DESK,
) -> Reply:
    """The typed answer to an open question (the family's draft says which one). One with an
    alarm word of the council (`desk`) is stored as any other, and the family alone gets the
    help lines at once, with the offer to be contacted."""
    text = text.strip()
    if len(text) > OPEN_TEXT_LIMIT:
        return Reply(then=[Screen(family.t("common.too_long", limit=OPEN_TEXT_LIMIT))])
    asked = await _asked(core, str(question_id))
    council = asked.view.council if asked else None
    worried = helplines.alarming(desk, council, text)
    help_ = helplines.worried(family.t, desk, council) if worried else []
    if asked is None:  # the poll is gone: so is the question the draft waited for
        async with core.db.begin() as session:
            await drafts.drop_drafts(session, address=family.address, kind=OPEN_ANSWER[0])
        return Reply(then=help_)
    said = Choice(text=text, language=family.t.language)
    reply = await _store(core, family, asked, [said], typed=True, help_reply=worried)
    reply.then[1:1] = help_  # after "saved", before the next question
    return reply


async def _picked(core: Core, family: Family, asked: Asked, picks: str) -> Reply:
    """Priorities: each tap adds the next place; the third (or last possible) one stores."""
    question = asked.question
    positions = [HEX.find(pick) for pick in picks]
    enough = min(TOP, len(question.options))
    unknown = any(question.option_at(p) is None for p in positions)
    if len(set(picks)) != len(picks) or len(picks) > enough or unknown:
        return _stale(family)
    if len(picks) < enough:
        return await _redraw(
            core, family, asked, asking(family.t, asked.view, question, picks=picks)
        )
    choices = [
        Choice(slot=rank, option_id=question.option_at(position).id)
        for rank, position in enumerate(positions, 1)
    ]
    return await _store(core, family, asked, choices)


async def _redraw(core: Core, family: Family, asked: Asked, screen: Screen) -> Reply:
    """Show the question anew (picks so far): nothing is stored."""
    return await _refused_now(core, family, asked) or Reply(shown=screen)


async def _refused_now(core: Core, family: Family, asked: Asked) -> Reply | None:
    """Why a tap that stores nothing does not count (see `_refused`), read now."""
    async with core.db.read() as session:
        status, was_asked = await answers.poll_state(
            session, poll_id=asked.view.poll.id, person_id=family.person.id
        )
        took_part = await _took_part(session, family, asked.view.poll.id, status, was_asked)
    return _refused(family, status, was_asked, took_part=took_part)


async def _open_requested(core: Core, family: Family, asked: Asked) -> Reply:
    """An open question: the next message the family types is the (new) answer."""
    poll = asked.view.poll
    async with core.db.begin() as session:
        status, was_asked = await answers.poll_state(
            session, poll_id=poll.id, person_id=family.person.id
        )
        took_part = await _took_part(session, family, poll.id, status, was_asked)
        refused = _refused(family, status, was_asked, took_part=took_part)
        if refused is None:
            given = await answers.respondent_answers(
                session, poll_id=poll.id, pseudonym=family.pseudonym(poll.id)
            )
            locked = asked.question.id in given and not poll.allow_change
            if not locked:
                await expect_open_answer(
                    session,
                    view=asked.view,
                    address=family.address,
                    question_id=asked.question.id,
                )
    if refused is not None:
        return refused
    if locked:
        return Reply(toast=family.t("poll.already_saved"))
    return Reply(then=[Screen(family.t("poll.open_change"))])


async def _store(
    core: Core,
    family: Family,
    asked: Asked,
    choices: list[Choice],
    *,
    typed: bool = False,
    help_reply: bool = False,
) -> Reply:
    """Store the answer in one unit of work; then show it and, if it was new, ask the next."""
    view, question = asked.view, asked.question
    poll, t = view.poll, family.t
    async with core.db.begin() as session:
        done: Tapped = await answers.store_answer(
            session,
            poll_id=poll.id,
            council_id=poll.council_id,
            anonymous=poll.anonymous,
            allow_change=poll.allow_change,
            person_id=family.person.id,
            pseudonym=family.pseudonym(poll.id),
            question_id=question.id,
            choices=choices,
        )
        if help_reply and done.taken and not done.kept:  # a count of the poll, of nobody
            await count_help_reply(session, poll_id=poll.id)
        upcoming = first_unanswered(view, done.given) if done.first else None
        if done.taken and not done.kept and question.question.kind is QuestionKind.open_text:
            await forget_open_answer(session, address=family.address, question_id=question.id)
        if typed and not done.taken:  # closed, or never sent: stop taking typed text for it
            await drafts.drop_drafts(session, address=family.address, kind=OPEN_ANSWER[0])
        if upcoming is not None and upcoming.question.kind is QuestionKind.open_text:
            await expect_open_answer(
                session, view=view, address=family.address, question_id=upcoming.id
            )
        took_part = await _took_part(session, family, poll.id, done.status, done.asked)
        await inbox.handled(session)  # stored once, even if this process dies right now
    refused = _refused(family, done.status, done.asked, took_part=took_part)
    if refused is not None and typed:  # a message has no toast: say only that it closed
        closed = done.status is not None and done.asked
        return Reply(then=[Screen(family.t(_closed_key(took_part)))] if closed else [])
    if refused is not None:
        return refused
    shown = answered(t, view, question, done.given[question.id])
    toast = t("poll.already_saved" if done.kept else "poll.saved")
    then = []
    if done.first:
        then.append(asking(t, view, upcoming) if upcoming else ending(t, view))
    if typed:
        opening = Screen(f"{t('poll.open_saved')}\n\n{shown.text}", shown.choices)
        return Reply(then=[opening, *then])
    return Reply(toast=toast, shown=shown, then=then)


def _refused(
    family: Family, status: PollStatus | None, was_asked: bool, *, took_part: bool = False
) -> Reply | None:
    """Why an input about this poll does not count: not sent to this person, or closed (with
    thanks only for a family that answered it: `took_part`)."""
    if status is None or not was_asked:
        return _stale(family)
    if status is not PollStatus.open:
        return Reply(toast=family.t(_closed_key(took_part)))
    return None


def _closed_key(took_part: bool) -> str:
    return "poll.closed_thanks" if took_part else "poll.closed"


async def _took_part(
    session: AsyncSession, family: Family, poll_id: int, status: PollStatus | None, asked: bool
) -> bool:
    """Whether this family answered a closed poll it was sent (read only for a closed poll,
    so an open poll's tap costs no statement more)."""
    if status is None or status is PollStatus.open or not asked:
        return False
    return await answers.has_answered(session, poll_id=poll_id, pseudonym=family.pseudonym(poll_id))


async def _asked(core: Core, value: str) -> Asked | None:
    question_id = plain_number(value)
    view = await core.sent.of_question(question_id) if question_id else None
    question = view.question(question_id) if view else None
    return Asked(view, question) if view and question else None


def _stale(family: Family) -> Reply:
    return Reply(toast=family.t("common.stale_button"))


def _single_choice(question: QuestionView, value: str) -> Choice | None:
    number = plain_number(value)
    if number is None:
        return None
    match question.question.kind:
        case QuestionKind.single:
            option = question.option_at(number)
            return Choice(option_id=option.id) if option else None
        case QuestionKind.faces if 1 <= number <= len(FACES):
            return Choice(value=number)
        case QuestionKind.grade if number in GRADES:
            return Choice(value=number)
        case QuestionKind.yes_no if number in YES_NO:
            return Choice(value=number)
    return None


def _mask(question: QuestionView, value: str) -> int | None:
    mask = plain_number(value)
    if question.question.kind is not QuestionKind.multiple or mask is None:
        return None
    allowed = sum(1 << option.position for option in question.options)
    return mask if mask & ~allowed == 0 else None


__all__ = ["OPEN_ANSWER", "tap", "typed"]
