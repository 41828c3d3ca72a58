"""Every command as every role: family, council member, staff, a stranger, and staff of another
council. Each command either works or is refused with a clear message, and nothing of one
council's polls ever reaches someone outside it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.botapi import LocalBotApi, SimUser
from bot.chat.commands import COMMANDS
from storage.models import Role
from storage.people import RANK
from tests.builders import answered_poll, make_invite, sign_up
from tests.e2e.conftest import RunningBot

SECRET_TITLE = "Peiling-Noord-7391"
SECRET_ANSWER = "Antwoord-Noord-5528"
QUESTIONS = [
    {"kind": "single", "text": "Hoe was het?", "options": ["Goed", "Slecht"]},
    {"kind": "open_text", "text": "Wat wil je kwijt?"},
]
TAKES_A_POLL = {"results", "chart", "export"}
LAST = ("stop", "forget")  # these change the account, so they go last
REFUSED = "Sorry, alleen"


@dataclass
class Participant:
    name: str
    user: SimUser
    role: Role | None
    own_council: bool


async def participants(api: LocalBotApi, bot: RunningBot) -> list[Participant]:
    found = []
    for number, (name, role, council) in enumerate(
        [
            ("family", Role.family, "noord"),
            ("council member", Role.council, "noord"),
            ("staff", Role.staff, "noord"),
            ("staff of another council", Role.staff, "west"),
        ]
    ):
        user = api.user(810 + number, first_name=name)
        await sign_up(user, await make_invite(bot.db, role=role, council=council))
        found.append(Participant(name, user, role, council == "noord"))
    found.append(Participant("stranger", api.user(820, first_name="stranger"), None, False))
    return found


def commands_in_order() -> list[str]:
    names = [name for name in COMMANDS if name not in LAST]
    return [*names, *LAST]


async def test_every_command_as_every_role(api: LocalBotApi, bot: RunningBot) -> None:
    people = await participants(api, bot)
    answers = [((), [1, SECRET_ANSWER])] * 6
    poll_id = await answered_poll(bot.db, questions=QUESTIONS, answers=answers, title=SECRET_TITLE)

    for someone in people:
        for name in commands_in_order():
            command = COMMANDS[name]
            before = len(someone.user.messages)
            args = [str(poll_id)] if name in TAKES_A_POLL else []
            await someone.user.command(command.alias, *args)
            replies = someone.user.messages[before:]
            said = "\n".join(message.text for message in replies)
            where = f"/{command.alias} as {someone.name}"
            assert replies, f"{where}: no answer at all"
            may = someone.role is not None and RANK[someone.role] >= RANK[command.role]
            if command.role is not Role.family:
                assert (REFUSED not in said) == may, f"{where}: {said[:200]}"
            if may and command.role is not Role.family:
                assert "Sorry" not in said, f"{where}: {said[:200]}"
            if not (someone.own_council and may):
                assert SECRET_TITLE not in said and SECRET_ANSWER not in said, f"{where} leaks"
                assert all(message.file is None for message in replies), f"{where} sent a file"
            if name in ("newpoll", "invite", "followup", "schedule"):
                await someone.user.command("annuleer")

    council_member = people[1].user
    await council_member.command("uitslag", str(poll_id))
    assert SECRET_ANSWER in council_member.last.text, "the council's own member sees it"
