"""Check an outbound message the way the Cloud API does; refuse with 131009 naming the field."""

from __future__ import annotations

from collections.abc import Mapping

from bot.wasim.errors import JSON, GraphError, invalid

TYPES = ("text", "interactive", "template", "audio")


def text_field(value: object, field: str, low: int, high: int) -> str:
    """A string of low..high characters, else 131009."""
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string")
    if not low <= len(value) <= high:
        raise invalid(f"{field}: length {len(value)}, must be {low} to {high} characters")
    return value


def object_field(value: object, field: str) -> JSON:
    """A JSON object, else 131009."""
    if not isinstance(value, dict):
        raise invalid(f"{field} must be an object")
    return value


def list_field(value: object, field: str, low: int, high: int) -> list[object]:
    """A JSON array of low..high items, else 131009."""
    if not isinstance(value, list):
        raise invalid(f"{field} must be an array")
    if not low <= len(value) <= high:
        raise invalid(f"{field}: {len(value)} items, must be {low} to {high}")
    return value


def check_text(payload: JSON) -> None:
    """text: body of 1..4096 characters, optional preview_url."""
    text = object_field(payload.get("text"), "text")
    text_field(text.get("body"), "text.body", 1, 4096)
    if not isinstance(text.get("preview_url", False), bool):
        raise invalid("text.preview_url must be a boolean")


def _check_header_footer(interactive: JSON) -> None:
    """Optional text header and footer of at most 60 characters."""
    if "header" in interactive:
        header = object_field(interactive["header"], "interactive.header")
        if header.get("type") != "text":
            raise invalid("interactive.header.type: only text headers are supported here")
        text_field(header.get("text"), "interactive.header.text", 1, 60)
    if "footer" in interactive:
        footer = object_field(interactive["footer"], "interactive.footer")
        text_field(footer.get("text"), "interactive.footer.text", 1, 60)


def _unique(values: list[str], field: str) -> None:
    """No value twice, else 131009."""
    if len(set(values)) != len(values):
        raise invalid(f"{field} must be unique")


def _check_buttons(action: JSON) -> None:
    """1..3 reply buttons, id 1..256, title 1..20, ids and titles unique."""
    buttons = list_field(action.get("buttons"), "interactive.action.buttons", 1, 3)
    ids, titles = [], []
    for index, item in enumerate(buttons):
        field = f"interactive.action.buttons[{index}]"
        button = object_field(item, field)
        if button.get("type") != "reply":
            raise invalid(f"{field}.type must be reply")
        reply = object_field(button.get("reply"), f"{field}.reply")
        ids.append(text_field(reply.get("id"), f"{field}.reply.id", 1, 256))
        titles.append(text_field(reply.get("title"), f"{field}.reply.title", 1, 20))
    _unique(ids, "interactive.action.buttons[].reply.id")
    _unique(titles, "interactive.action.buttons[].reply.title")


def _check_list(action: JSON) -> None:
    """A list: button 1..20, 1..10 sections, 1..10 rows in all, unique row ids."""
    text_field(action.get("button"), "interactive.action.button", 1, 20)
    sections = list_field(action.get("sections"), "interactive.action.sections", 1, 10)
    row_ids: list[str] = []
    for s_index, item in enumerate(sections):
        field = f"interactive.action.sections[{s_index}]"
        section = object_field(item, field)
        if "title" in section or len(sections) > 1:
            text_field(section.get("title"), f"{field}.title", 1, 24)
        rows = list_field(section.get("rows"), f"{field}.rows", 1, 10)
        for r_index, row_item in enumerate(rows):
            row_field = f"{field}.rows[{r_index}]"
            row = object_field(row_item, row_field)
            row_ids.append(text_field(row.get("id"), f"{row_field}.id", 1, 200))
            text_field(row.get("title"), f"{row_field}.title", 1, 24)
            if "description" in row:
                text_field(row["description"], f"{row_field}.description", 0, 72)
    if len(row_ids) > 10:
        raise invalid(f"interactive.action.sections: {len(row_ids)} rows, at most 10 in all")
    _unique(row_ids, "interactive.action.sections[].rows[].id")


def check_interactive(payload: JSON) -> None:
    """interactive: reply buttons or a list."""
    interactive = object_field(payload.get("interactive"), "interactive")
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        raise invalid(f"interactive.type {kind!r} is not supported (button, list)")
    body = object_field(interactive.get("body"), "interactive.body")
    text_field(body.get("text"), "interactive.body.text", 1, 1024)
    _check_header_footer(interactive)
    action = object_field(interactive.get("action"), "interactive.action")
    if kind == "button":
        _check_buttons(action)
    else:
        _check_list(action)


def check_template(
    payload: JSON,
    templates: Mapping[str, tuple[str, ...]],
    buttons: Mapping[str, Mapping[str, list[str]]],
) -> None:
    """template: an approved name in one of its languages; body texts and quick-reply payloads."""
    template = object_field(payload.get("template"), "template")
    name = text_field(template.get("name"), "template.name", 1, 512)
    language = object_field(template.get("language"), "template.language")
    code = language.get("code")
    if name not in templates or code not in templates[name]:
        raise GraphError(132001, f"template name ({name}) does not exist in {code}")
    titles = buttons.get(name, {}).get(str(code), [])
    components = list_field(template.get("components", []), "template.components", 0, 20)
    for index, item in enumerate(components):
        field = f"template.components[{index}]"
        component = object_field(item, field)
        kind = component.get("type")
        if kind not in ("header", "body", "button"):
            raise invalid(f"{field}.type {kind!r} is not valid (header, body, button)")
        parameters = list_field(component.get("parameters", []), f"{field}.parameters", 0, 100)
        if kind == "button":
            _check_quick_reply(component, parameters, field, len(titles))
            continue
        for p_index, parameter in enumerate(parameters):
            param = object_field(parameter, f"{field}.parameters[{p_index}]")
            if param.get("type") != "text":
                raise invalid(f"{field}.parameters[{p_index}].type: only text is supported here")
            text_field(param.get("text"), f"{field}.parameters[{p_index}].text", 1, 1024)


def _check_quick_reply(component: JSON, parameters: list[object], field: str, count: int) -> None:
    """A quick-reply button component: a valid index and one payload parameter."""
    if component.get("sub_type") != "quick_reply":
        raise invalid(f"{field}.sub_type must be quick_reply")
    index = component.get("index")
    if not isinstance(index, str | int) or not str(index).isdigit() or int(index) >= count:
        raise GraphError(132000, f"{field}.index {index!r}: the template has {count} buttons")
    for p_index, parameter in enumerate(parameters):
        param = object_field(parameter, f"{field}.parameters[{p_index}]")
        if param.get("type") != "payload":
            raise invalid(f"{field}.parameters[{p_index}].type must be payload")
        text_field(param.get("payload"), f"{field}.parameters[{p_index}].payload", 1, 256)


def check_audio(payload: JSON, media_ids: set[str] | Mapping[str, object]) -> None:
    """audio: the id of an uploaded media (not older than 30 days) or an http(s) link, not
    both; `voice` (a voice note: .ogg with OPUS) a boolean."""
    audio = object_field(payload.get("audio"), "audio")
    if "id" in audio and "link" in audio:
        raise invalid("audio: give an id or a link, not both")
    if "id" in audio:
        media_id = text_field(audio["id"], "audio.id", 1, 64)
        if media_id not in media_ids:
            details = (
                f"Param audio['id'] {media_id!r} is not a valid whatsapp business account media"
                " attachment ID"
            )
            raise GraphError(100, details, message="(#100) Invalid parameter")
    elif "link" in audio:
        link = text_field(audio["link"], "audio.link", 1, 2048)
        if not link.startswith(("http://", "https://")):
            raise invalid("audio.link must be an http(s) URL")
    else:
        raise invalid("audio needs an id or a link")
    if not isinstance(audio.get("voice", False), bool):
        raise invalid("audio.voice must be a boolean")


def check_send(
    payload: JSON,
    *,
    templates: Mapping[str, tuple[str, ...]],
    buttons: Mapping[str, Mapping[str, list[str]]],
    media_ids: Mapping[str, object],
) -> str:
    """Validate a send request; its type."""
    recipient_type = payload.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise invalid(f"recipient_type {recipient_type!r} is not supported (individual)")
    kind = payload.get("type", "text")
    if kind not in TYPES:
        raise invalid(f"type {kind!r} is not supported here ({', '.join(TYPES)})")
    if "context" in payload:
        context = object_field(payload["context"], "context")
        text_field(context.get("message_id"), "context.message_id", 1, 512)
    if kind == "text":
        check_text(payload)
    elif kind == "interactive":
        check_interactive(payload)
    elif kind == "template":
        check_template(payload, templates, buttons)
    else:
        check_audio(payload, media_ids)
    return str(kind)
