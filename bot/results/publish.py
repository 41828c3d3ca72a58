"""What a poll's results may show, worked out once per question, and the compact text of it.

`publish_question` applies the council's threshold k (see bot.results.disclosure); the text
here, the
charts and the CSV exports all draw from its outcome, so they can never disagree on what is
hidden.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.chat import formatting
from bot.polls.questions import FACES, YES_NO
from bot.results.disclosure import Concealed, hide_small, hide_small_and_complement
from bot.texts import Texts
from storage.models import QuestionKind
from storage.polls import PollView, QuestionView
from storage.tallies import QuestionTally

BAR = 10
MAX_TEXTS = 10
MAX_TEXT_CHARS = 200
SCALES = (QuestionKind.faces, QuestionKind.grade)


@dataclass(frozen=True)
class Row:
    """One answer (or one option of a ranking) and its count as it may be shown."""

    key: int
    label: str
    count: int | Concealed
    points: int | None = None  # priorities: Borda points, when every rank count may be shown


@dataclass
class Published:
    """One question as it may be shown. `enough` is False when nothing but the title may be."""

    question: QuestionView
    answered: int
    enough: bool
    rows: list[Row] = field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    texts: list[str] = field(default_factory=list)

    @property
    def kind(self) -> QuestionKind:
        return self.question.question.kind


def publish_question(
    t: Texts, question: QuestionView, tally: QuestionTally, *, k: int, plain: bool = False
) -> Published:
    """The question's counts with small ones concealed; `plain` labels faces with words
    (for charts and spreadsheets) instead of emoji."""
    kind = question.question.kind
    result = Published(question, tally.answered, enough=tally.answered >= k)
    if not result.enough:
        return result
    if kind is QuestionKind.open_text:
        result.texts = random.sample(tally.texts, len(tally.texts))
        return result
    if kind is QuestionKind.priorities:
        result.rows = _ranking(question, tally, k)
        return result
    labels = answer_labels(t, question, plain=plain)
    counts = {key: tally.counts.get(key, 0) for key in labels}
    if kind is QuestionKind.multiple:
        shown = hide_small_and_complement(counts, k, answered=tally.answered)
    else:
        shown = hide_small(counts, k, total=tally.answered)
    if not shown:
        result.enough = False
        return result
    result.rows = [Row(key, labels[key], count) for key, count in shown.items()]
    if kind in SCALES and not any(
        isinstance(row.count, Concealed) and counts[row.key] for row in result.rows
    ):  # concealed zeros follow from the shown counts, so the mean tells nothing more
        values = [value for value, count in sorted(tally.counts.items()) for _ in range(count)]
        result.mean, result.median = statistics.fmean(values), statistics.median(values)
    return result


def answer_labels(t: Texts, question: QuestionView, *, plain: bool = False) -> dict[int, str]:
    """The label of every possible answer, keyed as the tallies count it."""
    kind = question.question.kind
    if kind is QuestionKind.faces:
        if plain:
            return {value: t(f"results.face_{value}") for value in range(1, len(FACES) + 1)}
        return {value: face for value, face in enumerate(FACES, 1)}
    if kind is QuestionKind.grade:
        return {grade: str(grade) for grade in range(1, 11)}
    if kind is QuestionKind.yes_no:
        return {value: t(key) for value, key in YES_NO.items()}
    return {option.id: option.label for option in question.options}


def _ranking(question: QuestionView, tally: QuestionTally, k: int) -> list[Row]:
    """Borda count: 3 points for a first place, 2 for a second, 1 for a third. The number of
    first places is protected like any count; points only when no rank count is small."""
    points = {
        option.id: sum((4 - rank) * n for rank, n in tally.ranks.get(option.id, {}).items())
        for option in question.options
    }
    firsts = hide_small(
        {o.id: tally.ranks.get(o.id, {}).get(1, 0) for o in question.options},
        k,
        total=tally.answered,
    ) or dict.fromkeys((o.id for o in question.options), Concealed.protecting)
    exact = all(n == 0 or n >= k for ranks in tally.ranks.values() for n in ranks.values())
    ordered = sorted(question.options, key=lambda option: (-points[option.id], option.position))
    return [
        Row(option.id, option.label, firsts[option.id], points[option.id] if exact else None)
        for option in ordered
    ]


def bar(share: float) -> str:
    filled = round(share * BAR)
    return "▓" * filled + "░" * (BAR - filled)


def response_line(t: Texts, *, answered: int, asked: int, k: int) -> str:
    """How many answered of how many received the poll (a number below k is not shown)."""
    if answered < k:
        return t("results.response_hidden", k=k, asked=asked)
    rate = round(100 * answered / asked) if asked else 0
    return t("results.response", answered=answered, asked=asked, rate=rate)


def poll_results(
    t: Texts,
    view: PollView,
    tallies: Mapping[int, QuestionTally],
    *,
    asked: int,
    answered: int,
    k: int,
) -> str:
    """The whole poll: response, then every question (or 'not enough answers yet')."""
    lines = [
        t("results.title", title=view.poll.title),
        response_line(t, answered=answered, asked=asked, k=k),
    ]
    if answered < k:
        lines.append(t("results.not_enough", k=k))
        return "\n".join(lines)
    for question in view.questions:
        tally = tallies.get(question.id, QuestionTally())
        lines += ["", question_results(t, publish_question(t, question, tally, k=k), k=k)]
    return "\n".join(lines)


def question_results(t: Texts, published: Published, *, k: int) -> str:
    """One question: its title, n, and a bar per answer (or a ranking, or the open answers)."""
    question = published.question.question
    head = t("results.question", number=question.position, text=question.text)
    if not published.enough:
        return f"{head}\n{t('results.not_enough', k=k)}"
    head += "\n" + t("results.n", n=published.answered)
    if published.kind is QuestionKind.open_text:
        return f"{head}\n{_open_answers(t, published.texts)}"
    if published.kind is QuestionKind.priorities:
        return "\n".join([head, *_ranking_lines(t, published.rows, k)])
    grade = published.kind is QuestionKind.grade
    rows = [
        _row(
            t,
            t("results.grade", grade=row.key) if grade else row.label,
            row.count,
            published.answered,
            k,
        )
        for row in published.rows
        if not grade or isinstance(row.count, int)
    ]
    if grade and len(rows) < len(published.rows):
        rows.append(t("results.other_grades", k=k))
    if published.mean is not None and published.median is not None:
        rows.append(
            t(
                "results.mean_median",
                mean=formatting.decimal(published.mean, t.language),
                median=formatting.compact(published.median, t.language),
            )
        )
    return "\n".join([head, *rows])


def _row(t: Texts, label: str, count: int | Concealed, n: int, k: int) -> str:
    if isinstance(count, Concealed):
        return t(f"results.row_{count.value}", label=label, bar="·" * BAR, k=k)
    share = count / n if n else 0
    return t("results.row", label=label, bar=bar(share), percent=round(100 * share), count=count)


def _ranking_lines(t: Texts, rows: list[Row], k: int) -> list[str]:
    return [
        t(
            "results.rank" if row.points is not None else "results.rank_only",
            place=place,
            label=row.label,
            points=row.points,
            firsts=count_or_note(t, row.count, k),
        )
        for place, row in enumerate(rows, 1)
    ]


def count_or_note(t: Texts, count: int | Concealed, k: int) -> str:
    if isinstance(count, Concealed):
        return t(f"results.{count.value}", k=k)
    return str(count)


def _open_answers(t: Texts, texts: list[str]) -> str:
    """The open answers as typed; one in another language than the reader's says which."""
    lines = [t("results.open_note")]
    for text in texts[:MAX_TEXTS]:
        line = t("results.open_answer", text=_clip(text))
        language = getattr(text, "language", None)
        if language not in (None, t.language):
            line += f" <i>({t(f'languages.{language}')})</i>"
        lines.append(line)
    if len(texts) > MAX_TEXTS:
        lines.append(t("results.open_more", count=len(texts) - MAX_TEXTS))
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def split_long(text: str, limit: int = 4096) -> list[str]:
    """Split a long message on blank lines (then lines) so each part fits Telegram's limit."""
    parts: list[str] = []
    current = ""
    for block in text.split("\n\n"):
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(block) > limit:
            cut = block.rfind("\n", 0, limit)
            cut = cut if cut > 0 else _cut_outside_markup(block, limit)
            parts.append(block[:cut])
            block = block[cut:].lstrip("\n")
        current = block
    if current:
        parts.append(current)
    return parts


def _cut_outside_markup(text: str, limit: int) -> int:
    """Where to cut a line longer than `limit`: at `limit`, or before a tag or an entity
    (`<b>`, `&amp;`) that would be cut in two, which Telegram would refuse."""
    start = max(text.rfind("<", 0, limit), text.rfind("&", 0, limit))
    end = ">" if start >= 0 and text[start] == "<" else ";"
    if start > 0 and text.find(end, start, limit) == -1:
        return start
    return limit
