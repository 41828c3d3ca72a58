"""Audio messages: an uploaded media id (kept 30 days) or a link, checked like Meta does."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.wasim import LocalWhatsApp
from bot.wasim.media import OGG_STUB
from tests.wasim.conftest import Graph, Receiver

AMIRA = "31611111111"


async def upload(graph: Graph, data: bytes = OGG_STUB, kind: str = "audio/ogg") -> str:
    """POST /{phone-number-id}/media as the bot does; the media id."""
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", kind)
    form.add_field("file", data, filename="voice.ogg", content_type=kind)
    url = f"{graph.server.base_url}/{graph.server.phone_number_id}/media"
    async with graph.session.post(url, data=form) as response:
        answer = await response.json()
        assert response.status == 200, answer
        return str(answer["id"])


async def audio(graph: Graph, **fields: Any) -> tuple[int, dict[str, Any]]:
    return await graph.send({"to": AMIRA, "type": "audio", "audio": fields})


async def test_a_voice_note_by_media_id_then_the_question_in_order(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    amira = server.user(AMIRA, name="Amira")
    await amira.send("hoi")
    media_id = await upload(graph)
    assert [media.media_id for media in server.media.uploads] == [media_id]
    status, answer = await audio(graph, id=media_id, voice=True)
    assert status == 200 and answer["messages"][0]["id"].startswith("wamid.")
    assert (await audio(graph, link="https://example.org/uitleg.ogg"))[0] == 200
    assert (await graph.text(AMIRA, "Vraag 1 van 2"))[0] == 200
    assert amira.inbox == ["[voice]", "[audio]", "Vraag 1 van 2"]
    assert amira.messages[0].media_id == media_id and amira.messages[1].media_id is None
    assert [send.type for send in server.sends] == ["audio", "audio", "text"]
    assert "[whatsapp] bot → Amira: (audio) [voice]" in server.render_transcript()


@pytest.mark.parametrize(
    ("fields", "code", "details"),
    [
        ({"id": "1234567890123456"}, 100, "is not a valid whatsapp business account media"),
        ({}, 131009, "audio needs an id or a link"),
        ({"id": "x", "link": "https://example.org/a.ogg"}, 131009, "not both"),
        ({"link": "ftp://example.org/a.ogg"}, 131009, "http(s) URL"),
        ({"link": "https://example.org/a.ogg", "voice": "yes"}, 131009, "audio.voice"),
    ],
)
async def test_bad_audio_is_refused_like_meta(
    server: LocalWhatsApp,
    graph: Graph,
    receiver: Receiver,
    fields: dict[str, Any],
    code: int,
    details: str,
) -> None:
    await server.user(AMIRA).send("hoi")
    status, answer = await audio(graph, **fields)
    assert (status, answer["error"]["code"]) == (400, code)
    assert details in answer["error"]["error_data"]["details"]
    assert server.sends == []


async def test_media_is_gone_after_30_days_and_the_window_still_counts(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    amira = server.user(AMIRA)
    media_id = await upload(graph)
    status, answer = await audio(graph, id=media_id)
    assert (status, answer["error"]["code"]) == (400, 131047), "free-form: the window counts"
    await amira.send("hoi")
    server.clock_offset = 29 * 24 * 3600.0
    await amira.send("nog steeds hier")
    assert (await audio(graph, id=media_id))[0] == 200
    server.clock_offset = 30 * 24 * 3600.0 + 1
    await amira.send("en nu?")
    status, answer = await audio(graph, id=media_id)
    assert (status, answer["error"]["code"]) == (400, 100)
    async with graph.session.get(f"{server.base_url}/{media_id}") as response:
        assert (await response.json())["error"]["code"] == 100


async def test_an_upload_of_a_type_meta_refuses(server: LocalWhatsApp, graph: Graph) -> None:
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", "audio/wav")
    form.add_field("file", b"RIFF", filename="v.wav", content_type="audio/wav")
    url = f"{server.base_url}/{server.phone_number_id}/media"
    async with graph.session.post(url, data=form) as response:
        assert (response.status, (await response.json())["error"]["code"]) == (400, 100)
    assert server.media.uploads == []
