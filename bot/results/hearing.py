"""Whom the council hears: the response rate per group (asked, answered, the rate), protected
like every count, with the groups it hears least from marked; and the same over the last
rounds, as a monospace table and a chart.

Asked and answered per group are each a split of a total the results already show, so each
goes through `hide_small` with that total: a count below k reads "fewer than k", and more is
hidden where a small one could be worked out. A rate is shown only when both its counts are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.chat import formatting
from bot.results.breakdown import segment_name
from bot.results.charts import Series, trend_chart_png
from bot.results.disclosure import Concealed, hide_small
from bot.results.tables import monospace_table
from bot.texts import Texts
from storage.hearing import Groups
from storage.models import Council
from storage.participation import PastRound
from storage.segments import NO_VALUE, SEVERAL

Shown = int | Concealed
MAX_CHARTS = 3


@dataclass(frozen=True)
class GroupRate:
    """One group as it may be shown; `rate` (a percentage) only when both counts are shown."""

    value: str
    asked: Shown
    answered: Shown

    @property
    def rate(self) -> int | None:
        if isinstance(self.asked, Concealed) or isinstance(self.answered, Concealed):
            return None
        return min(100, round(100 * self.answered / self.asked)) if self.asked else None


def group_rates(groups: Groups, k: int) -> list[GroupRate] | None:
    """The groups of one kind, real groups first; None when nothing of the split may be shown."""
    values = sorted(
        set(groups.asked) | set(groups.answered),
        key=lambda value: (value in (NO_VALUE, SEVERAL), value),
    )
    asked = {value: groups.asked.get(value, 0) for value in values}
    answered = {value: groups.answered.get(value, 0) for value in values}
    shown_asked, shown_answered = _hidden(asked, k), _hidden(answered, k)
    if not values or shown_asked is None or shown_answered is None:
        return None
    return [GroupRate(value, shown_asked[value], shown_answered[value]) for value in values]


def _hidden(counts: dict[str, int], k: int) -> dict[str, Shown] | None:
    """`hide_small` with the total, taking a group with none as known to have none (the
    breakdown per group shows no column for it), so what is hidden here holds beside it; a
    zero still reads "fewer than k". None when nothing may be shown."""
    some = {value: n for value, n in counts.items() if n}
    shown = hide_small(some, k, total=sum(some.values()))
    if some and not shown:
        return None
    return {value: shown.get(value, Concealed.fewer) for value in counts}


def least_heard(rates: Sequence[GroupRate], k: int) -> set[str]:
    """The real groups (not "none" or "more") the council hears least from: those certainly
    below every shown rate ("fewer than k" of so many asked), else the lowest shown rate when
    at least two differ. Nothing beyond what a reader can work out from the lines shown."""
    real = [r for r in rates if r.value not in _OTHERS and isinstance(r.asked, int) and r.asked]
    shown = {r.value: r.rate for r in real if r.rate is not None}
    if not shown:
        return set()
    lowest = min(shown.values())
    below = {
        r.value
        for r in real
        if r.answered is Concealed.fewer and 100 * (k - 1) / int(r.asked) < lowest
    }
    if below:
        return below
    if len(set(shown.values())) < 2:
        return set()
    return {value for value, rate in shown.items() if rate == lowest}


_OTHERS = (NO_VALUE, SEVERAL)


def hearing_section(t: Texts, by_kind: Mapping[str, Groups], *, k: int, answered: int) -> str:
    """The lines for /results under the response line, or "" (no groups, or too few answers)."""
    if not by_kind or answered < k:
        return ""
    lines = [t("hearing.title")]
    for kind, groups in by_kind.items():
        lines.append(t("hearing.kind", kind=kind))
        rates = group_rates(groups, k)
        if rates is None:
            lines.append(t("hearing.cannot_split", k=k))
            continue
        least = least_heard(rates, k)
        for rate in rates:
            line = _group_line(t, rate, k)
            lines.append(f"{line} {t('hearing.least')}" if rate.value in least else line)
    return "\n\n" + "\n".join(lines)


def _group_line(t: Texts, rate: GroupRate, k: int) -> str:
    name = segment_name(t, rate.value)
    if rate.asked is Concealed.fewer:
        return t("hearing.group_fewer_asked", group=name, k=k)
    if isinstance(rate.asked, Concealed):
        return t("hearing.group_secret", group=name)
    if rate.answered is Concealed.fewer:
        return t("hearing.group_fewer", group=name, asked=rate.asked, k=k)
    if isinstance(rate.answered, Concealed):
        return t("hearing.group_secret_answered", group=name, asked=rate.asked)
    return t("hearing.group", group=name, answered=rate.answered, asked=rate.asked, rate=rate.rate)


def round_rates(rounds: Sequence[PastRound], k: int) -> dict[str, dict[str, list[Shown | None]]]:
    """Per kind, per group: the rate of each round (Concealed when it may not be shown, None
    when the group was not asked that round). A hidden rate is "•" in a table: "<k" would
    read as a percentage."""
    kinds = sorted({kind for one in rounds for kind in one.by_kind})
    table: dict[str, dict[str, list[Shown | None]]] = {}
    for kind in kinds:
        per_round = [_rates_in(one, kind, k) for one in rounds]
        values = sorted(
            {value for rates in per_round for value in rates},
            key=lambda value: (value in _OTHERS, value),
        )
        table[kind] = {value: [rates.get(value) for rates in per_round] for value in values}
    return table


def _rates_in(one: PastRound, kind: str, k: int) -> dict[str, Shown]:
    groups = one.by_kind.get(kind)
    if groups is None:
        return {}
    rates = group_rates(groups, k) if one.respondents >= k else None
    if rates is None:
        return {value: Concealed.protecting for value in groups.asked}
    return {
        rate.value: rate.rate if rate.rate is not None else Concealed.protecting
        for rate in rates
        if rate.asked != 0
    }


def rounds_text(t: Texts, rounds: Sequence[PastRound], *, council: Council) -> str:
    """Per kind a table: a row per group, a column per round (its number), rates in %."""
    k = council.privacy_threshold
    lines = [t("hearing.rounds_title", council=council.name)]
    if not rounds:
        lines.append(t("hearing.no_rounds"))
        return "\n".join(lines)
    table = round_rates(rounds, k)
    if not table:
        lines.append(t("hearing.no_groups"))
    headers = [f"#{one.number}" for one in rounds]
    for kind, groups in table.items():
        rows = [
            (segment_name(t, value), [Concealed.protecting if c is None else c for c in cells])
            for value, cells in groups.items()
        ]
        lines += ["", t("hearing.rounds_kind", kind=kind), monospace_table(headers, rows, k=k)]
    lines += ["", t("hearing.rounds_legend", k=k)]
    lines += [
        t("hearing.round_line", number=one.number, title=one.title, day=_day(one, council))
        for one in rounds
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Chart:
    caption: str
    png: bytes


async def rounds_charts(t: Texts, rounds: Sequence[PastRound], *, council: Council) -> list[Chart]:
    """A line per group over the rounds, per kind (the first few); drawn in a worker thread."""
    return await asyncio.to_thread(_draw, t, rounds, council)


def _day(one: PastRound, council: Council) -> str:
    return formatting.day(one.closed_at, council.timezone)


def _draw(t: Texts, rounds: Sequence[PastRound], council: Council) -> list[Chart]:
    if len(rounds) < 2:
        return []
    k = council.privacy_threshold
    labels = [_day(one, council) for one in rounds]
    charts = []
    for kind, groups in list(round_rates(rounds, k).items())[:MAX_CHARTS]:
        series = [
            Series(segment_name(t, value), [c if isinstance(c, int) else None for c in cells])
            for value, cells in groups.items()
            if value not in _OTHERS and any(isinstance(c, int) for c in cells)
        ]
        if not series:
            continue
        png = trend_chart_png(
            t("hearing.chart_title", kind=kind),
            t("hearing.chart_subtitle", rounds=len(rounds)),
            labels,
            series[:8],
            t("chart.percent"),
            y_max=100.0,
        )
        charts.append(Chart(t("hearing.chart_caption", kind=kind), png))
    return charts
