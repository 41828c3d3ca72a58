"""A safe answer for a worrying one: help lines, the alarm words that call for them, and the
one way an anonymous family can choose to be known.

Answers are anonymous, so a council cannot act on one that says a child is unsafe, and must
not be the only one that hears it. Each council has help lines (`[[councils.help_lines]]`,
else the Dutch ones below) that /help (the word "hulp" on WhatsApp) shows, and every open
question points to. An open answer with one of the council's alarm words (in any language we
know) is stored as any answer and answered at once, only to that family and in its language,
with the help lines and one button: "please contact me". Only after that tap is the family
asked how to be reached, told first who will see it; what they type goes straight to the
council's staff on Telegram with the date and nothing else (no poll, no answer, no id), and is
never stored or logged: the draft that waits for it holds only the council's id. Results never
flag a matched answer; staff see only how many open answers of a poll got the help lines.

While the family types how to be reached, their text goes nowhere else, and the open-answer
draft waits at step "parked", so a late text can never become an answer after the request
lapsed either; the poll takes over again once the request was sent or cancelled, or an open
question is asked anew.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

from bot.chat import formatting
from bot.chat.buttons import HELPLINE, Button, plain_number
from bot.chat.screens import Choice, Reply, Screen
from bot.family.core import Core, Family
from bot.polls.asking import OPEN_ANSWER
from bot.results.disclosure import hide_small
from bot.results.publish import count_or_note
from bot.texts import Texts, texts_for
from storage import drafts
from storage import helplines as stored
from storage.models import Address, Council, utcnow

CONTACT = ("helpline", "contact")
"""The draft that waits for how to reach the family: {"council_id": …}, nothing else."""
PARKED = "parked"
"""The open-answer draft's step while a contact request waits (OPEN_ANSWER[1] is "open")."""
CONTACT_LIFETIME = timedelta(minutes=30)
CONTACT_LIMIT = 300

Post = Callable[[Address, str], Awaitable[bool]]
"""Send a text to a staff member (on Telegram); True when it went."""


# Alarm words. A phrase matches whole words in order, whatever the case or accents; a word
# ending in * also matches longer words ("zelfmoord*": "zelfmoordgedachten").
# The lists for ar, tr, pl and uk (and the short en list) are a modest start and NEED REVIEW
# BY NATIVE SPEAKERS (and by someone who knows what young people write) before they are relied
# on. A council replaces a language's list with `[councils.alarm_words]` in the config.
DEFAULT_ALARMS: dict[str, tuple[str, ...]] = {
    "nl": (
        "slaan",
        "slaat me",
        "slaat mij",
        "sloeg me",
        "sloeg mij",
        "geslagen",
        "ik word geslagen",
        "schopt me",
        "schopt mij",
        "mishandeld",
        "mishandeling",
        "kindermishandeling",
        "misbruik*",
        "aangerand",
        "verkracht*",
        "huiselijk geweld",
        "zelfmoord*",
        "zelfdoding",
        "suïcide",
        "suïcidaal",
        "dood willen",
        "wil dood",
        "wil ik dood",  # after "soms", "nu": the verb comes first
        "dood wil",
        "niet meer leven",
        "mezelf pijn doen",
        "mezelf iets aandoen",
        "snij mezelf",
        "snijd mezelf",
        "niet veilig",
        "onveilig",
        "bang thuis",
        "durf niet naar huis",
    ),
    "en": (
        "hit me",
        "hits me",
        "hitting me",
        "beat me",
        "beats me",
        "beaten",
        "kicks me",
        "abuse*",
        "molest*",
        "rape",
        "raped",
        "domestic violence",
        "suicide",
        "suicidal",
        "kill myself",
        "want to die",
        "wanna die",
        "end my life",
        "hurt myself",
        "hurting myself",
        "self harm",
        "cut myself",
        "cutting myself",
        "not safe",
        "unsafe",
        "scared at home",
        "afraid to go home",
        "scared to go home",
    ),
    "ar": (  # needs review by a native speaker
        "يضربني",
        "تضربني",
        "يضربونني",
        "ضربني",
        "عنف",
        "عنف أسري",
        "إساءة",
        "تحرش",
        "اعتداء",
        "اغتصاب",
        "انتحار",
        "أنتحر",
        "أريد أن أموت",
        "أقتل نفسي",
        "أؤذي نفسي",
        "لست بأمان",
        "غير آمن",
        "خائف في البيت",
    ),
    "tr": (  # needs review by a native speaker
        "beni dövüyor",
        "beni dövüyorlar",
        "dövüyor",
        "dayak",
        "şiddet",
        "istismar*",
        "taciz",
        "tecavüz",
        "intihar",
        "ölmek istiyorum",
        "kendimi öldür*",
        "kendime zarar",
        "güvende değilim",
        "güvende değil",
        "evde korkuyorum",
    ),
    "pl": (  # needs review by a native speaker
        "bije mnie",
        "biją mnie",
        "bił mnie",
        "biła mnie",
        "pobił*",
        "przemoc",
        "molest*",
        "wykorzystywan*",
        "gwałt",
        "zgwałcił*",
        "samobój*",
        "chcę umrzeć",
        "zabić się",
        "zabiję się",
        "robię sobie krzywdę",
        "nie jestem bezpieczny",
        "nie jestem bezpieczna",
        "nie czuję się bezpiecznie",
        "boję się w domu",
    ),
    "uk": (  # needs review by a native speaker
        "б'є мене",
        "б'ють мене",
        "бив мене",
        "била мене",
        "побили",
        "насильство",
        "знущаються",
        "знущається",
        "зґвалтув*",
        "самогубств*",
        "хочу померти",
        "вбити себе",
        "вб'ю себе",
        "шкоджу собі",
        "не в безпеці",
        "небезпечно вдома",
        "боюся вдома",
    ),
}

FOLD = str.maketrans(
    {
        "ł": "l",
        "ı": "i",
        "ø": "o",
        "đ": "d",
        "æ": "ae",
        "œ": "oe",
        "ة": "ه",  # Arabic ta marbuta, alif maqsura and tatweel as plainly written
        "ى": "ي",
        "ـ": None,
        "'": None,  # apostrophes join a word (don't, б'є)
        "’": None,
        "ʼ": None,
        "`": None,
    }
)
WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of `text`, lower case, without accents or apostrophes: "Suïcide!" → suicide."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in folded if not unicodedata.combining(char))
    return WORD.findall(bare.translate(FOLD))


Pattern = tuple[tuple[str, bool], ...]
"""A phrase as words, each with whether it may go on (a trailing *)."""


def pattern(phrase: str) -> Pattern:
    found: list[tuple[str, bool]] = []
    for piece in phrase.split():
        parts = words(piece.rstrip("*"))
        found += [(part, False) for part in parts]
        if parts and piece.endswith("*"):
            found[-1] = (parts[-1], True)
    return tuple(found)


class Alarms:
    """The alarm words and phrases of one council, in every language at once."""

    def __init__(self, lists: Mapping[str, Iterable[str]]) -> None:
        self.patterns = tuple(
            {found for phrases in lists.values() for p in phrases if (found := pattern(p))}
        )

    def match(self, text: str) -> bool:
        said = words(text)
        return any(_found(said, p) for p in self.patterns)


def _found(said: list[str], phrase: Pattern) -> bool:
    size = len(phrase)
    for start in range(len(said) - size + 1):
        if all(
            said[start + i] == word or (more and said[start + i].startswith(word))
            for i, (word, more) in enumerate(phrase)
        ):
            return True
    return False


# Help lines.
@dataclass(frozen=True)
class Line:
    """A help line: a default one's name and description are texts (`helplines.<key>_name`,
    `_about`, so translators cover them); a council's own are in its config, per language."""

    number: str
    key: str = ""
    name: str = ""
    about: tuple[tuple[str, str], ...] = ()

    def text(self, t: Texts, first_language: str) -> str:
        if self.key:
            name, about = (
                say(t, f"helplines.{self.key}_name"),
                say(t, f"helplines.{self.key}_about"),
            )
        else:
            texts = dict(self.about)
            name = self.name
            about = texts.get(t.language) or texts.get(first_language) or self.about[0][1]
        return say(t, "helplines.line", name=name, number=self.number, about=about)


DEFAULT_LINES = (
    Line("0800-0432", key="kindertelefoon"),
    Line("0800-2000", key="veilig_thuis"),
    Line("0800-0113", key="zelfmoordpreventie"),
)
"""The Netherlands: De Kindertelefoon (8-18, every day 11:00-21:00), Veilig Thuis (domestic
violence and child abuse, day and night) and 113 Zelfmoordpreventie (day and night; 113 is
free too); each free and anonymous."""


class HelpLineConfig(Protocol):
    name: str
    number: str
    about: tuple[tuple[str, str], ...]


class CouncilConfig(Protocol):
    """What the config says about a council (bot.config.CouncilSettings)."""

    slug: str
    languages: tuple[str, ...]
    help_lines: tuple[HelpLineConfig, ...]
    alarm_words: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class CouncilHelp:
    lines: tuple[Line, ...]
    alarms: Alarms
    first_language: str = "nl"


class Desk:
    """Every council's help lines and alarm words, from the config (a council the config no
    longer names gets the defaults)."""

    def __init__(self, councils: Iterable[CouncilConfig] = ()) -> None:
        self.default = CouncilHelp(DEFAULT_LINES, Alarms(DEFAULT_ALARMS))
        self.councils = {council.slug: _help_of(council) for council in councils}

    def of(self, council: Council | None) -> CouncilHelp:
        return self.councils.get(council.slug, self.default) if council else self.default


def _help_of(council: CouncilConfig) -> CouncilHelp:
    lines = tuple(
        Line(line.number, name=line.name, about=line.about) for line in council.help_lines
    )
    return CouncilHelp(
        lines=lines or DEFAULT_LINES,
        alarms=Alarms(DEFAULT_ALARMS | dict(council.alarm_words)),
        first_language=council.languages[0] if council.languages else "nl",
    )


def desk(councils: Sequence[CouncilConfig]) -> Desk:
    """The desk of these councils (`settings.councils`), made once per process."""
    return _desk(tuple(councils))


@cache
def _desk(councils: tuple[CouncilConfig, ...]) -> Desk:
    return Desk(councils)


DEFAULT_DESK = Desk()


def say(t: Texts, key: str, /, **values: Any) -> str:
    """A text of ours, in English where the person's language does not have it yet."""
    if key in t.keys():  # noqa: SIM118 - Texts is not a dict
        return t(key, **values)
    return texts_for("en", t.channel)(key, **values)


def lines_text(t: Texts, helps: Iterable[CouncilHelp]) -> str:
    """The help lines (each once), after what to do in danger."""
    shown: list[str] = []
    for help_ in helps:
        for line in help_.lines:
            text = line.text(t, help_.first_language)
            if text not in shown:
                shown.append(text)
    return "\n\n".join([say(t, "helplines.title"), say(t, "helplines.emergency"), *shown])


def help_screen(t: Texts, desk: Desk, councils: Iterable[Council]) -> Screen:
    """/help (the word "hulp"): the help lines of the person's councils (else the defaults)."""
    helps = [desk.of(council) for council in councils] or [desk.of(None)]
    return Screen(lines_text(t, helps))


def alarming(desk: Desk, council: Council | None, text: str) -> bool:
    return desk.of(council).alarms.match(text)


def worried(t: Texts, desk: Desk, council: Council | None) -> list[Screen]:
    """The answer to an open answer with an alarm word: the help lines, then the offer to be
    contacted by the council's staff (a tap, never more)."""
    lines = Screen(f"{say(t, 'helplines.worried')}\n\n{lines_text(t, [desk.of(council)])}")
    if council is None:
        return [lines]
    offer = Screen(
        say(t, "helplines.offer", council=council.name),
        (
            Choice(say(t, "helplines.contact_button"), HELPLINE.data("a", council.id)),
            Choice(say(t, "helplines.no_button"), HELPLINE.data("n", council.id)),
        ),
    )
    return [lines, offer]


async def wait_for_contact(
    session: Any, address: Address, draft: tuple[str, str], council_id: int
) -> None:
    """The next typed text is how to reach the family (`draft`: which request, for this
    council, for CONTACT_LIFETIME); an open question waiting for its answer is parked."""
    await drafts.save_draft(
        session,
        address=address,
        kind=draft[0],
        step=draft[1],
        data={"council_id": council_id},
        expires_at=utcnow() + CONTACT_LIFETIME,
    )
    await stored.move_draft_step(
        session, address=address, kind=OPEN_ANSWER[0], step=OPEN_ANSWER[1], to=PARKED
    )


def step_and_council(button: Button, data: str | None) -> tuple[str, int] | None:
    """A contact button's step and council id ("a:12"), or None for a forged one."""
    parts = button.parse(data)
    council_id = plain_number(parts[1]) if parts else None
    return (parts[0], council_id) if parts and council_id is not None else None


async def tapped(core: Core, family: Family, data: str | None) -> Reply:
    """ "Please contact me" (asks how, after saying who sees it) or "No thanks"."""
    t = family.t
    tap = step_and_council(HELPLINE, data)
    if tap is None:
        return Reply(toast=t("common.stale_button"))
    step, council_id = tap
    async with core.db.begin() as session:
        council = await stored.council_of_member(
            session, person_id=family.person.id, council_id=council_id
        )
        if council is not None and step == "a":
            await wait_for_contact(session, family.address, CONTACT, council.id)
        elif council is not None:
            await _settle(session, family.address)
    if council is None:
        return Reply(toast=t("common.stale_button"))
    no_buttons = Screen("")
    if step == "n":
        return Reply(
            shown=no_buttons, buttons_only=True, then=[Screen(say(t, "helplines.declined"))]
        )
    cancel = Choice(say(t, "helplines.cancel_button"), HELPLINE.data("n", council.id))
    ask = Screen(say(t, "helplines.ask", council=council.name), (cancel,))
    return Reply(shown=no_buttons, buttons_only=True, then=[ask])


@dataclass(frozen=True)
class Expecting:
    """What a family's typed text is for: an open answer, how to reach them, or nothing
    (`lapsed`: a contact request waited and expired, so the text goes nowhere)."""

    answer: int | None = None
    """The open question it answers."""
    contact: int | None = None
    """The council whose staff it goes to."""
    lapsed: bool = False


async def expecting(core: Core, family: Family) -> Expecting:
    """Whether typed text is how to reach the family or an open answer. A waiting contact
    request comes first, also when a round asked an open question since: a phone number must
    never become an answer the council reads (an answer sent to staff by mistake carries
    nothing that says whose it is)."""
    async with core.db.read() as session:
        contact = await drafts.get_draft(session, address=family.address, kind=CONTACT[0])
        typing = await drafts.get_draft(session, address=family.address, kind=OPEN_ANSWER[0])
    if contact is not None:
        return Expecting(contact=plain_number(str(contact.data.get("council_id"))))
    if typing is not None and typing.step == OPEN_ANSWER[1]:
        return Expecting(answer=plain_number(str(typing.data.get("question_id"))))
    return Expecting(lapsed=typing is not None and typing.step == PARKED)


async def contact_typed(
    core: Core, family: Family, council_id: int | None, text: str, post: Post
) -> Reply:
    """How to reach the family, to the council's staff with the date, and then forgotten."""
    t = family.t
    text = text.strip()
    if len(text) > CONTACT_LIMIT:
        return _said(say(t, "helplines.too_long", limit=CONTACT_LIMIT))
    async with core.db.read() as session:
        council = (
            await stored.council_of_member(
                session, person_id=family.person.id, council_id=council_id
            )
            if council_id is not None
            else None
        )
        staff = await stored.council_staff(session, council_id=council.id) if council else []
    told = 0
    if council is not None and text:
        date = formatting.day(utcnow(), council.timezone)
        for address, language in staff:
            message = say(
                texts_for(language),
                "helplines.staff",
                council=council.name,
                date=date,
                contact=text,
            )
            told += bool(await post(address, message))
    async with core.db.begin() as session:
        await _settle(session, family.address)
    if not told:
        return _said(say(t, "helplines.not_sent"))
    return _said(say(t, "helplines.sent", council=council.name))


def results_line(t: Texts, count: int, *, k: int) -> str:
    """For staff, under a poll's results: how many open answers got the help lines, a count
    concealed below k as every count is ("fewer than k", zero too)."""
    shown = hide_small({"help": count}, k)["help"]
    return say(t, "helplines.results_line", count=count_or_note(t, shown, k))


def lapsed(t: Texts) -> Reply:
    """Text after a contact request expired: passed on nowhere, and not taken as an answer."""
    return _said(say(t, "helplines.lapsed"))


async def _settle(session: Any, address: Address) -> None:
    """The contact request is over: its draft goes, the open answer (if any) takes text again."""
    await drafts.drop_drafts(session, address=address, kind=CONTACT[0])
    await stored.move_draft_step(
        session, address=address, kind=OPEN_ANSWER[0], step=PARKED, to=OPEN_ANSWER[1]
    )


def _said(text: str) -> Reply:
    return Reply(then=[Screen(text)])


__all__ = [
    "CONTACT",
    "DEFAULT_ALARMS",
    "DEFAULT_DESK",
    "Alarms",
    "Desk",
    "Expecting",
    "Post",
    "alarming",
    "contact_typed",
    "desk",
    "expecting",
    "help_screen",
    "lapsed",
    "results_line",
    "tapped",
    "words",
    "worried",
]
