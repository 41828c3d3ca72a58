"""Voice notes: a council member records one for a question while writing the poll, and every
family hears it right before that question, once, also when the question is tried again (on
WhatsApp uploaded once per poll, the bytes of the Telegram recording); a voice message from a
family, a stranger or a council member is refused kindly, never fetched and never kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.botapi import LocalBotApi
from bot.botapi.simuser import OGG_OPUS
from bot.polls.asking import OPEN_ANSWER
from bot.texts import texts_for
from bot.wasim import LocalWhatsApp
from storage.models import Answer, Draft, Person, Voice
from tests.builders import make_invite, open_poll_now, write_poll
from tests.e2e.conftest import RunningBot
from tests.e2e.families import CHANNELS, Family, OnWhatsApp, family_on, join
from tests.e2e.test_poll_writing import council_member
from tests.e2e.test_whatsapp import send_everything

DUTCH = texts_for("nl")
TYPE_ANSWER, NOT_KEPT = DUTCH("voice.type_answer"), DUTCH("voice.not_kept")
RECORDED = OGG_OPUS + b"recorded by the council member"
"""The bytes of the council member's recording (not the simulators' stub)."""
QUESTION_1 = "Hoe vond je het gesprek?"


async def count(bot: RunningBot, model: type) -> int:
    async with bot.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_recorded_note_goes_right_before_question_1_on_both_channels(
    api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    member = await council_member(api, wabot)
    code = await make_invite(wabot.db, uses=3)
    on_telegram = family_on("telegram", api, wa, 601)
    on_whatsapp = [family_on("whatsapp", api, wa, number) for number in (602, 603)]
    for family in (on_telegram, *on_whatsapp):
        await join(family, code)

    await write_poll(member)
    await member.press("🎙 Spraakbericht toevoegen")
    await member.press("Vraag 1")
    assert member.last.text.startswith("Neem nu het spraakbericht op (Nederlands)")
    for other in (member.send_audio, member.send_video_note):  # no voice note: asked again
        await other()
        assert member.last.text.startswith("Ik wacht op een spraakbericht.")
    await member.send_voice(duration=4, data=RECORDED)
    file_id = member.last_sent.file.file_id
    assert member.messages[-6].text.startswith("Spraakbericht bewaard (Nederlands).")
    assert member.inbox[-4] == "[voice 4s]", "the preview plays it before question 1"
    assert QUESTION_1 in member.inbox[-3]
    api.faults.rate_limit(1, retry_after=0, methods={"sendMessage"}, chat_id=on_telegram.user.id)
    wa.fail_next(131000, to=on_whatsapp[0].user.wa_id, kind="interactive")
    await member.press("✅ Versturen")  # the question to two of them is tried again...
    await send_everything(wabot)

    tried = [a.method for a in api.arrivals if a.chat_id == on_telegram.user.id and a.ok is False]
    assert tried == ["sendMessage"] and [refused for *_, refused in wa.rejected] == [131000]

    voice, question = on_telegram.user.messages[-2:]
    assert (voice.kind, voice.file_id, voice.duration) == ("voice", file_id, 4)
    assert on_telegram.user.inbox.count("[voice 4s]") == 1, "...and the note still goes once"
    assert QUESTION_1 in question.text and "Vraag 1 van 2" in question.text
    for family in on_whatsapp:
        assert isinstance(family, OnWhatsApp)
        *_, voice_line, question_line = family.user.inbox
        assert voice_line == "[voice]" and QUESTION_1 in question_line
        assert family.user.inbox.count("[voice]") == 1
        assert family.user.messages[-2].media_id == wa.media.uploads[0].media_id
    uploads = wa.media.uploads
    assert len(uploads) == 1, "uploaded once for every WhatsApp family"
    assert uploads[0].data == RECORDED, "the bytes of the Telegram recording"
    async with wabot.db.read() as session:
        stored = (await session.execute(select(Voice.file_id, Voice.media_id))).all()
    assert [tuple(row) for row in stored] == [(file_id, uploads[0].media_id)]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_voice_answer_is_refused_and_nothing_is_kept(
    channel: str, api: LocalBotApi, wa: LocalWhatsApp, wabot: RunningBot
) -> None:
    family: Family = family_on(channel, api, wa, 801)
    await join(family, await make_invite(wabot.db))
    await open_poll_now(wabot.db, questions=[{"kind": "open_text", "text": "Wat kan beter?"}])
    await wabot.deliver()
    assert "Wat kan beter?" in family.text

    await family.send_voice()
    assert family.text == TYPE_ANSWER
    assert await count(wabot, Answer) == 0
    async with wabot.db.read() as session:
        draft = await session.scalar(select(Draft).where(Draft.kind == OPEN_ANSWER[0]))
    assert draft is not None and draft.step == OPEN_ANSWER[1], "the question still waits"
    await family.send("Sneller antwoord op mails")
    async with wabot.db.read() as session:
        assert list(await session.scalars(select(Answer.text))) == ["Sneller antwoord op mails"]

    await family.send_voice()
    assert family.text == NOT_KEPT, "no question waits now"
    assert await count(wabot, Answer) == 1

    stranger = family_on(channel, api, wa, 802)
    await stranger.send_voice()
    assert stranger.texts == [NOT_KEPT]
    assert (await count(wabot, Person), await count(wabot, Answer)) == (1, 1), "nothing new"
    assert api.calls["getFile"] + wa.calls["media_info"] + wa.calls["download"] == 0


async def test_a_council_member_s_voice_counts_only_at_the_voice_step(
    api: LocalBotApi, bot: RunningBot
) -> None:
    """Elsewhere it is refused like a family's; at the voice step it is kept, and a member who
    takes no voice notes (a Telegram privacy setting) still gets the preview."""
    member = await council_member(api, bot)
    await member.send_voice()
    assert member.last.text == NOT_KEPT
    await member.command("nieuw")
    await member.send_voice()  # asked for the title: a voice is no title
    assert member.last.text == NOT_KEPT
    await member.send("Hoe gaat het?")
    assert "Eén keuze" in member.last.labels, "the poll goes on where it was"
    assert await count(bot, Voice) == 0
    async with bot.db.read() as session:
        kinds = list(await session.scalars(select(Draft.kind)))
    assert kinds == ["poll"], "only the poll being written"

    await write_poll(member)  # from the start, up to the preview
    member.chat.voices_forbidden = True
    await member.press("🎙 Spraakbericht toevoegen")
    await member.press("Vraag 1")
    await member.send_voice()
    assert member.messages[-5].text.startswith("Spraakbericht bewaard")
    assert "[voice 3s]" not in member.inbox[-4:]
    assert member.last.labels[0] == "✅ Versturen", "the preview comes all the same"
