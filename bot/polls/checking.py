"""Checking what a council member types while writing a poll; each problem has a text key.

Pure functions: they take the typed text and return the clean value or a `Problem` that
names the text key (and its values) to show, so nothing typed is lost on a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.chat.buttons import MAX_LABEL
from storage.models import QuestionKind

MAX_TITLE = 120
MAX_QUESTION = 300
MAX_QUESTIONS = 5
MAX_FOLLOWUP = 3000
OPTION_COUNTS = {
    QuestionKind.single: (2, 10),
    QuestionKind.multiple: (2, 10),
    QuestionKind.priorities: (3, 10),
}
MOMENT_FORMATS = ("%d-%m-%Y %H:%M", "%d-%m-%Y %H.%M", "%d-%m %H:%M", "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Problem:
    key: str
    values: dict[str, Any] = field(default_factory=dict)


def needs_options(kind: QuestionKind) -> bool:
    return kind in OPTION_COUNTS


def check_text(text: str | None, *, limit: int) -> str | Problem:
    """A title, question or follow-up: not empty, not too long, one clean string."""
    clean = " ".join((text or "").split()) if limit <= MAX_QUESTION else (text or "").strip()
    if not clean:
        return Problem("newpoll.empty")
    if len(clean) > limit:
        return Problem("common.too_long", {"limit": limit})
    return clean


def check_options(text: str | None, kind: QuestionKind) -> list[str] | Problem:
    """One option per line: the right number, short enough for a button, no repeats."""
    low, high = OPTION_COUNTS[kind]
    options = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    if len(options) < low:
        return Problem("newpoll.too_few_options", {"low": low})
    if len(options) > high:
        return Problem("newpoll.too_many_options", {"high": high})
    too_long = next((option for option in options if len(option) > MAX_LABEL), None)
    if too_long is not None:
        return Problem(
            "newpoll.option_too_long", {"option": too_long[:MAX_LABEL] + "…", "limit": MAX_LABEL}
        )
    if len({option.casefold() for option in options}) != len(options):
        return Problem("newpoll.option_twice")
    return options


def check_tags(text: str | None, *, known: set[str]) -> list[str] | Problem:
    """Segment tags of the council's own families only."""
    tags = sorted({word.lower() for word in (text or "").replace(",", " ").split()})
    if not tags:
        return Problem("newpoll.empty")
    unknown = [tag for tag in tags if tag not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "-"
        return Problem("newpoll.unknown_tag", {"tag": unknown[0][:40], "known": listed})
    return tags


def check_moment(
    text: str | None, *, timezone: str, now: datetime, after: datetime | None = None
) -> datetime | Problem:
    """A date and time in the council's timezone, in the future (and after `after`)."""
    typed = " ".join((text or "").split())
    for shape in MOMENT_FORMATS:
        try:
            parsed = datetime.strptime(typed, shape)
        except ValueError:
            continue
        if "%Y" not in shape:
            parsed = parsed.replace(year=now.astimezone(ZoneInfo(timezone)).year)
        moment = parsed.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
        if moment <= now:
            return Problem("newpoll.in_the_past")
        if after is not None and moment <= after:
            return Problem("newpoll.before_opening")
        return moment
    return Problem("newpoll.bad_moment")


def closing_after(days: int, *, opens: datetime) -> datetime:
    return opens + timedelta(days=days)
