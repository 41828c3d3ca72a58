"""A person's own account, in no channel's terms: what we store (privacy), language, pause,
resume, stop, forget. Each function takes the person (None before they joined) and returns
what to show; `Reply.menu` asks a channel with a command menu to redraw it."""

from __future__ import annotations

from bot.chat import formatting
from bot.chat.buttons import FORGET, LANGUAGE
from bot.chat.screens import Choice, Reply, Screen
from bot.family.core import Core, Family
from bot.polls.questions import describe
from bot.results.publish import split_long
from bot.texts import LANGUAGES, Html, Texts, texts_for
from storage import answers, people, polls
from storage.forget import forget_person
from storage.models import AgeBand, MembershipStatus, Role
from storage.people import Profile

MAX_OWN_POLLS = 10
ACTIVE, PAUSED, STOPPED = MembershipStatus.active, MembershipStatus.paused, MembershipStatus.stopped
MOVES = {
    "pause": (PAUSED, (ACTIVE,), "paused", "already_paused"),
    "resume": (ACTIVE, (PAUSED, STOPPED), "resumed", "already_active"),
    "stop": (STOPPED, (ACTIVE, PAUSED), "stopped", "stopped"),
}
"""A move: to this status, only from these, what to say when it moved, and when it did not."""


def _said(text: str, *choices: Choice, per_row: int = 1) -> Reply:
    return Reply(then=[Screen(text, tuple(choices), per_row=per_row)])


async def privacy(
    core: Core, t: Texts, profile: Profile | None, *, timezone: str, key: str
) -> Reply:
    """Exactly what is stored about this person, shown to them (in parts if it is long)."""
    person = profile.person if profile else None
    if person is None:
        return _said(t("account.privacy_nobody"))
    async with core.db.read() as session:
        tags = {
            m.id: await people.membership_tags(session, membership_id=m.id)
            for m, _ in profile.memberships
        }
    memberships = "; ".join(
        t(
            "account.membership",
            council=council.name,
            role=t(f"roles.{membership.role.value}"),
            status=t(f"status.{membership.status.value}"),
            tags=Html(_tag_note(t, tags[membership.id])),
        )
        for membership, council in profile.memberships
    )
    age = "account.age_under16" if person.age_band is AgeBand.under16 else "account.age_16plus"
    stored = t(
        "account.privacy",
        language=t("account.language_name"),
        age=t(age),
        consented=formatting.day(person.consented_at, timezone),
        memberships=memberships or "-",
    )
    own = await _own_answers(core, Family(person, t, key), profile)
    return Reply(then=[Screen(part) for part in split_long(f"{stored}\n\n{own}")])


def _tag_note(t: Texts, tags: list[str]) -> str:
    return t("account.membership_tags", tags=", ".join(tags)) if tags else ""


async def _own_answers(core: Core, family: Family, profile: Profile) -> str:
    """The person's own answers to the newest polls, found with their keyed pseudonym."""
    t = family.t
    lines = [t("account.own_answers")]
    async with core.db.read() as session:
        found = await answers.own_respondents(
            session,
            council_ids=[council.id for _, council in profile.memberships],
            pseudonym_of=family.pseudonym,
            limit=MAX_OWN_POLLS,
        )
        for poll_id, respondent_id in found:
            view = await polls.load_poll(session, poll_id=poll_id)
            given = await answers.answers_of(session, respondent_id=respondent_id)
            lines.append(t("account.own_poll", title=view.poll.title))
            lines += [
                t(
                    "account.own_answer",
                    question=question.question.text,
                    answer=Html(describe(t, question, given[question.id])),
                )
                for question in view.questions
                if question.id in given
            ]
    if not found:
        lines.append(t("account.own_none"))
    return "\n".join(lines)


def languages(t: Texts, family: Family | None) -> Reply:
    """The languages to choose from, each in its own words."""
    if family is None:
        return _said(t("account.not_member"))
    choices = [
        Choice(texts_for(lang)("account.language_name"), LANGUAGE.data(lang)) for lang in LANGUAGES
    ]
    return _said(t("account.choose_language"), *choices, per_row=2)


async def language_chosen(
    core: Core, t: Texts, family: Family | None, data: str | None, role: Role | None
) -> Reply:
    """Store the chosen language and answer in it, menu included."""
    parts = LANGUAGE.parse(data)
    if parts is None or parts[0] not in LANGUAGES or family is None:
        return Reply(toast=t("common.stale_button"))
    async with core.db.begin() as session:
        await people.set_language(session, person=family.person, language=parts[0])
    done = Screen(t.switched(parts[0])("account.language_set"))
    return Reply(shown=done, menu=(role, parts[0]))


async def move(core: Core, t: Texts, family: Family | None, command: str) -> Reply:
    """pause, resume or stop every subscription of this person."""
    if family is None:
        return _said(t("account.not_member"))
    to, only_from, done, unchanged = MOVES[command]
    async with core.db.begin() as session:
        moved = await people.set_status(
            session, person_id=family.person.id, new=to, only_from=list(only_from)
        )
    return _said(t(f"account.{done if moved else unchanged}"))


def forget_asked(t: Texts, family: Family | None) -> Reply:
    """Forget me: ask for confirmation first."""
    if family is None:
        return _said(t("account.not_member"))
    yes = Choice(t("account.forget_yes"), FORGET.data("yes"))
    no = Choice(t("account.forget_no"), FORGET.data("no"))
    return _said(t("account.forget_confirm"), yes, no)


async def forget_answered(core: Core, t: Texts, family: Family | None, data: str | None) -> Reply:
    """Erase the person (yes) or keep everything (no)."""
    parts = FORGET.parse(data)
    if parts is None or parts[0] not in ("yes", "no") or family is None:
        return Reply(toast=t("common.stale_button"))
    if parts[0] == "no":
        return Reply(shown=Screen(t("account.forget_kept")))
    async with core.db.begin() as session:
        await forget_person(session, person=family.person, pseudonym_key=family.pseudonym_key)
    return Reply(shown=Screen(t("account.forgotten")), menu=(None, t.language))
