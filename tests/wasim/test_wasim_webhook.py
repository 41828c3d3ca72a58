"""The webhook side: signed bodies, taps, statuses, asynchronous failures and retries."""

from __future__ import annotations

import pytest

from bot.wasim import LocalWhatsApp
from tests.wasim.conftest import Graph, Receiver

AMIRA = "31611111111"


async def test_webhook_bodies_are_signed_over_the_exact_bytes(
    server: LocalWhatsApp, receiver: Receiver
) -> None:
    amira = server.user(AMIRA, name="Amira", bsuid="NL.1234567890")
    wamid = await amira.send("hoi é/ü")
    assert amira.read_marks == [wamid] and amira.window_open()
    assert b"\\u00e9" in receiver.raw[0] and b"\\/" in receiver.raw[0]  # like Meta's bytes
    value = receiver.bodies[0]["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {
        "display_phone_number": "31201234567",
        "phone_number_id": "100200300",
    }
    assert value["contacts"] == [
        {"profile": {"name": "Amira"}, "wa_id": AMIRA, "user_id": "NL.1234567890"}
    ]
    assert value["messages"][0]["type"] == "text"
    assert value["messages"][0]["text"] == {"body": "hoi é/ü"}
    assert await server.post_webhook({"object": "x"}, signature="sha256=00") == 401
    assert await server.post_webhook({"object": "x"}, signature=None) == 401
    assert await server.post_webhook({"object": "x"}) == 200
    assert await server.redeliver_last() == 200
    assert receiver.raw[-1] == receiver.raw[0]


async def test_taps_on_buttons_and_template_quick_replies(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    amira = server.user(AMIRA, name="Amira")
    template = {
        "name": "achterban_round",
        "language": {"code": "en"},
        "components": [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "round:7:start"}],
            }
        ],
    }
    _, sent = await graph.send({"to": AMIRA, "type": "template", "template": template})
    await amira.tap("Start")
    tap = receiver.messages()[-1]
    assert tap["type"] == "button" and tap["button"] == {
        "payload": "round:7:start",
        "text": "Start",
    }
    assert tap["context"] == {"from": "31201234567", "id": sent["messages"][0]["id"]}
    buttons = [{"type": "reply", "reply": {"id": f"a:{t}", "title": t}} for t in ("Goed", "Slecht")]
    interactive = {
        "type": "button",
        "body": {"text": "Vraag 1 van 3"},
        "action": {"buttons": buttons},
    }
    assert (await graph.send({"to": AMIRA, "type": "interactive", "interactive": interactive}))[
        0
    ] == 200
    await amira.tap("Goed")
    assert receiver.messages()[-1]["interactive"]["button_reply"] == {
        "id": "a:Goed",
        "title": "Goed",
    }
    try:
        await amira.tap("Matig")
    except AssertionError as error:
        assert "[Goed] [Slecht]" in str(error)
    else:
        raise AssertionError("tapping a missing choice must fail")
    assert "[whatsapp] bot → Amira: Vraag 1 van 3 [Goed] [Slecht]" in server.render_transcript()


async def test_shuffled_and_duplicated_statuses(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    await server.user(AMIRA).send("hoi")
    server.statuses = "shuffled"
    _, answer = await graph.text(AMIRA, "een")
    await server.settle()
    assert receiver.statuses(answer["messages"][0]["id"]) == ["read", "sent", "delivered"]
    server.statuses = "duplicated"
    _, answer = await graph.text(AMIRA, "twee")
    await server.settle()
    assert receiver.statuses(answer["messages"][0]["id"]) == [
        "sent",
        "sent",
        "delivered",
        "delivered",
    ]


async def test_fail_next_and_fail_status(
    server: LocalWhatsApp, graph: Graph, receiver: Receiver
) -> None:
    amira = server.user(AMIRA)
    await amira.send("hoi")
    server.fail_next(131056, to=AMIRA)
    server.fail_next(131000)
    status, answer = await graph.text(AMIRA, "een")
    assert (status, answer["error"]["code"]) == (400, 131056)
    assert answer["error"]["message"].startswith("(#131056)")
    assert (await graph.text(AMIRA, "twee"))[0] == 500
    server.fail_status(131026, to=AMIRA)
    status, answer = await graph.text(AMIRA, "drie")
    assert status == 200
    await server.settle()
    wamid = answer["messages"][0]["id"]
    assert receiver.statuses(wamid) == ["sent", "failed"]
    failed = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert failed["errors"][0]["code"] == 131026
    assert amira.messages == []  # never delivered
    assert (await graph.text(AMIRA, "vier"))[0] == 200


async def test_a_failing_webhook_is_retried(server: LocalWhatsApp, receiver: Receiver) -> None:
    receiver.answers = [500, 503]
    await server.user(AMIRA).send("hoi")
    assert server.webhook_statuses == [500, 503, 200]
    assert len(receiver.messages()) == 1


async def test_a_message_the_bot_never_marks_read_fails_the_wait(
    server: LocalWhatsApp, receiver: Receiver
) -> None:
    receiver.mark_read = False
    server.read_timeout = 0.05
    amira = server.user(AMIRA)
    await amira.send("zonder wachten", wait=False)
    with pytest.raises(AssertionError, match=r"did not mark wamid .* as read"):
        await amira.send("hoi")
