"""The Graph API side: validation, the 24-hour window, throughput, tokens and media."""

from __future__ import annotations

import aiohttp
import pytest

from bot.wasim import LocalWhatsApp
from tests.wasim.conftest import Graph, Receiver


def buttons(*titles: str) -> dict[str, object]:
    """Reply buttons with these titles."""
    items = [{"type": "reply", "reply": {"id": f"b{i}", "title": t}} for i, t in enumerate(titles)]
    return {"type": "button", "body": {"text": "Hoe gaat het?"}, "action": {"buttons": items}}


def a_list(rows: int) -> dict[str, object]:
    """A list with one section of `rows` rows."""
    items = [{"id": f"r{i}", "title": f"Optie {i}"} for i in range(rows)]
    section = {"title": "Opties", "rows": items}
    return {
        "type": "list",
        "body": {"text": "Kies"},
        "action": {"button": "Kies", "sections": [section]},
    }


@pytest.mark.parametrize(
    ("interactive", "field"),
    [
        (buttons("Goed", "Dit is veel te lang voor een knop"), "buttons[1].reply.title"),
        (buttons("A", "B", "C", "D"), "interactive.action.buttons: 4 items"),
        (buttons("A", "A"), "reply.title must be unique"),
        (a_list(11), "11 items"),
    ],
)
async def test_invalid_interactive_is_refused_with_131009(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver, interactive: object, field: str
) -> None:
    await server.user("31611111111", name="Amira").send("hoi")
    status, answer = await graph.send(
        {"to": "31611111111", "type": "interactive", "interactive": interactive}
    )
    assert status == 400
    assert answer["error"]["code"] == 131009
    assert field in answer["error"]["error_data"]["details"]
    assert server.rejected[-1][1:] == ("31611111111", 131009)
    assert server.sends == []


async def test_window_closes_after_24_hours_and_a_message_reopens_it(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    amira = server.user("31611111111", name="Amira")
    status, answer = await graph.text("31611111111", "Hallo")
    assert (status, answer["error"]["code"]) == (400, 131047)
    template = {
        "name": "achterban_round",
        "language": {"code": "nl"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ronde"}]}],
    }
    status, answer = await graph.send(
        {"to": "+31 6 1111 1111", "type": "template", "template": template}
    )
    assert status == 200
    assert answer["contacts"] == [{"input": "+31 6 1111 1111", "wa_id": "31611111111"}]
    assert amira.last is not None and amira.last.body == "Ronde"
    assert amira.last.titles == ["Start", "Niet nu"]
    assert not amira.window_open()  # a template opens no window
    await amira.send("hoi")
    assert (await graph.text("31611111111", "Welkom"))[0] == 200
    server.clock_offset = 24 * 3600 + 1
    assert (await graph.text("31611111111", "Nog daar?"))[1]["error"]["code"] == 131047
    unknown = {"name": "achterban_round", "language": {"code": "de"}}
    status, answer = await graph.send(
        {"to": "31611111111", "type": "template", "template": unknown}
    )
    assert (status, answer["error"]["code"]) == (404, 132001)
    assert [s.type for s in server.sends] == ["template", "text"]


async def test_excess_sends_in_one_second_get_130429(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    server.statuses = "none"
    await server.user("31611111111").send("hoi")
    server.messages_per_second = 3
    codes = [(await graph.text("31611111111", f"bericht {i}"))[0] for i in range(5)]
    assert codes == [200, 200, 200, 400, 400]
    assert [code for _, _, code in server.rejected] == [130429, 130429]


async def test_tokens_and_unknown_numbers(server: LocalWhatsApp, graph: Graph) -> None:
    url = f"{server.base_url}/{server.phone_number_id}/messages"
    async with (
        aiohttp.ClientSession(trust_env=False) as anonymous,
        anonymous.post(url, json={"messaging_product": "whatsapp"}) as response,
    ):
        assert response.status == 401
        assert (await response.json())["error"]["code"] == 190
    server.token_expired = True
    assert (await graph.text("31611111111", "x"))[0] == 401
    server.token_expired = False
    status, _ = await graph.send({"to": "1", "type": "text", "text": {"body": "x"}})
    assert status == 200  # unknown number: accepted, fails by webhook (131026)
    async with graph.session.post(f"{server.base_url}/999/messages", json={}) as response:
        assert (response.status, (await response.json())["error"]["code"]) == (400, 100)


async def test_media_upload_get_download_round_trip(server: LocalWhatsApp, graph: Graph) -> None:
    form = aiohttp.FormData()
    form.add_field("messaging_product", "whatsapp")
    form.add_field("type", "audio/ogg")
    form.add_field("file", b"OggS-voice", filename="v.ogg", content_type="audio/ogg")
    upload = f"{server.base_url}/{server.phone_number_id}/media"
    async with graph.session.post(upload, data=form) as response:
        assert response.status == 200
        media_id = (await response.json())["id"]
    async with graph.session.get(f"{server.base_url}/{media_id}") as response:
        info = await response.json()
    assert info["mime_type"] == "audio/ogg" and info["file_size"] == 10
    async with graph.session.get(info["url"]) as response:
        assert await response.read() == b"OggS-voice"
    async with aiohttp.ClientSession(trust_env=False) as anonymous, anonymous.get(info["url"]) as r:
        assert r.status == 401
    assert server.calls["media"] == 1
