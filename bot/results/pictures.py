"""Charts of a poll's results (bot.results.charts draws them): a bar chart per question and, for a
recurring round, a trend of the same question across its rounds. They show exactly what the
text results show; a concealed count gets no bar."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bot.results.charts import Bar, Series, bar_chart_png, trend_chart_png
from bot.results.disclosure import Concealed
from bot.results.publish import Published, count_or_note
from bot.results.report import Report
from bot.texts import Texts
from storage.models import QuestionKind

MAX_SERIES = 8
SCALE_TOP = {QuestionKind.faces: 5.0, QuestionKind.grade: 10.0}


@dataclass(frozen=True)
class Picture:
    caption: str
    png: bytes


def bars_of(t: Texts, published: Published, k: int) -> list[Bar]:
    """The bars of one question: shares of n, or no bar with "fewer than k"."""
    bars = []
    for row in published.rows:
        if isinstance(row.count, Concealed):
            bars.append(Bar(row.label, None, count_or_note(t, row.count, k)))
        else:
            share = row.count / published.answered
            bars.append(Bar(row.label, share, f"{round(100 * share)}% ({row.count})"))
    return bars


def question_picture(t: Texts, report: Report, published: Published) -> Picture | None:
    """A bar chart of one question (first places for a ranking); None for open answers or
    when too few answered."""
    if not published.enough or published.kind is QuestionKind.open_text:
        return None
    question = published.question.question
    title = f"{question.position}. {question.text}"
    if published.kind is QuestionKind.priorities:
        title += " " + t("chart.first_places")
    subtitle = t("chart.subtitle", n=published.answered, title=report.view.poll.title)
    png = bar_chart_png(title, subtitle, bars_of(t, published, report.k))
    return Picture(t("chart.caption", number=question.position, text=question.text), png)


def trend_picture(t: Texts, rounds: Sequence[tuple[str, Published]], k: int) -> Picture | None:
    """The same question over rounds (oldest first): the mean of a scale, or the share of each
    answer. Concealed numbers leave a gap. None with fewer than two rounds to show."""
    shown = [(label, p) for label, p in rounds if p.enough and p.kind is not QuestionKind.open_text]
    if len(shown) < 2 or shown[-1][1].kind is QuestionKind.priorities:
        return None
    latest = shown[-1][1]
    labels = [label for label, _ in shown]
    question = latest.question.question
    if latest.kind in SCALE_TOP:
        series = [Series(t("chart.mean"), [p.mean for _, p in shown])]
        y_label, top = t("chart.mean"), SCALE_TOP[latest.kind]
    else:
        series = [
            Series(row.label, [_share(p, row.label) for _, p in shown])
            for row in latest.rows[:MAX_SERIES]
        ]
        y_label, top = t("chart.percent"), 100.0
    series = [line for line in series if any(point is not None for point in line.points)]
    if not series:
        return None
    png = trend_chart_png(
        f"{question.position}. {question.text}",
        t("chart.trend_subtitle", rounds=len(shown)),
        labels,
        series,
        y_label,
        y_max=top,
    )
    return Picture(t("chart.trend_caption", number=question.position), png)


def _share(published: Published, label: str) -> float | None:
    for row in published.rows:
        if row.label == label and isinstance(row.count, int):
            return 100 * row.count / published.answered
    return None


async def poll_pictures(
    t: Texts, report: Report, history: Sequence[tuple[str, Report]] = ()
) -> list[Picture]:
    """Every chart of the poll, drawn in a worker thread (drawing takes a moment)."""
    return await asyncio.to_thread(_draw_all, t, report, history)


def _draw_all(t: Texts, report: Report, history: Sequence[tuple[str, Report]]) -> list[Picture]:
    published = report.published(t, plain=True)
    pictures = [picture for p in published if (picture := question_picture(t, report, p))]
    past = [(label, old.published(t, plain=True)) for label, old in history]
    for index, question in enumerate(published):
        rounds = [
            (label, questions[index])
            for label, questions in past
            if index < len(questions) and questions[index].kind is question.kind
        ]
        if trend := trend_picture(t, rounds, report.k):
            pictures.append(trend)
    return pictures
