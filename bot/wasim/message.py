"""What a simulated user sees of a bot message: kind, texts and the choices it offers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS = {"text": "text", "template": "template", "audio": "audio"}


@dataclass(frozen=True)
class WaMessage:
    """One message the bot sent to a user, as accepted by the server."""

    wamid: str
    kind: str
    body: str
    header: str | None = None
    footer: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    button: str | None = None
    template: tuple[str, str] | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def media_id(self) -> str | None:
        """The uploaded media an audio message plays (None for a link or another kind)."""
        return self.payload.get("audio", {}).get("id") if self.kind == "audio" else None

    @property
    def shown(self) -> str:
        """What the user sees in a line: the text, or "[voice]" / "[audio]" for a sound."""
        if self.kind != "audio":
            return self.body
        return "[voice]" if self.payload["audio"].get("voice") else "[audio]"

    @property
    def titles(self) -> list[str]:
        """The titles of its reply buttons, list rows or template quick replies."""
        return [title for _, title in self.choices]

    def description(self, row_id: str) -> str | None:
        """A list row's description, if it has one."""
        if self.kind != "list":
            return None
        for section in self.payload["interactive"]["action"]["sections"]:
            for row in section["rows"]:
                if row["id"] == row_id:
                    return row.get("description")
        return None


def _interactive(wamid: str, payload: dict[str, Any]) -> WaMessage:
    """Reply buttons or a list."""
    interactive = payload["interactive"]
    action = interactive["action"]
    header = interactive.get("header", {}).get("text")
    footer = interactive.get("footer", {}).get("text")
    body = interactive["body"]["text"]
    if interactive["type"] == "button":
        choices = [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        return WaMessage(wamid, "buttons", body, header, footer, choices, payload=payload)
    rows = [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]
    return WaMessage(
        wamid, "list", body, header, footer, rows, button=action["button"], payload=payload
    )


def _template(
    wamid: str, payload: dict[str, Any], buttons: Mapping[str, Mapping[str, list[str]]]
) -> WaMessage:
    """A template: body = its text parameters joined by " | ", choices = its quick replies."""
    template = payload["template"]
    name, code = template["name"], template["language"]["code"]
    titles = list(buttons.get(name, {}).get(code, []))
    payloads = list(titles)  # Meta sends the button text as payload when none was given
    texts: list[str] = []
    header: str | None = None
    for component in template.get("components", []):
        parameters = component.get("parameters", [])
        if component["type"] == "button":
            for parameter in parameters[:1]:
                payloads[int(component["index"])] = parameter["payload"]
        elif component["type"] == "header":
            header = " | ".join(p["text"] for p in parameters) or None
        else:
            texts.extend(p["text"] for p in parameters)
    choices = list(zip(payloads, titles, strict=True))
    return WaMessage(
        wamid,
        "template",
        " | ".join(texts),
        header,
        None,
        choices,
        template=(name, code),
        payload=payload,
    )


def outbound(
    wamid: str, payload: dict[str, Any], buttons: Mapping[str, Mapping[str, list[str]]]
) -> WaMessage:
    """The user's view of an accepted send (payload already validated)."""
    kind = payload.get("type", "text")
    if kind == "interactive":
        return _interactive(wamid, payload)
    if kind == "template":
        return _template(wamid, payload, buttons)
    if kind == "audio":
        audio = payload["audio"]
        return WaMessage(wamid, "audio", str(audio.get("link", "")), payload=payload)
    return WaMessage(wamid, "text", payload["text"]["body"], payload=payload)
