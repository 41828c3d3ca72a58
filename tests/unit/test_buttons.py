"""The button registry: one declaration per prefix, and data that only fits its own shape."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import handlers
from bot.chat.buttons import ANSWER, REGISTRY, RESULTS, SIGNUP, Button


def test_every_prefix_is_declared_once_and_only_the_registry_makes_data() -> None:
    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(module.name)
    prefixes = [button.prefix for button in REGISTRY.values()]
    assert len(prefixes) == len(set(prefixes)) == 22
    with pytest.raises(ValueError, match="twice"):
        Button("qa", "a second answer button")
    root = Path(__file__).parents[2]
    makers = {"bot/chat/buttons.py", "bot/chat/keyboards.py"}
    elsewhere = [
        str(path.relative_to(root))
        for folder in ("bot", "handlers")
        for path in (root / folder).rglob("*.py")
        if "botapi" not in path.parts
        and str(path.relative_to(root)) not in makers
        and re.search(r"(?<![\w.])callback_data\(", path.read_text())
    ]
    assert elsewhere == []


def test_data_has_exactly_the_declared_shape() -> None:
    assert ANSWER.parse(ANSWER.data(12, 3)) == ["12", "3"]
    assert SIGNUP.parse(SIGNUP.data("l", "nl", "code")) == ["l", "nl", "code"]
    assert RESULTS.parse("rs:b:4:wijk") == ["b", "4", "wijk"]
    refused = ["qa:12", "qa:12:3:4", "qs:12:3", "su:z:nl:code", "su:l:nl", "rs:v:4:wijk"]
    assert [data for data in refused if REGISTRY[data.split(":")[0]].parse(data)] == []
    with pytest.raises(ValueError):
        SIGNUP.data("z", "nl", "code")  # a step that does not exist
    with pytest.raises(ValueError):
        ANSWER.data(1, "é" * 40)  # over Telegram's 64 bytes
