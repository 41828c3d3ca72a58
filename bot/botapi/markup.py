"""Reply markup: Telegram's validation of keyboards and a readable view of buttons."""

from __future__ import annotations

from dataclasses import dataclass

from bot.botapi.errors import ApiError, bad_request

MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
        "web_app",
    }
)
URL_SCHEMES = ("http://", "https://", "tg://")


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as a user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


def _markup_error() -> ApiError:
    return bad_request("can't parse reply keyboard markup JSON object")


def validate_reply_markup(markup: object, *, inline_only: bool = False) -> dict[str, object] | None:
    """Check reply_markup like Telegram does; return it, or None when absent."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _markup_error()
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    elif not (markup.get("remove_keyboard") is True or markup.get("force_reply") is True):
        raise _markup_error()
    return markup


def _rows(keyboard: object) -> list[list[object]]:
    """The rows of a keyboard, which must be an array of arrays."""
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _markup_error()
    return keyboard


def _check_inline_keyboard(keyboard: object) -> None:
    """Every inline button needs text and exactly one valid action."""
    rows = _rows(keyboard)
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise bad_request("can't parse inline keyboard button: Object expected")
            actions = BUTTON_ACTIONS.intersection(button)
            if not button.get("text") or not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(URL_SCHEMES):
                    raise bad_request(f"inline keyboard button URL '{url}' is invalid")


def _check_reply_keyboard(keyboard: object) -> None:
    """Every reply keyboard button is a non-empty string or an object with text."""
    for row in _rows(keyboard):
        for button in row:
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise bad_request("keyboard button text is empty")


def inline_buttons(markup: dict[str, object] | None) -> list[list[Button]]:
    """The inline buttons of a markup, row by row (empty for other markups)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row]
        for row in markup["inline_keyboard"]  # type: ignore[union-attr]
    ]


def reply_keyboard_labels(markup: dict[str, object] | None) -> list[list[str]] | None:
    """The labels of a reply keyboard, or None when the markup is not one."""
    if not markup or "keyboard" not in markup:
        return None
    return [
        [b["text"] if isinstance(b, dict) else str(b) for b in row]
        for row in markup["keyboard"]  # type: ignore[union-attr]
    ]
