"""Results split by segment (`/results <poll> locatie`): one column per value of a tag kind.

Every count is protected as in the overall results, and more: a count that could be worked out
from the overall results (the row totals) or from a group's size (the column totals) is hidden
as well (bot.results.disclosure.protect_table). Open
answers are never split, so nobody is recognised
by what they wrote and where they live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.results.disclosure import Concealed, hide_small, protect_table
from bot.results.publish import Published, answer_labels, publish_question, response_line
from bot.results.tables import CELL_WIDTH, monospace_table
from bot.texts import Texts
from storage.models import QuestionKind
from storage.polls import PollView
from storage.segments import NO_VALUE, SEVERAL, SegmentTally
from storage.tallies import QuestionTally

Shown = int | Concealed


def breakdown_text(
    t: Texts,
    view: PollView,
    tallies: Mapping[int, QuestionTally],
    segments: Mapping[int, SegmentTally],
    *,
    kind: str,
    asked: int,
    answered: int,
    k: int,
) -> str:
    """The whole poll split by `kind`, question by question."""
    lines = [
        t("breakdown.title", title=view.poll.title, kind=kind),
        response_line(t, answered=answered, asked=asked, k=k),
    ]
    if answered < k:
        lines.append(t("results.not_enough", k=k))
        return "\n".join(lines)
    lines.append(t("breakdown.legend", k=k))
    values = sorted({value for split in segments.values() for value in split.answered})
    if any(len(segment_name(t, value)) > CELL_WIDTH - 1 for value in values):
        lines.append(t("breakdown.columns", names=", ".join(segment_name(t, v) for v in values)))
    for question in view.questions:
        published = publish_question(
            t, question, tallies.get(question.id, QuestionTally()), k=k, plain=True
        )
        split = segments.get(question.id, SegmentTally())
        head = t("results.question", number=question.question.position, text=question.question.text)
        lines += ["", head, _question_table(t, published, split, k=k)]
    return "\n".join(lines)


def _question_table(t: Texts, published: Published, split: SegmentTally, *, k: int) -> str:
    if published.kind is QuestionKind.open_text:
        return t("breakdown.open_not_split")
    if not published.enough:
        return t("results.not_enough", k=k)
    columns = sorted(split.answered, key=lambda value: (value in (NO_VALUE, SEVERAL), value))
    sizes = hide_small(split.answered, k, total=published.answered)
    if not sizes or not columns:
        return t("breakdown.cannot_split", k=k)
    column_totals = [sizes[value] for value in columns]
    rows = _rows(t, published, split, columns, column_totals, k)
    if rows is None:
        return t("breakdown.cannot_split", k=k)
    headers = [segment_name(t, value) for value in columns]
    shown_rows = _without_empty_grades(published, rows)
    table = monospace_table(headers, [*shown_rows, (t("breakdown.n"), column_totals)], k=k)
    if len(shown_rows) < len(rows):
        table += "\n" + t("breakdown.other_grades", k=k)
    return table


def _rows(
    t: Texts,
    published: Published,
    split: SegmentTally,
    columns: Sequence[str],
    column_totals: Sequence[Shown],
    k: int,
) -> list[tuple[str, Sequence[Shown]]] | None:
    """One row per answer, as protect_table allows; None when no hiding protects them."""
    overall = {row.key: row.count for row in published.rows}
    if published.kind is QuestionKind.multiple:
        return _multiple_rows(published, split, columns, column_totals, overall, k)
    if published.kind is QuestionKind.priorities:
        labels = {row.key: row.label for row in published.rows}
        counts = [[split.firsts.get((key, c), 0) for c in columns] for key in labels]
        label_of = {key: t("breakdown.first_place", label=label) for key, label in labels.items()}
    else:
        label_of = answer_labels(t, published.question, plain=True)
        counts = [[split.counts.get((key, c), 0) for c in columns] for key in label_of]
    shown = protect_table(
        counts, k, row_totals=[overall[key] for key in label_of], column_totals=column_totals
    )
    if shown is None:
        return None
    return [(label, cells) for label, cells in zip(label_of.values(), shown, strict=True)]


def _without_empty_grades(
    published: Published, rows: list[tuple[str, Sequence[Shown]]]
) -> list[tuple[str, Sequence[Shown]]]:
    """Grades run from 1 to 10: leave out the ones below k in every group."""
    if published.kind is not QuestionKind.grade:
        return rows
    return [row for row in rows if any(cell is not Concealed.fewer for cell in row[1])]


def _multiple_rows(
    published: Published,
    split: SegmentTally,
    columns: Sequence[str],
    column_totals: Sequence[Shown],
    overall: Mapping[int, Shown],
    k: int,
) -> list[tuple[str, Sequence[Shown]]] | None:
    """Several choices: per option a table of who chose it and who did not (both protected);
    the row of who chose it is shown."""
    rows = []
    for row in published.rows:
        chose = [split.counts.get((row.key, c), 0) for c in columns]
        did_not = [split.answered.get(c, 0) - n for c, n in zip(columns, chose, strict=True)]
        total = sum(chose)
        if isinstance(row.count, int):
            totals: list[Shown] = [total, published.answered - total]
        elif total < k:
            totals = [Concealed.fewer, Concealed.protecting]
        else:
            totals = [Concealed.protecting, Concealed.fewer]
        shown = protect_table([chose, did_not], k, row_totals=totals, column_totals=column_totals)
        if shown is None:
            return None
        rows.append((row.label, shown[0]))
    return rows


def segment_name(t: Texts, value: str) -> str:
    if value == NO_VALUE:
        return t("breakdown.no_value")
    if value == SEVERAL:
        return t("breakdown.several")
    return value
