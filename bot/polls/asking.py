"""What a family is asked next in a poll: the first question they have not answered yet."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardMarkup

from bot.polls.questions import asking
from bot.texts import Texts
from storage import answers, drafts
from storage.models import Draft, QuestionKind
from storage.polls import PollView

OPEN_ANSWER = ("answer", "open")


async def next_question(
    session: AsyncSession, t: Texts, *, view: PollView, pseudonym: str, telegram_id: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The next unanswered question as a message, or None when every question has an answer.

    An open question also makes the family's next typed message its answer (a draft that
    lives until the poll closes, so it says nothing about when anyone answered).
    """
    respondent = await answers.find_respondent(session, poll_id=view.poll.id, pseudonym=pseudonym)
    done = await answers.answers_of(session, respondent_id=respondent.id) if respondent else {}
    for question in view.questions:
        if question.id in done:
            continue
        if question.question.kind is QuestionKind.open_text:
            await expect_open_answer(
                session, view=view, telegram_id=telegram_id, question_id=question.id
            )
        return asking(t, view, question)
    return None


async def expect_open_answer(
    session: AsyncSession, *, view: PollView, telegram_id: int, question_id: int
) -> None:
    kind, step = OPEN_ANSWER
    await drafts.save_draft(
        session,
        telegram_id=telegram_id,
        kind=kind,
        step=step,
        data={"question_id": question_id},
        expires_at=view.poll.closes_at,
    )


async def forget_open_answer(session: AsyncSession, *, telegram_id: int, question_id: int) -> None:
    """The open question was answered (or skipped): stop taking typed text for it."""
    draft: Draft | None = await drafts.get_draft(
        session, telegram_id=telegram_id, kind=OPEN_ANSWER[0]
    )
    if draft is not None and draft.data.get("question_id") == question_id:
        await drafts.drop_drafts(session, telegram_id=telegram_id, kind=OPEN_ANSWER[0])
