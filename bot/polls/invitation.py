"""The invitation to join the council: at the end of a poll that asks for it (`Poll.recruit`),
or sent on its own (a round of kind `invitation`). Two buttons, nothing stored until a family
taps "Yes, tell me more" and then says how to be reached (bot.family.members)."""

from __future__ import annotations

from bot.chat.buttons import JOINING
from bot.chat.screens import Choice, Screen
from bot.polls.questions import closes_on
from bot.texts import Texts
from storage.polls import PollView


def invitation(t: Texts, council_id: int) -> Screen:
    """ "Would you like to think along with the council?", with yes and no."""
    return Screen(
        t("members.invitation"),
        (
            Choice(t("members.yes_button"), JOINING.data("y", council_id)),
            Choice(t("members.no_button"), JOINING.data("n", council_id)),
        ),
    )


def ending(t: Texts, view: PollView) -> Screen:
    """The thanks after a family's last answer; with `Poll.recruit`, the invitation under it
    (one message)."""
    thanks = t("poll.thanks", closes=closes_on(view))
    if not view.poll.recruit:
        return Screen(thanks)
    asked = invitation(t, view.poll.council_id)
    return Screen(f"{thanks}\n\n{asked.text}", asked.choices)
