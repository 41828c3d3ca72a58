"""What others said: the results a family gets when a poll closes (U-Report's model), with the
council's privacy threshold exactly as in the council's own results.

One message in the family's language: how many families answered, per choice question its top
answers with percentages (a count below k reads "fewer than k"; open answers never), the
council's own line, and on Telegram a button per question for its chart. A recurring round
says how the top answer moved since the last closed poll of its schedule. Nothing at all goes
when the poll has fewer than k answers (`worth_sharing`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.chat.buttons import SHARED
from bot.chat.screens import Choice, Screen
from bot.polls.questions import other_language
from bot.results.disclosure import Concealed
from bot.results.pictures import Picture, question_picture
from bot.results.publish import Published, Row, count_or_note
from bot.results.report import Report, load_report
from bot.texts import Texts
from storage import polls, tallies
from storage.db import Database
from storage.models import TELEGRAM, Address, Person, QuestionKind
from storage.polls import PollView

SHOWN = (
    QuestionKind.single,
    QuestionKind.multiple,
    QuestionKind.yes_no,
    QuestionKind.faces,
    QuestionKind.grade,
)
"""The choice questions a summary shows (never open answers; rankings stay with the council)."""
TOP = 3
WINDOW = timedelta(hours=23)
"""WhatsApp: a summary is free-form, so it goes only to a family that wrote to us within this
time (inside Meta's 24-hour window, with room to spare); else the row is skipped (counted)."""


def worth_sharing(poll_summary: dict[str, Any] | None, *, k: int) -> bool:
    """Whether a closed poll's results may go to families: at least k answered."""
    return poll_summary is not None and poll_summary["respondents"] >= k


def within_window(window_at: datetime | None, now: datetime) -> bool:
    return window_at is not None and now - window_at < WINDOW


def closed_report(view: PollView, language: str) -> Report | None:
    """The numbers kept when the poll closed (no open answers), in `language`."""
    summary = view.poll.summary
    if summary is None:
        return None
    return Report(
        view=view.in_language(language),
        tallies=tallies.from_summary(summary["questions"], {}),
        asked=summary["asked"],
        answered=summary["respondents"],
    )


async def summary_screen(
    session: Any, t: Texts, *, view: PollView, address: Address, now: datetime
) -> Screen | None:
    """The summary for one family (None: nothing to share, or outside WhatsApp's window)."""
    report = closed_report(view, t.language)
    if report is None or not report.enough or not view.poll.share_results:
        return None
    if address.channel != TELEGRAM and not within_window(await _window(session, address), now):
        return None
    previous = await _previous(session, view, t.language)
    text, shown = summary_text(t, report, previous)
    choices = tuple(
        Choice(t.label("shared.chart_button", number=number), SHARED.data(view.poll.id, number))
        for number in shown
        if address.channel == TELEGRAM
    )
    return Screen(text, choices=choices)


async def _window(session: Any, address: Address) -> datetime | None:
    """When the family last wrote to us (WhatsApp's window)."""
    return await session.scalar(
        select(Person.window_at).where(
            Person.channel == address.channel, Person.address == address.id
        )
    )


async def _previous(session: Any, view: PollView, language: str) -> Report | None:
    """The last closed poll of the same recurring schedule before this one."""
    rounds = await polls.earlier_rounds(session, poll=view.poll)
    earlier = [poll for poll in rounds if poll.id < view.poll.id]
    if not earlier:
        return None
    old = await polls.load_poll(session, poll_id=earlier[-1].id)
    return closed_report(old, language) if old is not None else None


def summary_text(t: Texts, report: Report, previous: Report | None) -> tuple[str, list[int]]:
    """The message, and the numbers of the questions it shows (each has a chart)."""
    view, k = report.view, report.k
    lines = [t("shared.title", title=view.poll.title)]
    if not view.speaks(t.language):
        lines.append(f"<i>{other_language(t, view)}</i>")
    lines.append(t("shared.response", answered=report.answered, asked=report.asked))
    before = {p.question.question.position: p for p in previous.published(t)} if previous else {}
    shown = []
    for published in report.published(t):
        if published.kind not in SHOWN:
            continue
        question = published.question.question
        lines += ["", t("shared.question", number=question.position, text=question.text)]
        rows = top_rows(published)
        if not published.enough or not rows:
            lines.append(t("shared.too_few", k=k))
            continue
        old = before.get(question.position)
        grade = published.kind is QuestionKind.grade
        if grade:  # eleven grades: the shown ones, then one line for all the others
            rows = [row for row in rows if isinstance(row.count, int)]
        for place, row in enumerate(rows):
            label = t("results.grade", grade=row.key) if grade else row.label
            line = _row(t, published, replace(row, label=label), k)
            if place == 0 and (share := _share_before(published, row, old)) is not None:
                line += " " + t("shared.last_time", percent=share)
            lines.append(line)
        if grade and len(rows) < len(published.rows):
            lines.append(f"• {t('results.other_grades', k=k)}")
        if any(isinstance(row.count, int) for row in rows):
            shown.append(question.position)
    if view.poll.results_note:
        lines += ["", t("shared.note", council=view.council.name, note=view.poll.results_note)]
    return "\n".join(lines), shown


def top_rows(published: Published) -> list[Row]:
    """The most given answers (shown counts, largest first), then concealed ones in their own
    order (sorting those would tell their size): at most TOP."""
    counted = sorted(
        (row for row in published.rows if isinstance(row.count, int) and row.count),
        key=lambda row: -row.count,
    )
    hidden = [row for row in published.rows if isinstance(row.count, Concealed)]
    return (counted + hidden)[:TOP]


def _row(t: Texts, published: Published, row: Row, k: int) -> str:
    if isinstance(row.count, Concealed):
        return t("shared.row_hidden", label=row.label, note=count_or_note(t, row.count, k))
    return t("shared.row", label=row.label, percent=_percent(row.count, published.answered))


def _percent(count: int, answered: int) -> int:
    return round(100 * count / answered) if answered else 0


def _share_before(published: Published, row: Row, old: Published | None) -> int | None:
    """The same answer's share in the last round (by option position), when it was shown."""
    if old is None or not old.enough or old.kind is not published.kind:
        return None
    key = _key(published, row.key)
    for earlier in old.rows:
        if _key(old, earlier.key) == key and isinstance(earlier.count, int):
            return _percent(earlier.count, old.answered)
    return None


def _key(published: Published, key: int) -> int:
    """Options differ per poll: compare them by position; other answers by value."""
    if published.kind in (QuestionKind.single, QuestionKind.multiple):
        return next((o.position for o in published.question.options if o.id == key), -1)
    return key


async def chart(db: Database, t: Texts, *, poll_id: int, number: int) -> Picture | None:
    """The chart of one shown question of a closed poll, in the reader's language."""
    report = await load_report(db, poll_id=poll_id, language=t.language)
    if report is None or report.view.poll.summary is None or not report.enough:
        return None
    question = next((q for q in report.view.questions if q.question.position == number), None)
    if question is None or question.question.kind not in SHOWN:
        return None
    published = next(p for p in report.published(t, plain=True) if p.question is question)
    return await asyncio.to_thread(question_picture, t, report, published)
