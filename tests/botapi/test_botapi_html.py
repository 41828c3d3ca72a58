"""Telegram's HTML rules: what parses, which entities come out, what is refused."""

from __future__ import annotations

import pytest

from bot.botapi.html_entities import EntityParseError, parse_html, utf16_len


def test_tags_become_entities_and_text_is_plain() -> None:
    parsed = parse_html('<b>Vet</b> &amp; <a href="https://x.nl/?a=1&amp;b=2">link</a>')
    assert parsed.text == "Vet & link"
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 3},
        {"type": "text_link", "url": "https://x.nl/?a=1&b=2", "offset": 6, "length": 4},
    ]


def test_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀 <i>mooi</i>")
    assert parsed.entities == [{"type": "italic", "offset": 3, "length": 4}]
    assert utf16_len("😀") == 2


def test_pre_with_language_and_spoilers_and_blockquote() -> None:
    source = (
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
    )
    types = [e["type"] for e in parse_html(source).entities]
    assert types == ["pre", "spoiler", "spoiler", "expandable_blockquote"]
    assert parse_html(source).entities[0]["language"] == "python"


def test_numeric_and_named_references_decode() -> None:
    assert parse_html("&lt;&gt;&quot;&#39;&#x41;").text == "<>\"'A"


@pytest.mark.parametrize(
    ("source", "explanation"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unescaped "<"'),
        ("a > b", 'Unescaped ">"'),
        ("Tom & Jerry", 'Unescaped "&"'),
        ("regel<br>regel", 'Unsupported start tag "br"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("&nbsp;", "Unsupported HTML entity"),
        ('<a href="x>y', "Unclosed start tag"),
    ],
)
def test_invalid_html_is_refused(source: str, explanation: str) -> None:
    with pytest.raises(EntityParseError, match=explanation):
        parse_html(source)
