"""Voice notes: sendVoice by upload or file_id, and people who send voice, audio and video notes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.botapi import LocalBotApi
from bot.botapi.simuser import MP3, OGG_OPUS


async def fetch(bot: Bot, action: Awaitable[object]) -> Update:
    """Let a person act, fetch the resulting update and confirm it like a poller does."""
    task: asyncio.Task[object] = asyncio.ensure_future(action)
    updates = await bot.get_updates(timeout=2)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    await task
    return updates[-1]


async def test_send_voice_by_upload_then_by_file_id(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    first = await bot.send_voice(42, OGG_OPUS, duration=3, caption="<b>Hoi</b>", parse_mode="HTML")
    voice = first.voice
    assert voice is not None and first.caption == "Hoi"
    assert (voice.duration, voice.mime_type, voice.file_size) == (3, "audio/ogg", len(OGG_OPUS))
    assert voice.file_id and voice.file_unique_id
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="a:1")]])
    again = await bot.send_voice(42, voice.file_id, reply_markup=markup)
    assert again.voice is not None and again.voice.file_id == voice.file_id
    assert again.voice.duration == 3, "a known file keeps its duration"
    await bot.send_message(42, "Vraag 1 van 2")
    assert user.inbox == ["[voice 3s] Hoi", "[voice 3s]", "Vraag 1 van 2"]
    assert [m.kind for m in user.messages] == ["voice", "voice", "text"]
    assert user.messages[1].labels == ["Ja"] and user.messages[1].file_id == voice.file_id
    downloaded = await (await bot.get_file(voice.file_id)).download_as_bytearray()
    assert bytes(downloaded) == OGG_OPUS
    assert "♪ [voice 3s] Hoi" in server.render_transcript()


async def test_send_voice_refusals(bot: Bot, server: LocalBotApi) -> None:
    user = server.user(42)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_voice(42, "AwACunknown")
    audio = server.state.store_file(MP3, "opname.mp3", "audio/mpeg", prefix="CQAC")
    with pytest.raises(BadRequest, match=r"(?i)type of file mismatch"):
        await bot.send_voice(42, audio.file_id)  # an audio file's id is no voice note
    with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
        await bot.send_voice(42, b"")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_voice(42, OGG_OPUS, caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_voice(7, OGG_OPUS)
    user.chat.voices_forbidden = True
    with pytest.raises(BadRequest, match=r"(?i)voice_messages_forbidden"):
        await bot.send_voice(42, OGG_OPUS)
    assert user.messages == []


async def test_a_person_sends_a_voice_note_the_bot_can_download(
    bot: Bot, server: LocalBotApi
) -> None:
    user = server.user(42, first_name="Sanne")
    update = await fetch(bot, user.send_voice(duration=5))
    voice = update.message.voice if update.message else None
    assert voice is not None and (voice.duration, voice.mime_type) == (5, "audio/ogg")
    assert update.message.text is None and update.message.caption is None
    file = await bot.get_file(voice.file_id)
    assert bytes(await file.download_as_bytearray()) == OGG_OPUS
    assert "Sanne ♪ [voice 5s]" in server.render_transcript()


async def test_audio_files_and_video_notes_come_as_their_kinds(
    bot: Bot, server: LocalBotApi
) -> None:
    user = server.user(42)
    update = await fetch(bot, user.send_audio(duration=7))
    audio = update.message.audio if update.message else None
    assert audio is not None and (audio.duration, audio.mime_type) == (7, "audio/mpeg")
    assert audio.file_name == "opname.mp3"
    update = await fetch(bot, user.send_video_note(duration=4))
    note = update.message.video_note if update.message else None
    assert note is not None and (note.duration, note.length) == (4, 240)
    assert update.message.voice is None
