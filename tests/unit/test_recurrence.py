"""Recurring rounds fire at the right local time, also across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.quiet import quiet_until
from bot.scheduling.recurrence import latest, occurrences, period_key, upcoming

AMSTERDAM = "Europe/Amsterdam"
FIRST_MONDAY = {"every": "month", "nth": 1, "weekday": 0, "hour": 19}
TWO_WEEKLY_WEDNESDAY = {"every": "weeks", "weeks": 2, "weekday": 2, "hour": 19, "parity": 0}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_first_monday_stays_at_19_local_across_the_autumn_change() -> None:
    moments = occurrences(
        FIRST_MONDAY, timezone=AMSTERDAM, after=utc(2026, 9, 1), until=utc(2026, 12, 31)
    )
    assert moments == [
        utc(2026, 9, 7, 17),  # CEST, UTC+2
        utc(2026, 10, 5, 17),
        utc(2026, 11, 2, 18),  # CET, UTC+1: the clock went back on 25 October
        utc(2026, 12, 7, 18),
    ]


def test_every_two_weeks_across_the_spring_change() -> None:
    moments = occurrences(
        TWO_WEEKLY_WEDNESDAY, timezone=AMSTERDAM, after=utc(2027, 3, 1), until=utc(2027, 4, 30)
    )
    assert moments == [
        utc(2027, 3, 10, 18),  # CET
        utc(2027, 3, 24, 18),
        utc(2027, 4, 7, 17),  # CEST: the clock went forward on 28 March
        utc(2027, 4, 21, 17),
    ]


def test_last_weekday_of_the_month_and_period_keys() -> None:
    rule = {"every": "month", "nth": -1, "weekday": 4, "hour": 10}
    assert upcoming(rule, timezone=AMSTERDAM, now=utc(2026, 11, 24)) == utc(2026, 11, 27, 9)
    assert period_key(utc(2026, 11, 27, 9), timezone=AMSTERDAM) == "2026-11-27"


def test_latest_is_the_moment_just_passed() -> None:
    assert latest(
        FIRST_MONDAY, timezone=AMSTERDAM, after=utc(2026, 10, 1), now=utc(2026, 11, 2, 18)
    ) == utc(2026, 11, 2, 18)
    assert (
        latest(FIRST_MONDAY, timezone=AMSTERDAM, after=utc(2026, 11, 2, 18), now=utc(2026, 11, 3))
        is None
    )


def test_quiet_hours_wrap_midnight_and_follow_the_clock() -> None:
    assert quiet_until(
        utc(2026, 11, 24, 20, 30), timezone=AMSTERDAM, start="21:00", end="08:00"
    ) == utc(2026, 11, 25, 7)
    assert quiet_until(utc(2026, 11, 24, 6), timezone=AMSTERDAM, start="21:00", end="08:00") == utc(
        2026, 11, 24, 7
    )
    assert (
        quiet_until(utc(2026, 11, 24, 12), timezone=AMSTERDAM, start="21:00", end="08:00") is None
    )
    assert quiet_until(
        utc(2026, 7, 1, 5, 30), timezone=AMSTERDAM, start="21:00", end="08:00"
    ) == utc(2026, 7, 1, 6)
    assert quiet_until(utc(2026, 7, 1, 5), timezone=AMSTERDAM, start="00:00", end="00:00") is None
