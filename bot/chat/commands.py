"""Every command: its English name, its Dutch alias and who may use it. One source for
handlers, /help and the command menus."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Role
from storage.people import RANK


@dataclass(frozen=True)
class Command:
    name: str
    alias: str
    role: Role = Role.family
    in_menu: bool = True

    @property
    def names(self) -> list[str]:
        return [self.name] if self.alias == self.name else [self.name, self.alias]

    def shown_as(self, language: str) -> str:
        return self.alias if language == "nl" else self.name

    def allowed_for(self, role: Role | None) -> bool:
        return role is not None and RANK[role] >= RANK[self.role]


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command("start", "start", in_menu=False),
        Command("help", "hulp"),
        Command("privacy", "gegevens"),
        Command("language", "taal"),
        Command("pause", "pauze"),
        Command("resume", "hervat"),
        Command("stop", "stoppen"),
        Command("forget", "vergeet"),
        Command("cancel", "annuleer", in_menu=False),
        Command("newpoll", "nieuw", Role.council),
        Command("polls", "peilingen", Role.council),
        Command("results", "uitslag", Role.council),
        Command("chart", "grafiek", Role.council),
        Command("export", "exporteer", Role.council),
        Command("participation", "deelname", Role.council),
        Command("close", "sluiten", Role.council),
        Command("followup", "terugkoppeling", Role.council),
        Command("templates", "sjablonen", Role.council),
        Command("remind", "herinner", Role.council),
        Command("schedule", "planning", Role.council),
        Command("status", "status", Role.council),
        Command("invite", "uitnodigen", Role.staff),
        Command("invitation", "uitnodiging", Role.council),
        Command("candidates", "kandidaten", Role.staff),
    )
}


def names(command: str) -> list[str]:
    """The English name and Dutch alias of `command`, for a CommandHandler."""
    return COMMANDS[command].names


def known_command(word: str) -> bool:
    """True when `word` (without the slash) is any command name or alias."""
    return any(word in command.names for command in COMMANDS.values())


def menu_for(role: Role | None) -> list[Command]:
    """The commands someone with `role` sees in the menu (families: only their own)."""
    return [
        command
        for command in COMMANDS.values()
        if command.in_menu and command.allowed_for(role or Role.family)
    ]
