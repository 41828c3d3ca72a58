"""Dates and numbers as a person reads them: moments in the council's timezone, decimals with
the mark of the reader's language. The one place these formats are written down."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DECIMAL_MARK = {"en": "."}
"""The decimal mark per language; every other language writes a comma (3,5)."""


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def day(moment: datetime, timezone: str) -> str:
    """02-12-2026"""
    return local(moment, timezone).strftime("%d-%m-%Y")


def moment(moment: datetime, timezone: str) -> str:
    """02-12-2026 19:00"""
    return local(moment, timezone).strftime("%d-%m-%Y %H:%M")


def short_moment(moment: datetime, timezone: str) -> str:
    """02-12 19:00: within this year, in lists."""
    return local(moment, timezone).strftime("%d-%m %H:%M")


def clock(moment: datetime, timezone: str) -> str:
    """19:00"""
    return local(moment, timezone).strftime("%H:%M")


def decimal(number: float, language: str) -> str:
    """One decimal: 3,5 (or 3.5 in English)."""
    return f"{number:.1f}".replace(".", DECIMAL_MARK.get(language, ","))


def compact(number: float, language: str) -> str:
    """As short as it is exact: 7, 7,5."""
    return f"{number:g}".replace(".", DECIMAL_MARK.get(language, ","))
