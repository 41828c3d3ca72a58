"""Telegram's HTML parse mode: validation, message entities and the plain text users see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
SUPPORTED_TAGS = frozenset(SIMPLE_TAGS) | {"a", "span", "blockquote", "tg-emoji"}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]*));")
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME = re.compile(r"[a-zA-Z0-9_-]+")
_UNQUOTED = re.compile(r"[^\s>\"']+")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; str() is the explanation."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text and its message entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[dict[str, object]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    entity: dict[str, object] | None
    start: int
    at: int


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def parse_html(source: str) -> ParsedText:
    """Parse text the way Telegram does for parse_mode HTML; raise EntityParseError."""
    return _Parser(source).run()


class _Parser:
    """A single pass over the source, keeping a stack of open tags."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, object]] = []

    def fail(self, message: str, at: int) -> EntityParseError:
        """An error naming the UTF-8 byte offset, like Telegram's messages."""
        byte_offset = len(self.source[:at].encode("utf-8"))
        return EntityParseError(f"{message} at byte offset {byte_offset}")

    def emit(self, text: str) -> None:
        """Append visible text."""
        self.out.append(text)
        self.offset += utf16_len(text)

    def run(self) -> ParsedText:
        """Parse the whole source."""
        source = self.source
        while self.pos < len(source):
            char = source[self.pos]
            if char == "<":
                self.tag()
            elif char == "&":
                self.entity()
            elif char == ">":
                raise self.fail('Unescaped ">" (write &gt;)', self.pos)
            else:
                end = self.pos
                while end < len(source) and source[end] not in "<&>":
                    end += 1
                self.emit(source[self.pos : end])
                self.pos = end
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e["offset"], -int(e["length"])))  # type: ignore[call-overload]
        return ParsedText("".join(self.out), self.entities)

    def entity(self) -> None:
        """Decode one character reference."""
        match = _ENTITY.match(self.source, self.pos)
        if match is None:
            raise self.fail('Unescaped "&" (write &amp;)', self.pos)
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            if name not in NAMED_ENTITIES:
                raise self.fail(f'Unsupported HTML entity "&{name};"', self.pos)
            self.emit(NAMED_ENTITIES[name])
        else:
            code = int(decimal) if decimal is not None else int(hexadecimal, 16)
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise self.fail(f'Invalid character reference "{match.group(0)}"', self.pos)
            self.emit(chr(code))
        self.pos = match.end()

    def tag(self) -> None:
        """Handle a start or end tag at the current position."""
        if self.source.startswith("</", self.pos):
            self.end_tag()
        else:
            self.start_tag()

    def end_tag(self) -> None:
        """Close the innermost open tag, which must have the same name."""
        at = self.pos
        match = _TAG_NAME.match(self.source, at + 2)
        name = match.group(0).lower() if match else ""
        close = self.source.find(">", at)
        if match is None or close == -1 or self.source[match.end() : close].strip():
            raise self.fail("Unclosed end tag", at)
        if not self.stack:
            raise self.fail(f'Unexpected end tag "</{name}>"', at)
        top = self.stack.pop()
        if top.name != name:
            expected = f"</{top.name}>"
            raise self.fail(f'Unmatched end tag, expected "{expected}", found "</{name}>"', at)
        if top.entity is not None and self.offset > top.start:
            top.entity["offset"] = top.start
            top.entity["length"] = self.offset - top.start
            self.entities.append(top.entity)
        self.pos = close + 1

    def start_tag(self) -> None:
        """Open a supported tag and remember the entity it starts."""
        at = self.pos
        match = _TAG_NAME.match(self.source, at + 1)
        if match is None:
            raise self.fail('Unescaped "<" (write &lt;)', at)
        name = match.group(0).lower()
        if name not in SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{name}"', at)
        attrs, self.pos = self.attributes(match.end(), at)
        self.stack.append(_OpenTag(name, self.entity_for(name, attrs, at), self.offset, at))

    def attributes(self, pos: int, at: int) -> tuple[dict[str, str], int]:
        """Read attributes up to and including the closing ">"."""
        source = self.source
        attrs: dict[str, str] = {}
        while True:
            while pos < len(source) and source[pos].isspace():
                pos += 1
            if pos >= len(source):
                raise self.fail("Unclosed start tag", at)
            if source[pos] == ">":
                return attrs, pos + 1
            name_match = _ATTR_NAME.match(source, pos)
            if name_match is None:
                raise self.fail("Unexpected character in start tag", pos)
            name, pos = name_match.group(0).lower(), name_match.end()
            value = ""
            if source.startswith("=", pos):
                value, pos = self.attribute_value(pos + 1, at)
            attrs[name] = value

    def attribute_value(self, pos: int, at: int) -> tuple[str, int]:
        """Read a quoted or unquoted attribute value, decoding character references."""
        source = self.source
        if pos < len(source) and source[pos] in "\"'":
            end = source.find(source[pos], pos + 1)
            if end == -1:
                raise self.fail("Unclosed start tag", at)
            raw, pos = source[pos + 1 : end], end + 1
        else:
            match = _UNQUOTED.match(source, pos)
            if match is None:
                raise self.fail("Empty attribute value", pos)
            raw, pos = match.group(0), match.end()
        try:
            return parse_html(raw.replace("<", "&lt;").replace(">", "&gt;")).text, pos
        except EntityParseError:
            raise self.fail("Invalid character reference in attribute value", at) from None

    def entity_for(self, name: str, attrs: dict[str, str], at: int) -> dict[str, object] | None:
        """The message entity a start tag opens, or None for tags without one."""
        if name in SIMPLE_TAGS:
            if name == "code" and self.stack and self.stack[-1].name == "pre":
                language = attrs.get("class", "")
                pre = self.stack[-1].entity
                if language.startswith("language-") and pre is not None:
                    pre["language"] = language.removeprefix("language-")
                    return None
            return {"type": SIMPLE_TAGS[name]}
        if name == "a":
            href = attrs.get("href")
            return {"type": "text_link", "url": href} if href else None
        if name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise self.fail('Tag "span" must have class "tg-spoiler"', at)
            return {"type": "spoiler"}
        if name == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise self.fail('Tag "tg-emoji" must have attribute "emoji-id"', at)
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
