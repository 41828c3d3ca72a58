"""Quiet hours: nothing goes to families at night; it waits until the quiet hours end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_until(now: datetime, *, timezone: str, start: str, end: str) -> datetime | None:
    """When `now` falls in the council's quiet hours: the moment they end (UTC); else None.

    Quiet hours may wrap midnight (21:00-08:00). Local clock times go through the council's
    timezone, so a daylight-saving change moves them with the clock on the wall.
    """
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    begins, ends = _clock(start), _clock(end)
    if begins == ends:
        return None
    clock = local.time().replace(tzinfo=None)
    if begins < ends:
        inside = begins <= clock < ends
        end_day = local.date()
    else:
        inside = clock >= begins or clock < ends
        end_day = local.date() + timedelta(days=1) if clock >= begins else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, ends, tzinfo=zone).astimezone(UTC)


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))
