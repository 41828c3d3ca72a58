"""Joining with an invite, in no channel's terms: language, consent, age band (and a guardian
under 16), subscribed.

Nothing about the person is stored before they agree: each step's button carries the
language and the invite code itself (which the person already has in their invite link),
and every step checks the code again, so a forged button cannot join anything. Wrong codes
slow the guesser down (a `Throttle` per process, keyed by the person's address).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from bot.chat.buttons import SIGNUP
from bot.chat.screens import Choice, Reply, Screen
from bot.chat.throttle import Throttle
from bot.family.core import Core
from bot.texts import LANGUAGES, Texts, texts_for
from storage import councils, invites, people
from storage.invites import CodeProblem
from storage.models import Address, AgeBand, Invite, Role, utcnow
from storage.people import Profile

KNOWN_PERSON_STEPS = {"n", "y", "g", "x"}
"""Someone who already agreed once still agrees per council (and a guardian again under 16)."""


@dataclass(frozen=True)
class Joiner:
    """Who is joining: their address on their channel, what we know of them, and the
    throttle for their wrong codes."""

    address: Address
    profile: Profile | None
    guesses: Throttle

    @property
    def person(self) -> people.Person | None:
        return self.profile.person if self.profile else None

    @property
    def key(self) -> Hashable:
        return self.address


def _shown(text: str, *choices: Choice, per_row: int = 1) -> Reply:
    return Reply(shown=Screen(text, tuple(choices), per_row=per_row))


async def start(core: Core, t: Texts, joiner: Joiner, code: str | None, *, admin: bool) -> Reply:
    """A start: with a code, begin joining; without, welcome back or explain how to join."""
    if code:
        return await with_code(core, t, joiner, code)
    profile = joiner.profile
    if profile and profile.memberships:
        names = ", ".join(council.name for _, council in profile.memberships)
        then = [Screen(t("start.welcome_back", councils=names))]
    else:
        then = [Screen(t("start.how_to_join"))]
    if admin:
        then.append(Screen(t("start.admin_hint")))
    return Reply(then=then)


async def with_code(core: Core, t: Texts, joiner: Joiner, code: str) -> Reply:
    """Check the code (slowly after repeated misses); new people choose a language first."""
    invite = await _checked_invite(core, t, joiner, code)
    if isinstance(invite, Reply):
        return invite
    if joiner.person is not None:
        return await _ask_consent(core, t, code, invite)
    choices = [
        Choice(texts_for(lang)("account.language_name"), SIGNUP.data("l", lang, code))
        for lang in LANGUAGES
    ]
    return _shown(t("signup.choose_language"), *choices, per_row=2)


async def step(core: Core, t: Texts, joiner: Joiner, data: str | None) -> Reply:
    """One tap in the sign-up: the next question, or the end."""
    parts = SIGNUP.parse(data)
    if parts is None or parts[1] not in LANGUAGES:
        return Reply(toast=t("common.stale_button"))
    chosen, language, code = parts
    t = t.switched(language)
    if joiner.person is not None and chosen not in KNOWN_PERSON_STEPS:
        return _shown(t("start.welcome_back", councils=_council_names(joiner)))
    invite = await _checked_invite(core, t, joiner, code)
    if isinstance(invite, Reply):
        return invite
    if joiner.person is not None and chosen in ("y", "g"):
        if chosen == "y" and joiner.person.age_band is AgeBand.under16:
            return _ask_guardian(t, code)
        return await _join_existing(core, t, joiner, invite)
    return await NEXT_STEP[chosen](core, t, joiner, code, invite)


async def _ask_consent(core: Core, t: Texts, code: str, invite: Invite) -> Reply:
    async with core.db.read() as session:
        council = await councils.get_council(session, council_id=invite.council_id)
    agree = Choice(t("signup.agree"), _data("y", t, code))
    refuse = Choice(t("signup.refuse"), _data("n", t, code))
    return _shown(t("signup.consent", council=council.name), agree, refuse)


def _ask_guardian(t: Texts, code: str) -> Reply:
    yes = Choice(t("signup.guardian_yes"), _data("g", t, code))
    no = Choice(t("signup.guardian_no"), _data("x", t, code))
    return _shown(t("signup.guardian"), yes, no)


async def _consent_given(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    under = Choice(t("signup.age_under16"), _data("u", t, code))
    adult = Choice(t("signup.age_16plus"), _data("a", t, code))
    return _shown(t("signup.age"), under, adult)


async def _refused(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    return _shown(t("signup.refused"))


async def _under16(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    return _ask_guardian(t, code)


async def _no_guardian(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    return _shown(t("signup.guardian_missing"))


async def _join_under16(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    return await _finish(core, t, joiner, invite, AgeBand.under16)


async def _join_16plus(core: Core, t: Texts, joiner: Joiner, code: str, invite: Invite) -> Reply:
    return await _finish(core, t, joiner, invite, AgeBand.adult)


Step = Callable[[Core, Texts, Joiner, str, Invite], Awaitable[Reply]]
NEXT_STEP: dict[str, Step] = {
    "l": lambda core, t, joiner, code, invite: _ask_consent(core, t, code, invite),
    "n": _refused,
    "y": _consent_given,
    "u": _under16,
    "x": _no_guardian,
    "g": _join_under16,
    "a": _join_16plus,
}


async def _finish(core: Core, t: Texts, joiner: Joiner, invite: Invite, age: AgeBand) -> Reply:
    """Store the person (the first write about them) and subscribe them with the invite's tags."""
    async with core.db.begin() as session:
        joined = await invites.redeem(session, invite_id=invite.id)
        if joined:
            person = await people.create_person(
                session, address=joiner.address, language=t.language, age_band=age
            )
            await people.join_council(
                session,
                person=person,
                council_id=invite.council_id,
                role=invite.role,
                tags=invite.tags,
            )
        council = await councils.get_council(session, council_id=invite.council_id)
    if not joined:
        return _shown(t("signup.code_used"))
    done = Screen(t("signup.done", council=council.name))
    return Reply(shown=done, menu=(invite.role, t.language))


async def _join_existing(core: Core, t: Texts, joiner: Joiner, invite: Invite) -> Reply:
    """Someone who already agreed (and now agreed for this council) joins it, or gets a new role."""
    profile = joiner.profile
    async with core.db.begin() as session:
        council = await councils.get_council(session, council_id=invite.council_id)
        current = next((m for m, c in profile.memberships if c.id == invite.council_id), None)
        membership, before = current, current.role if current else None
        promoted = current is None or people.RANK[invite.role] > people.RANK[current.role]
        if promoted and await invites.redeem(session, invite_id=invite.id):
            membership, before = await people.join_council(
                session,
                person=profile.person,
                council_id=invite.council_id,
                role=invite.role,
                tags=invite.tags,
            )
    if membership is None:
        return _shown(t("signup.code_used"))
    if before is None:
        text = t("signup.joined_another", council=council.name)
    elif membership.role is not before:
        role_name = t(f"roles.{membership.role.value}")
        text = t("signup.role_changed", council=council.name, role=role_name)
    else:
        text = t("signup.already_member", council=council.name)
    highest = max(membership.role, profile.role or Role.family, key=people.RANK.__getitem__)
    return Reply(shown=Screen(text), menu=(highest, t.language))


async def _checked_invite(core: Core, t: Texts, joiner: Joiner, code: str) -> Invite | Reply:
    """The invite, or what to tell the person (and slow down guessers)."""
    now = time.monotonic()
    wait = joiner.guesses.wait_seconds(joiner.key, now=now)
    if wait > 0:
        return _shown(t("signup.slowed_down", minutes=max(1, math.ceil(wait / 60))))
    async with core.db.read() as session:
        found = await invites.check_code(session, code=code, now=utcnow())
    if isinstance(found, CodeProblem):
        joiner.guesses.note(joiner.key, now=now)
        return _shown(t(f"signup.code_{found.value}"))
    return found


def _data(step_: str, t: Texts, code: str) -> str:
    return SIGNUP.data(step_, t.language, code)


def _council_names(joiner: Joiner) -> str:
    profile = joiner.profile
    return ", ".join(council.name for _, council in profile.memberships) if profile else ""
