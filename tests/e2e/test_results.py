"""/results (/uitslag): the picker, the threshold at k-1, k and k+1, every question kind, and
the breakdown per group with its second hidden cells, all over HTTP against the real bot."""

from __future__ import annotations

import pytest

from bot.botapi import LocalBotApi, SimUser
from storage.models import Role
from tests.builders import answered_poll, make_invite, poll_button, sign_up
from tests.e2e.conftest import RunningBot

ONE = [{"kind": "single", "text": "Hoe was het gesprek?", "options": ["Goed", "Slecht"]}]
RICH = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Matig", "Slecht"]},
    {"kind": "faces", "text": "Hoe voel je je?"},
    {"kind": "priorities", "text": "Wat eerst?", "options": ["Sport", "Eten", "Rust", "School"]},
    {"kind": "open_text", "text": "Wat wil je nog kwijt?"},
    {"kind": "multiple", "text": "Wat doe je graag?", "options": ["Lezen", "Gamen", "Koken"]},
]


async def council_member(api: LocalBotApi, bot: RunningBot, user_id: int = 800) -> SimUser:
    member = api.user(user_id, first_name="Raadslid")
    await sign_up(member, await make_invite(bot.db, role=Role.council))
    return member


@pytest.mark.parametrize(
    ("picks", "expected", "absent"),
    [
        (
            [1, 1, 1, 2],
            [
                "4 mensen kregen de peiling; nog minder dan 5 gaven antwoord.",
                "Nog niet genoeg antwoorden",
            ],
            ["Goed", "▓"],
        ),
        (
            [1, 1, 1, 1, 1],
            [
                "5 van de 5 mensen gaven antwoord (100%)",
                "▓▓▓▓▓▓▓▓▓▓ 100% Goed (5)",
                "Slecht (minder dan 5)",
            ],
            ["(0)"],
        ),
        (
            [1, 1, 1, 1, 1, 2],
            [
                "6 van de 6 mensen gaven antwoord (100%)",
                "Goed (verborgen, zodat een klein aantal geheim blijft)",
                "Slecht (minder dan 5)",
            ],
            ["(5)", "(1)", "83%"],
        ),
    ],
    ids=["k-1", "k", "k+1"],
)
async def test_results_at_the_threshold(
    api: LocalBotApi, bot: RunningBot, picks: list[int], expected: list[str], absent: list[str]
) -> None:
    member = await council_member(api, bot)
    await answered_poll(bot.db, questions=ONE, answers=[((), [pick]) for pick in picks])

    await member.command("uitslag")
    assert member.last.text == "Van welke peiling wil je de uitslag zien?"
    await member.press(poll_button(member, "De peiling"))

    text = member.last.text
    for part in expected:
        assert part in text
    for part in absent:
        assert part not in text


async def test_results_by_number_show_every_kind_of_question(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    answers = [
        ((), [1, 5, [1, 2, 3], "Meer sport graag", [1, 2]]),
        ((), [1, 5, [1, 3, 2], "<b>Niet vet</b>", [1, 2]]),
        ((), [1, 4, [1, 2, 4], "Prima zo", [1]]),
        ((), [1, 4, [1, 4, 3], None, [1, 2]]),
        ((), [1, 4, [1, 2, 3], "Top", [1, 2]]),
        ((), [2, 4, [2, 1, 3], "Leuk", [1, 2, 3]]),
    ]
    poll_id = await answered_poll(bot.db, questions=RICH, answers=answers, asked=10)

    await member.command("uitslag", str(poll_id))
    text = "\n".join(message.text for message in member.messages[-2:])
    assert "6 van de 10 mensen gaven antwoord (60%)" in text
    assert "▓▓▓▓▓▓▓▓░░ 83% Goed (5)" in text, "Matig 0 and Slecht 1 can be 0+1 or 1+0"
    assert "Slecht (minder dan 5)" in text
    assert "🙂 (minder dan 5)" in text and "😄 (minder dan 5)" in text
    assert "Gemiddeld" not in text, "a mean of hidden counts could give them away"
    assert "1. Sport – 5 keer als eerste" in text, "ranked first by 5 of 6"
    assert "2. Eten – minder dan 5 keer als eerste" in text
    assert "punten" not in text, "points only when every rank count may be shown"
    assert "5 antwoorden\nIn willekeurige volgorde:" in text, "one skipped the open question"
    assert "• <b>Niet vet</b>" in text, "typed HTML is shown literally"
    assert "100% Lezen (6)" in text, "all 6 chose it; the 0 who did not is no small group"
    assert "Gamen (minder dan 5)" in text, "5 of 6 chose it: the 1 who did not would show"
    assert member.last.labels == ["📊 Als plaatje", "📄 Als bestand (Excel)"]


async def test_an_open_poll_shows_only_its_response(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    poll_id = await answered_poll(
        bot.db, questions=ONE, answers=[((), [1])] * 6, asked=8, closed=False
    )

    await member.command("uitslag", str(poll_id))

    assert "6 van de 8 mensen gaven antwoord (75%)" in member.last.text
    assert "De uitslag is te zien als de peiling sluit" in member.last.text
    assert "Goed" not in member.last.text


async def test_a_poll_of_another_council_is_not_found(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    other = await answered_poll(bot.db, questions=ONE, answers=[((), [1])] * 6, council="west")

    for command in ("uitslag", "grafiek", "exporteer"):
        await member.command(command, str(other))
        assert member.last.text.startswith(f"Ik kan peiling {other} niet vinden bij jouw raad.")
    await member.command("uitslag", "999999")
    assert "Ik kan peiling 999999 niet vinden" in member.last.text
    await member.press_data(f"rs:v:{other}")
    assert "Goed" not in member.last.text


SEGMENTS = (
    [(("locatie:noord",), [1])] * 7
    + [(("locatie:noord",), [2])] * 2
    + [(("locatie:zuid",), [1])] * 8
    + [(("locatie:zuid",), [2])] * 6
    + [(("locatie:west",), [1])] * 9
    + [(("locatie:west",), [2])] * 7
)


async def test_breakdown_hides_a_second_cell_where_a_total_would_give_it_away(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    poll_id = await answered_poll(bot.db, questions=ONE, answers=SEGMENTS)

    await member.command("uitslag", str(poll_id), "locatie")

    text = member.last.text
    assert "De peiling – per locatie" in text
    lines = [line.split() for line in text.splitlines()]
    assert ["noord", "west", "zuid"] in lines
    # Noord has 2 "Slecht": hidden. 7 "Goed" in Noord would give it away (9 - 7), and so would
    # the 6 "Slecht" in Zuid (15 - 7 - 6): hidden as well, and then also Zuid's "Goed".
    assert ["Goed", "•", "9", "•"] in lines
    assert ["Slecht", "<5", "7", "•"] in lines
    assert ["aantal", "9", "16", "14"] in lines
    assert "<5 = minder dan 5 · • = verborgen" in text


async def test_breakdown_buttons_and_unknown_groups(api: LocalBotApi, bot: RunningBot) -> None:
    member = await council_member(api, bot)
    poll_id = await answered_poll(bot.db, questions=ONE, answers=SEGMENTS)

    await member.command("uitslag", str(poll_id))
    assert member.last.labels[0] == "Per locatie"
    await member.press("Per locatie")
    assert "per locatie" in member.last.text

    await member.command("uitslag", str(poll_id), "leeftijd")
    assert member.last.text == "Ik ken geen groep “leeftijd” bij deze peiling. Kies er een: locatie"
    assert member.last.labels == ["Per locatie"]
    assert await member.press_data(f"rs:b:{poll_id}:x:y") == (
        "Deze knop werkt niet meer. Typ /hulp om te zien wat je kunt doen."
    )


async def test_a_group_smaller_than_k_keeps_its_size_secret(
    api: LocalBotApi, bot: RunningBot
) -> None:
    member = await council_member(api, bot)
    answers = [(("locatie:noord",), [1])] * 6 + [(("locatie:zuid",), [1])] * 6
    answers += [(("locatie:west",), [2])] * 2
    poll_id = await answered_poll(bot.db, questions=ONE, answers=answers)

    await member.command("uitslag", str(poll_id), "locatie")

    lines = [line.split() for line in member.last.text.splitlines()]
    # West's 2 would follow from 14 - 6 - 6; with Noord's size hidden it may be 0, 1 or 2.
    assert ["aantal", "•", "<5", "6"] in lines
    assert ["Goed", "6", "<5", "6"] in lines
    assert ["Slecht", "<5", "<5", "<5"] in lines
