"""What a family is asked next in a poll: the first question they have not answered yet."""

from __future__ import annotations

from collections.abc import Container

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat.screens import Screen
from bot.polls.questions import asking
from bot.texts import Texts
from storage import answers, drafts
from storage.models import Address, Draft, QuestionKind
from storage.polls import PollView, QuestionView

OPEN_ANSWER = ("answer", "open")


async def next_question(
    session: AsyncSession, t: Texts, *, view: PollView, pseudonym: str, address: Address
) -> Screen | None:
    """The next unanswered question as a message, or None when every question has an answer.

    An open question also makes the family's next typed message its answer (a draft that
    lives until the poll closes, so it says nothing about when anyone answered).
    """
    respondent = await answers.find_respondent(session, poll_id=view.poll.id, pseudonym=pseudonym)
    done = await answers.answers_of(session, respondent_id=respondent.id) if respondent else {}
    question = first_unanswered(view, done)
    if question is None:
        return None
    if question.question.kind is QuestionKind.open_text:
        await expect_open_answer(session, view=view, address=address, question_id=question.id)
    return asking(t, view, question)


def first_unanswered(view: PollView, done: Container[int]) -> QuestionView | None:
    """The first question (in order) without an answer among `done` (question ids)."""
    return next((question for question in view.questions if question.id not in done), None)


async def expect_open_answer(
    session: AsyncSession, *, view: PollView, address: Address, question_id: int
) -> None:
    kind, step = OPEN_ANSWER
    await drafts.save_draft(
        session,
        address=address,
        kind=kind,
        step=step,
        data={"question_id": question_id},
        expires_at=view.poll.closes_at,
    )


async def forget_open_answer(session: AsyncSession, *, address: Address, question_id: int) -> None:
    """The open question was answered (or skipped): stop taking typed text for it."""
    draft: Draft | None = await drafts.get_draft(session, address=address, kind=OPEN_ANSWER[0])
    if draft is not None and draft.data.get("question_id") == question_id:
        await drafts.drop_drafts(session, address=address, kind=OPEN_ANSWER[0])
