"""A family sends a voice message (or an audio file, or a video note): it is never kept.

A voice can tell who someone is, so answers are typed or tapped. The recording is not
downloaded and nothing is stored: no answer, and an open question's draft stays as it was, so
the next typed message is still its answer. Nothing here knows which channel the person is on.
"""

from __future__ import annotations

from bot.chat.screens import Reply, Screen
from bot.family.core import Core
from bot.polls.asking import OPEN_ANSWER
from bot.texts import Texts
from storage import drafts
from storage.models import Address


async def refused(core: Core, t: Texts, address: Address | None) -> Reply:
    """Please type (or skip) when an open question waits for an answer; else one short line
    that voice messages are not kept. `address` is None for someone who has not joined."""
    waiting = False
    if address is not None:
        async with core.db.read() as session:
            draft = await drafts.get_draft(session, address=address, kind=OPEN_ANSWER[0])
        waiting = draft is not None and draft.step == OPEN_ANSWER[1]
    return Reply(then=[Screen(t("voice.type_answer" if waiting else "voice.not_kept"))])


__all__ = ["refused"]
