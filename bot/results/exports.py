"""CSV exports of a poll: the table of results as shown (small counts concealed), and, for
staff, one row per answer with a random row id only.

UTF-8 with a byte order mark, so Excel shows accents and emoji right; semicolons for Dutch
(what Dutch Excel expects), commas for English. A cell that starts like a formula gets a quote
first, so a typed answer can never run as a formula in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
from collections.abc import Iterable, Sequence

from bot.results.disclosure import Concealed
from bot.results.publish import Published, count_or_note
from bot.results.report import Report
from bot.texts import Texts
from storage.answers import AnswerRow
from storage.models import QuestionKind

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def table_csv(t: Texts, report: Report) -> bytes:
    """The results table: per question each answer with count, percent (and points, mean,
    median where they apply), exactly as the results message shows them."""
    rows: list[list[object]] = []
    for published in report.published(t, plain=True):
        rows += _question_rows(t, report, published)
    return _csv(t, t("export.table_header").split("|"), rows)


def _question_rows(t: Texts, report: Report, published: Published) -> list[list[object]]:
    question = published.question.question
    start = [report.view.poll.title, question.position, question.text]
    if not report.enough or not published.enough:
        return [[*start, t("export.not_enough", k=report.k), "", "", "", "", "", ""]]
    if published.kind is QuestionKind.open_text:
        texts = len(published.texts)
        return [[*start, t("export.open_answers"), texts, "", "", published.answered, "", ""]]
    mean = _number(published.mean)
    median = _number(published.median)
    rows = []
    for row in published.rows:
        if isinstance(row.count, Concealed):
            count, percent = count_or_note(t, row.count, report.k), ""
        else:
            count, percent = row.count, round(100 * row.count / published.answered)
        points = "" if row.points is None else row.points
        rows.append([*start, row.label, count, percent, points, published.answered, mean, median])
    return rows


def answers_csv(t: Texts, report: Report, answers: Iterable[AnswerRow]) -> bytes:
    """One row per answer in random order, each with its own random id: rows cannot be joined
    to a person or to each other. Answers the table conceals are left out (their number is
    known from the table anyway), and so is a ranking whose rank counts are not all shown. An
    open answer says the language it was typed in."""
    published = {p.question.id: p for p in report.published(t, plain=True)}
    rows = []
    for answer in answers:
        question = published.get(answer.question_id)
        value = _answer_value(question, answer) if question else None
        if question is None or value is None:
            continue
        rank = answer.slot if question.kind is QuestionKind.priorities else ""
        position = question.question.question.position
        language = t(f"languages.{answer.language}") if answer.text and answer.language else ""
        rows.append([position, question.question.question.text, value, rank, language])
    random.shuffle(rows)
    ids = _unique_ids(len(rows))
    header = t("export.answers_header").split("|")
    return _csv(t, header, [[row_id, *row] for row_id, row in zip(ids, rows, strict=True)])


def _answer_value(published: Published, answer: AnswerRow) -> str | None:
    """What the answer says, or None when it must stay out of the export."""
    if not published.enough:
        return None
    if answer.text is not None:
        return answer.text
    key = answer.option_id if answer.option_id is not None else answer.value
    row = next((row for row in published.rows if row.key == key), None)
    if row is None:
        return None
    if published.kind is QuestionKind.priorities:
        exact = all(other.points is not None for other in published.rows)
        return row.label if exact else None
    return None if isinstance(row.count, Concealed) else row.label


def _unique_ids(count: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < count:
        ids.add(secrets.token_hex(5))
    return random.sample(sorted(ids), count)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _csv(t: Texts, header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=t("export.delimiter"), lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def _safe(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell
