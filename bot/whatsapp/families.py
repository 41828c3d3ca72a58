"""Families on WhatsApp: one incoming message in, the family core's reply out.

The same core as on Telegram (`bot.family`): joining, answering and the account. What
differs is only how input arrives: taps on reply buttons, list rows and a template's quick
replies carry the same button data as Telegram's inline buttons; instead of commands the
family types words (`bot.whatsapp.words`), in any language we speak; a typed number picks
from a numbered list. A STOP-word always works, even in the middle of a poll.

Unknown numbers: a message with an invite code (anywhere in the text) starts joining; any
other gets one friendly line, and nothing about them is stored.
"""

from __future__ import annotations

from bot.chat.buttons import (
    ANSWERING,
    FORGET,
    HELPLINE,
    JOINING,
    LANGUAGE,
    SIGNUP,
    STARTING,
    parse,
    plain_number,
)
from bot.chat.screens import Reply, Screen
from bot.chat.throttle import FLOOD_LIMIT, Throttle
from bot.config import Settings
from bot.delivery.outbox import compose
from bot.family import account, answering, helplines, joining, members, voice
from bot.family.core import Core, Family
from bot.invites.links import find_code
from bot.polls.invitation import ending
from bot.texts import Texts, texts_for
from bot.whatsapp.channel import NUMBERS, WhatsApp
from bot.whatsapp.inbound import Incoming
from bot.whatsapp.words import action_of
from storage import drafts, invites, polls, whatsapp
from storage.invites import CodeProblem
from storage.models import WHATSAPP, Address, PollStatus, Role, RoundKind, utcnow
from storage.people import Profile, load_profile


class Families:
    """Handles what families send on WhatsApp."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        channel: WhatsApp,
        post: helplines.Post | None = None,
    ) -> None:
        self.core = core
        self.settings = settings
        self.channel = channel
        self.post = post or _nobody
        """Sends a family's own request to be contacted to a staff member on Telegram."""
        self.desk = helplines.desk(settings.councils)
        self.guesses = Throttle(limit=5, window=15 * 60)
        self.flood_limit = FLOOD_LIMIT

    async def handle(self, incoming: Incoming, *, before: int = 0) -> None:
        """Answer one message (in its person's lane), then mark it read. `before`: how many
        messages the person sent in the minute before this one (the inbox counts them over
        every process); beyond the flood limit, the first gets a notice, the rest nothing."""
        if incoming.kind == "number_changed":
            await self._moved(incoming)
            await self.channel.mark_read(incoming.message_id)
            return
        address = incoming.address
        if before >= self.flood_limit:
            if before == self.flood_limit:
                t = texts_for(self.settings.default_language, WHATSAPP)
                await self.channel.show(t, address, Reply(then=[Screen(t("common.too_many"))]))
            return
        profile = await self._profile(incoming)
        person = profile.person
        t = texts_for(person.language if person else self.settings.default_language, WHATSAPP)
        reply = await self._reply(incoming, profile, t)
        if person is None:  # they may have just joined: their window is open from now
            async with self.core.db.begin() as session:
                await whatsapp.opened_window(session, address=address, at=utcnow())
        await self.channel.show(t, address, reply)
        await self.channel.mark_read(incoming.message_id)

    async def _profile(self, incoming: Incoming) -> Profile:
        """Who wrote (moved to their BSUID if they were known by number); a known person's
        24-hour window opens now."""
        address = incoming.address
        async with self.core.db.begin() as session:
            for old in incoming.others:
                await whatsapp.move(
                    session, old=old, new=address, pseudonym_key=self.settings.pseudonym_key
                )
            profile = await load_profile(session, address=address, is_admin=False)
            if profile.person is not None:
                await whatsapp.opened_window(session, address=address, at=utcnow())
        return profile

    async def _moved(self, incoming: Incoming) -> None:
        """`user_changed_number` / `user_changed_user_id`: the person moves with them (one
        known by their BSUID keeps it when only the number changes)."""
        moves = [
            (incoming.wa_id, incoming.new_wa_id),
            (incoming.user_id, incoming.new_user_id),
        ]
        async with self.core.db.begin() as session:
            for old, new in moves:
                if old and new:
                    await whatsapp.move(
                        session,
                        old=Address.whatsapp(old),
                        new=Address.whatsapp(new),
                        pseudonym_key=self.settings.pseudonym_key,
                    )

    async def _reply(self, incoming: Incoming, profile: Profile, t: Texts) -> Reply:
        family = self._family(profile, t)
        if incoming.kind == "reply":
            return await self._tapped(incoming.reply_id, profile, family, t, incoming.wa_id)
        if incoming.kind == "audio":  # never downloaded, never kept
            return await voice.refused(self.core, t, family.address if family else None)
        if incoming.kind != "text":
            return _said(t("whatsapp.unsupported"))
        text = incoming.text
        action = action_of(text)
        if action is not None:
            return await self._word(action, profile, family, t)
        code = find_code(text)
        joiner = joining.Joiner(incoming.address, profile, self.guesses)
        if code is not None:
            if not await self._for_families(code):
                return _said(t("whatsapp.telegram_only"))
            return await joining.with_code(self.core, t, joiner, code)
        if family is None:
            return _said(t("whatsapp.unknown"))
        waiting = await helplines.expecting(self.core, family)  # a contact request first
        if waiting.contact is not None:
            return await helplines.contact_typed(
                self.core, family, waiting.contact, text, self.post
            )
        joining_council = await members.expecting(self.core, family)  # never an answer
        if joining_council is not None:
            return await members.contact_typed(
                self.core, family, joining_council, text, self._notify
            )
        if waiting.answer is not None:
            return await answering.typed(self.core, family, waiting.answer, text, desk=self.desk)
        async with self.core.db.read() as session:
            numbers = await drafts.get_draft(session, address=family.address, kind=NUMBERS[0])
        chosen = numbers.data.get(text.strip().lstrip("#")) if numbers else None
        if chosen is not None:
            return await self._tapped(chosen, profile, family, t, incoming.wa_id)
        if waiting.lapsed:
            return helplines.lapsed(t)
        return _said(t("whatsapp.not_understood"))

    async def _tapped(
        self,
        data: str | None,
        profile: Profile,
        family: Family | None,
        t: Texts,
        number: str | None = None,
    ) -> Reply:
        """A reply button, list row or quick reply: the same data as a Telegram button
        (`number`: theirs, when the webhook carries it)."""
        parsed = parse(data)
        button = parsed[0] if parsed else None
        joiner = joining.Joiner(profile.address, profile, self.guesses)
        if button is SIGNUP:
            if parsed is not None and not await self._for_families(parsed[1][-1]):
                return _said(t("whatsapp.telegram_only"))
            return await joining.step(self.core, t, joiner, data)
        if family is None:
            return _said(t("whatsapp.unknown"))
        if button in ANSWERING:
            return await answering.tap(self.core, family, data)
        if button is LANGUAGE:
            return await account.language_chosen(self.core, t, family, data, profile.role)
        if button is FORGET:
            return await account.forget_answered(self.core, t, family, data)
        if button is HELPLINE:
            return await helplines.tapped(self.core, family, data)
        if button is JOINING:  # "send me a WhatsApp message" only when we know their number
            reach = f"+{number}" if number else None
            return await members.tapped(self.core, family, data, reach=reach, notify=self._notify)
        if button is STARTING and parsed is not None:
            return await self._start(family, parsed[1])
        return Reply(toast=t("common.stale_button"))

    async def _word(self, action: str, profile: Profile, family: Family | None, t: Texts) -> Reply:
        if action == "help":
            councils = [council for _, council in profile.memberships]
            lines = helplines.help_screen(t, self.desk, councils).text
            return _said(f"{t('whatsapp.help')}\n\n{lines}")
        if action == "privacy":
            settings = self.settings
            key = settings.pseudonym_key
            return await account.privacy(self.core, t, profile, timezone=settings.timezone, key=key)
        if action == "language":
            return account.languages(t, family)
        if action == "forget":
            return account.forget_asked(t, family)
        if action == "questions":
            return await self._open_questions(family, t)
        return await account.move(self.core, t, family, action)

    async def _start(self, family: Family, parts: list[str]) -> Reply:
        """A tap on a template's Start (or Not now): the round's message follows now."""
        step, value = parts
        t = family.t
        if step == "n":
            return _said(t("whatsapp.later"))
        delivery_id = plain_number(value)
        if delivery_id is None:
            return Reply(toast=t("common.stale_button"))
        async with self.core.db.begin() as session:
            waiting = await whatsapp.started(
                session, delivery_id=delivery_id, person_id=family.person.id
            )
            if waiting is None:
                return Reply(toast=t("common.stale_button"))
            view = await polls.load_poll(session, poll_id=waiting.poll_id)
            if view is None:
                return Reply(toast=t("common.stale_button"))
            if view.poll.status is not PollStatus.open and waiting.kind is not RoundKind.followup:
                return _said(t("poll.closed"))
            screen = await compose(
                session,
                t,
                kind=waiting.kind,
                view=view,
                followup_id=waiting.followup_id,
                address=family.address,
                pseudonym=family.pseudonym(view.poll.id),
            )
        return Reply(then=[screen or ending(t, view)])

    async def _open_questions(self, family: Family | None, t: Texts) -> Reply:
        """The word "questions": the next question of the newest open poll sent to them."""
        if family is None:
            return _said(t("account.not_member"))
        async with self.core.db.begin() as session:
            for poll_id in await whatsapp.open_polls_sent_to(session, person_id=family.person.id):
                view = await polls.load_poll(session, poll_id=poll_id)
                screen = await compose(
                    session,
                    t,
                    kind=RoundKind.questions,
                    view=view,
                    followup_id=None,
                    address=family.address,
                    pseudonym=family.pseudonym(poll_id),
                )
                if screen is not None:
                    return Reply(then=[screen])
        return _said(t("whatsapp.nothing_open"))

    async def _for_families(self, code: str) -> bool:
        """Council members and staff stay on Telegram: their invites do not work here (an
        unknown or used code is for joining to explain)."""
        async with self.core.db.read() as session:
            found = await invites.check_code(session, code=code, now=utcnow())
        return isinstance(found, CodeProblem) or found.role is Role.family

    async def _notify(self, address: Address, screen: Screen) -> bool:
        """A request to join, to a staff member on Telegram (its buttons are in /candidates)."""
        return await self.post(address, screen.text)

    def _family(self, profile: Profile, t: Texts) -> Family | None:
        person = profile.person
        return Family(person, t, self.settings.pseudonym_key) if person else None


def _said(text: str) -> Reply:
    return Reply(then=[Screen(text)])


async def _nobody(address: Address, text: str) -> bool:
    """No way to reach staff was wired in: the family is told it did not go."""
    return False
