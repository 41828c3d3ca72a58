"""Results as a compact message, with text bars, that never shows a count below k.

A count below the council's threshold k reads "fewer than k". When hiding one count could be
undone by subtracting the others from the total, the next smallest count is hidden as well.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping

from bot.disclosure import Concealed, hide_small, hide_small_and_complement
from bot.questions import FACES, YES_NO
from bot.texts import Texts
from storage.models import QuestionKind
from storage.polls import PollView, QuestionView
from storage.tallies import QuestionTally

BAR = 10
MAX_TEXTS = 10
MAX_TEXT_CHARS = 200


def bar(share: float) -> str:
    filled = round(share * BAR)
    return "▓" * filled + "░" * (BAR - filled)


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
    lines = [t("results.title", title=view.poll.title)]
    if answered < k:
        lines.append(t("results.response_hidden", k=k, asked=asked))
        lines.append(t("results.not_enough", k=k))
        return "\n".join(lines)
    rate = round(100 * answered / asked) if asked else 0
    lines.append(t("results.response", answered=answered, asked=asked, rate=rate))
    for question in view.questions:
        lines += ["", question_results(t, question, tallies.get(question.id, QuestionTally()), k=k)]
    return "\n".join(lines)


def question_results(t: Texts, question: QuestionView, tally: QuestionTally, *, k: int) -> str:
    """One question: its title, n, and a bar per answer (or a ranking, or the open answers)."""
    head = t("results.question", number=question.question.position, text=question.question.text)
    if tally.answered < k:
        return f"{head}\n{t('results.not_enough', k=k)}"
    head += "\n" + t("results.n", n=tally.answered)
    kind = question.question.kind
    if kind is QuestionKind.open_text:
        return f"{head}\n{_open_answers(t, tally)}"
    if kind is QuestionKind.priorities:
        return f"{head}\n{_ranking(t, question, tally, k)}"
    labels = _labels(t, question)
    counts = {key: tally.counts.get(key, 0) for key in labels}
    if kind is QuestionKind.multiple:
        shown = hide_small_and_complement(counts, k, answered=tally.answered)
    else:
        shown = hide_small(counts, k, total=tally.answered)
    if not shown:
        return f"{head}\n{t('results.not_enough', k=k)}"
    rows = [
        _row(t, labels[key], count, tally.answered, k)
        for key, count in shown.items()
        if kind is not QuestionKind.grade or isinstance(count, int)
    ]
    if kind is QuestionKind.grade and len(rows) < len(shown):
        rows.append(t("results.other_grades", k=k))
    nothing_concealed = not any(isinstance(count, Concealed) for count in shown.values())
    if kind in (QuestionKind.faces, QuestionKind.grade) and nothing_concealed:
        rows.append(_mean_median(t, tally))
    return "\n".join([head, *rows])


def _labels(t: Texts, question: QuestionView) -> dict[int, str]:
    kind = question.question.kind
    if kind is QuestionKind.faces:
        return {value: face for value, face in enumerate(FACES, 1)}
    if kind is QuestionKind.grade:
        return {grade: str(grade) for grade in range(1, 11)}
    if kind is QuestionKind.yes_no:
        return {value: t(key) for value, key in YES_NO.items()}
    return {option.id: option.label for option in question.options}


def _row(t: Texts, label: str, count: int | Concealed, n: int, k: int) -> str:
    if isinstance(count, Concealed):
        return t(f"results.row_{count.value}", label=label, bar="·" * BAR, k=k)
    share = count / n if n else 0
    return t("results.row", label=label, bar=bar(share), percent=round(100 * share), count=count)


def _mean_median(t: Texts, tally: QuestionTally) -> str:
    values = [value for value, count in sorted(tally.counts.items()) for _ in range(count)]
    return t(
        "results.mean_median",
        mean=f"{statistics.fmean(values):.1f}".replace(".", ","),
        median=f"{statistics.median(values):g}".replace(".", ","),
    )


def _ranking(t: Texts, question: QuestionView, tally: QuestionTally, k: int) -> str:
    """Borda count: 3 points for a first place, 2 for a second, 1 for a third."""
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
    key = "results.rank" if exact else "results.rank_only"
    return "\n".join(
        t(
            key,
            place=place,
            label=option.label,
            points=points[option.id],
            firsts=_count_or_note(t, firsts[option.id], k),
        )
        for place, option in enumerate(ordered, 1)
    )


def _count_or_note(t: Texts, count: int | Concealed, k: int) -> str:
    if isinstance(count, Concealed):
        return t(f"results.{count.value}", k=k)
    return str(count)


def _open_answers(t: Texts, tally: QuestionTally) -> str:
    texts = list(tally.texts)
    random.shuffle(texts)
    lines = [t("results.open_note")]
    lines += [t("results.open_answer", text=_clip(text)) for text in texts[:MAX_TEXTS]]
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
            cut = cut if cut > 0 else limit
            parts.append(block[:cut])
            block = block[cut:].lstrip("\n")
        current = block
    if current:
        parts.append(current)
    return parts
