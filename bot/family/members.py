"""Finding new council members among the families who answer, channel-neutral.

A poll may end with the invitation (bot.polls.invitation), or a council sends it on its own.
Nothing is kept or passed on when a family only reads it, or taps "No, thanks". After "Yes,
tell me more" the family reads the council's own text (`Council.recruit_text`, else ours)
and is asked how the council may reach them: typed (a name and a phone number or e-mail), or
one tap to be messaged on the channel they use. Only then, and only that, is stored (a
`Candidate`, linked to the person so /forget removes it, never to an answer) and sent to the
council's staff on Telegram, with a reminder that the answers stay anonymous.

While a family types how to be reached, the open-answer draft waits at step "parked" (as for
a help-line contact request), so their name or number can never become an answer.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.chat import formatting
from bot.chat.buttons import CANDIDATES, JOINING, plain_number
from bot.chat.screens import Choice, Reply, Screen
from bot.family.core import Core, Family
from bot.family.helplines import PARKED, step_and_council, wait_for_contact
from bot.polls.asking import OPEN_ANSWER
from bot.texts import Html, Texts, texts_for
from storage import candidates, drafts
from storage import helplines as stored
from storage.models import Address, Council, utcnow

log = logging.getLogger(__name__)
CONTACT = ("members", "contact")
"""The draft that waits for how to reach the family: {"council_id": …}, nothing else."""
CONTACT_LIMIT = 300
Notify = Callable[[Address, Screen], Awaitable[bool]]
"""Send a screen to a staff member (on Telegram); True when it went."""


async def tapped(
    core: Core, family: Family, data: str | None, *, reach: str | None, notify: Notify
) -> Reply:
    """ "Yes, tell me more", "No, thanks", "Send me a message" (`reach`: how the channel
    knows them, None where it cannot say) or "Cancel"."""
    t = family.t
    tap = step_and_council(JOINING, data)
    if tap is None:
        return Reply(toast=t("common.stale_button"))
    step, council_id = tap
    async with core.db.begin() as session:
        council = await stored.council_of_member(
            session, person_id=family.person.id, council_id=council_id
        )
        if (
            council is not None
            and step in ("y", "m")
            and not await candidates.was_invited(
                session, person_id=family.person.id, council_id=council.id
            )
        ):
            council = None  # never sent the invitation: a forged tap
        if council is not None and step == "y":
            await wait_for_contact(session, family.address, CONTACT, council.id)
        elif council is not None:
            await _settle(session, family.address)
    if council is None:
        return Reply(toast=t("common.stale_button"))
    no_buttons = Screen("")
    if step == "n":
        return _after(no_buttons, t("members.declined"))
    if step == "x":
        return _after(no_buttons, t("members.cancelled"))
    if step == "m":
        if reach is None:
            return Reply(toast=t("common.stale_button"))
        contact = t.label("members.reach", name=reach)
        return await _known(core, family, council, contact, no_buttons, notify=notify)
    return Reply(shown=no_buttons, buttons_only=True, then=[_about(family, council, reach)])


def _about(family: Family, council: Council, reach: str | None) -> Screen:
    """The council's own text, then how they may be reached (typed, or one tap)."""
    t = family.t
    own = council.recruit_text
    about = Html(html.escape(own, quote=False)) if own else t("members.about", council=council.name)
    buttons = [Choice(t("members.cancel_button"), JOINING.data("x", council.id))]
    if reach is not None:
        buttons.insert(0, Choice(t("members.reach_button"), JOINING.data("m", council.id)))
    return Screen(f"{about}\n\n{t('members.ask', council=council.name)}", tuple(buttons))


async def expecting(core: Core, family: Family) -> int | None:
    """The council whose staff a typed text goes to, when the family was asked how to be
    reached (and that did not lapse)."""
    async with core.db.read() as session:
        draft = await drafts.get_draft(session, address=family.address, kind=CONTACT[0])
    return plain_number(str(draft.data.get("council_id"))) if draft is not None else None


async def contact_typed(
    core: Core, family: Family, council_id: int | None, text: str, notify: Notify
) -> Reply:
    """How to reach the family, typed: stored as a request and sent to staff."""
    t = family.t
    text = text.strip()
    if len(text) > CONTACT_LIMIT:
        return _said(t("members.too_long", limit=CONTACT_LIMIT))
    async with core.db.read() as session:
        council = (
            await stored.council_of_member(
                session, person_id=family.person.id, council_id=council_id
            )
            if council_id is not None
            else None
        )
    if council is None or not text:
        async with core.db.begin() as session:
            await _settle(session, family.address)
        return _said(t("members.cancelled"))
    return await _known(core, family, council, text, None, notify=notify)


async def _known(
    core: Core,
    family: Family,
    council: Council,
    contact: str,
    shown: Screen | None,
    *,
    notify: Notify,
) -> Reply:
    """Store the request (the contact and the date, nothing else) and tell the staff."""
    now = utcnow()
    async with core.db.begin() as session:
        candidate = await candidates.add_candidate(
            session,
            council_id=council.id,
            person_id=family.person.id,
            contact=contact[:CONTACT_LIMIT],
            now=now,
        )
        staff = await stored.council_staff(session, council_id=council.id)
        await _settle(session, family.address)
    date = formatting.day(now, council.timezone)
    told = 0
    for address, language in staff:
        staff_t = texts_for(language)
        message = staff_t("members.staff", council=council.name, date=date, contact=contact)
        told += bool(await notify(address, Screen(message, staff_choices(staff_t, candidate.id))))
    if not told:  # kept for /candidates all the same: the family is not told it went
        log.warning("a request to join reached no staff member of council %s", council.id)
    sent = family.t("members.sent" if told else "members.saved", council=council.name)
    if shown is not None:
        return _after(shown, sent)
    return _said(sent)


def staff_choices(t: Texts, candidate_id: int) -> tuple[Choice, ...]:
    """What staff can do with one request: invite them to the council, or mark it handled."""
    return (
        Choice(t("members.invite_button"), CANDIDATES.data("i", candidate_id)),
        Choice(t("members.handled_button"), CANDIDATES.data("h", candidate_id)),
    )


async def _settle(session: Any, address: Address) -> None:
    """The request is over: its draft goes, the open answer (if any) takes text again."""
    await drafts.drop_drafts(session, address=address, kind=CONTACT[0])
    await stored.move_draft_step(
        session,
        address=address,
        kind=OPEN_ANSWER[0],
        step=PARKED,
        to=OPEN_ANSWER[1],
    )


def _after(shown: Screen, text: str) -> Reply:
    return Reply(shown=shown, buttons_only=True, then=[Screen(text)])


def _said(text: str) -> Reply:
    return Reply(then=[Screen(text)])


__all__ = ["CONTACT", "Notify", "contact_typed", "expecting", "staff_choices", "tapped"]
