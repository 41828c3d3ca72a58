"""Recurring rounds: "every first Monday of the month at 19:00", "every two weeks on Wednesday".

Rules are plain dicts kept in the database. Moments are computed on the council's wall clock
(zoneinfo), so 19:00 stays 19:00 when daylight saving time starts or ends.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKLY, MONTHLY = "weeks", "month"
EPOCH = date(2024, 1, 1)  # a Monday: "every two weeks" counts weeks from here


def occurrences(
    rule: dict[str, Any], *, timezone: str, after: datetime, until: datetime
) -> list[datetime]:
    """Every moment of the rule in (after, until], in UTC, oldest first."""
    zone = ZoneInfo(timezone)
    first, last = after.astimezone(zone).date(), until.astimezone(zone).date()
    clock = time(int(rule["hour"]), int(rule.get("minute", 0)))
    found = []
    for day in _days(rule, first - timedelta(days=1), last + timedelta(days=1)):
        moment = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
        if after < moment <= until:
            found.append(moment)
    return found


def latest(
    rule: dict[str, Any], *, timezone: str, after: datetime, now: datetime
) -> datetime | None:
    """The most recent moment in (after, now], if any."""
    moments = occurrences(rule, timezone=timezone, after=after, until=now)
    return moments[-1] if moments else None


def upcoming(rule: dict[str, Any], *, timezone: str, now: datetime) -> datetime:
    """The next moment after `now`."""
    moments = occurrences(rule, timezone=timezone, after=now, until=now + timedelta(days=70))
    return moments[0]


def period_key(moment: datetime, *, timezone: str) -> str:
    """The local date of a moment: one round per schedule per period."""
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def _days(rule: dict[str, Any], first: date, last: date) -> list[date]:
    weekday = int(rule["weekday"])
    if rule["every"] == WEEKLY:
        weeks = int(rule.get("weeks", 1))
        days = []
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        while day <= last:
            if ((day - EPOCH).days // 7) % weeks == int(rule.get("parity", 0)) % weeks:
                days.append(day)
            day += timedelta(days=7)
        return days
    days = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        day = _nth_weekday(year, month, weekday, int(rule["nth"]))
        if first <= day <= last:
            days.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1-4) or last (-1) given weekday of a month."""
    if nth == -1:
        last_day = calendar.monthrange(year, month)[1]
        day = date(year, month, last_day)
        return day - timedelta(days=(day.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
