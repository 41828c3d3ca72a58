"""Bot API methods that send, edit and delete messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.botapi.errors import ApiError, bad_request
from bot.botapi.html_entities import EntityParseError, ParsedText, parse_html
from bot.botapi.markup import reply_keyboard_labels, validate_reply_markup
from bot.botapi.params import Params
from bot.botapi.state import Chat, StoredFile, StoredMessage

if TYPE_CHECKING:
    from bot.botapi.server import LocalBotApi

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
OGG = b"OggS"
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF", b"BM")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same"
    " as a current content and reply markup of the message"
)


def parse_formatted(p: Params, key: str, mode_key: str, entities_key: str) -> ParsedText | None:
    """Text or caption after entity parsing, or None when absent."""
    source = p.opt_str(key)
    if source is None:
        return None
    mode = p.opt_str(mode_key)
    if not mode:
        entities = p.raw(entities_key)
        return ParsedText(source, entities if isinstance(entities, list) else [])
    if mode.lower() != "html":
        raise bad_request(f"unsupported parse_mode {mode!r} (LocalBotApi implements HTML only)")
    try:
        return parse_html(source)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def message_text(p: Params) -> ParsedText:
    """The text of sendMessage/editMessageText, within Telegram's limits."""
    parsed = parse_formatted(p, "text", "parse_mode", "entities")
    if parsed is None or not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > MAX_TEXT:
        raise bad_request("message is too long")
    return parsed


def caption(p: Params) -> ParsedText | None:
    """The caption of a photo or document, within Telegram's limit."""
    parsed = parse_formatted(p, "caption", "parse_mode", "caption_entities")
    if parsed is not None and len(parsed.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return parsed if parsed is not None and parsed.text else None


def reply_target(chat: Chat, p: Params) -> StoredMessage | None:
    """The message to reply to, from reply_parameters or reply_to_message_id."""
    parameters = p.raw("reply_parameters")
    spec = parameters if isinstance(parameters, dict) else {}
    message_id = spec.get("message_id", p.opt_int("reply_to_message_id"))
    if message_id is None:
        return None
    target = chat.live(int(message_id))
    lenient = spec.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply")
    if target is None and not lenient:
        raise bad_request("message to be replied not found")
    return target


def store_bot_message(
    api: LocalBotApi, chat: Chat, p: Params, kind: str, **fields: object
) -> StoredMessage:
    """Validate markup and reply, store the bot's new message and note it."""
    markup = validate_reply_markup(p.raw("reply_markup"))
    keyboard = reply_keyboard_labels(markup)
    inline = markup if markup and "inline_keyboard" in markup else None
    target = reply_target(chat, p)
    message = chat.add(
        sender=api.bot_user,
        from_bot=True,
        kind=kind,
        reply_markup=inline,
        reply_to=target,
        **fields,
    )
    if keyboard is not None:
        chat.reply_keyboard = keyboard
    elif markup and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
    api.note_bot_message(message, "send")
    return message


async def send_message(api: LocalBotApi, p: Params) -> object:
    """sendMessage."""
    chat = api.state.chat(p.chat_id())
    parsed = message_text(p)
    html = p.opt_str("text")
    message = store_bot_message(
        api, chat, p, "text", html=html, text=parsed.text, entities=parsed.entities
    )
    return message.to_dict()


def input_file(
    api: LocalBotApi,
    p: Params,
    key: str,
    *,
    duration: int = 0,
    prefix: str = "BQAC",
) -> StoredFile:
    """The file of sendPhoto/sendDocument/sendVoice: an upload, a known file_id or a URL (a
    known file keeps what it is; a new one gets `duration` and a file_id with `prefix`). A
    known file of another kind is no voice note: Telegram answers "type of file mismatch"."""
    value = p.opt_str(key)
    upload = p.uploads.get(key)
    if value and value.startswith("attach://"):
        upload = p.uploads.get(value.removeprefix("attach://"))
    if upload is not None:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > MAX_DOCUMENT_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if key == "photo" and not upload.data.startswith(IMAGE_SIGNATURES):
            raise bad_request("IMAGE_PROCESS_FAILED")
        mime = upload.content_type
        if key == "voice":
            mime = "audio/ogg" if upload.data.startswith(OGG) else mime or "audio/mpeg"
        return api.state.store_file(
            upload.data, upload.filename, mime, duration=duration, prefix=prefix
        )
    if not value:
        raise bad_request(f"there is no {key} in the request")
    if value in api.state.files:
        known = api.state.files[value]
        if key == "voice" and not known.file_id.startswith(prefix):
            raise bad_request("type of file mismatch")  # an audio file or a video note
        return known
    if value.startswith(("http://", "https://")):
        name = value.rsplit("/", 1)[-1] or None
        mime = "audio/ogg" if key == "voice" else None
        return api.state.store_file(None, name, mime, duration=duration, prefix=prefix)
    raise bad_request("wrong file identifier/HTTP URL specified")


async def send_file(api: LocalBotApi, p: Params, kind: str) -> object:
    """sendPhoto and sendDocument."""
    chat = api.state.chat(p.chat_id())
    parsed = caption(p)
    stored = input_file(api, p, kind)
    text = parsed.text if parsed else None
    entities = parsed.entities if parsed else []
    html = p.opt_str("caption")
    fields = {"html": html, "text": text, "entities": entities, "file": stored}
    return store_bot_message(api, chat, p, kind, **fields).to_dict()


async def send_photo(api: LocalBotApi, p: Params) -> object:
    """sendPhoto."""
    return await send_file(api, p, "photo")


async def send_document(api: LocalBotApi, p: Params) -> object:
    """sendDocument."""
    return await send_file(api, p, "document")


async def send_voice(api: LocalBotApi, p: Params) -> object:
    """sendVoice: an upload (OGG/OPUS shows as a voice note), a known file_id or a URL, with
    an optional duration (seconds), caption and reply_markup."""
    chat = api.state.chat(p.chat_id())
    parsed = caption(p)
    duration = p.opt_int("duration")
    if duration is not None and duration < 0:
        raise bad_request("invalid duration specified")
    stored = input_file(api, p, "voice", duration=duration or 0, prefix="AwAC")
    if chat.voices_forbidden:
        raise bad_request("VOICE_MESSAGES_FORBIDDEN")
    text = parsed.text if parsed else None
    entities = parsed.entities if parsed else []
    fields = {"html": p.opt_str("caption"), "text": text, "entities": entities, "file": stored}
    return store_bot_message(api, chat, p, "voice", **fields).to_dict()


def editable(api: LocalBotApi, p: Params) -> StoredMessage:
    """The bot's own message an edit addresses."""
    if p.has("inline_message_id"):
        raise bad_request("message to edit not found")
    chat = api.state.chat(p.chat_id())
    message = chat.live(p.req_int("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def apply_edit(
    api: LocalBotApi,
    message: StoredMessage,
    parsed: ParsedText | None,
    html: str | None,
    markup: dict[str, object] | None,
) -> object:
    """Change a message unless nothing changes (Telegram's "not modified")."""
    text = parsed.text if parsed else None
    entities = parsed.entities if parsed else []
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    message.html, message.text, message.entities, message.reply_markup = (
        html,
        text,
        entities,
        markup,
    )
    message.edits += 1
    message.edit_date = max(message.date, api.now())
    api.note_bot_message(message, "edit")
    return message.to_dict()


async def edit_message_text(api: LocalBotApi, p: Params) -> object:
    """editMessageText."""
    message = editable(api, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    parsed = message_text(p)
    markup = validate_reply_markup(p.raw("reply_markup"), inline_only=True)
    return apply_edit(api, message, parsed, p.opt_str("text"), markup)


async def edit_message_caption(api: LocalBotApi, p: Params) -> object:
    """editMessageCaption."""
    message = editable(api, p)
    if message.kind == "text":
        raise bad_request("there is no caption in the message to edit")
    parsed = caption(p)
    markup = validate_reply_markup(p.raw("reply_markup"), inline_only=True)
    return apply_edit(api, message, parsed, p.opt_str("caption"), markup)


async def edit_message_reply_markup(api: LocalBotApi, p: Params) -> object:
    """editMessageReplyMarkup."""
    message = editable(api, p)
    markup = validate_reply_markup(p.raw("reply_markup"), inline_only=True)
    parsed = ParsedText(message.text, message.entities) if message.text is not None else None
    return apply_edit(api, message, parsed, message.html, markup)


async def delete_message(api: LocalBotApi, p: Params) -> object:
    """deleteMessage."""
    chat = api.state.chat(p.chat_id())
    message = chat.live(p.req_int("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    message.deleted = True
    api.note_bot_message(message, "delete")
    return True
