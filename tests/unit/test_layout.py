"""The import rules of ARCHITECTURE.md, checked on the source: floors, and no circles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
OURS = ("bot", "handlers", "storage")


def _modules() -> dict[str, Path]:
    found = {}
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Our modules that `name` imports when it runs (at the top or inside a function)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _run_time(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            for alias in node.names:  # a module of a package, or a name in the package
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def _run_time(tree: ast.AST) -> list[ast.AST]:
    """Every node, except those under `if TYPE_CHECKING:` (imports for types only)."""
    nodes, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


GRAPH = {name: _imports(name) for name in MODULES}


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_only_bot_run_imports_handlers() -> None:
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _under(name, "bot") and not _under(name, "bot.run")
        for target in targets
        if _under(target, "handlers")
    )
    assert wrong == []


def test_floors() -> None:
    """storage and the simulators import nothing above them; handlers never import bot.run;
    the WhatsApp adapter never imports Telegram's handlers."""
    rules = {
        "storage": ("bot", "handlers"),
        "bot.botapi": ("storage", "handlers", "bot.chat", "bot.polls", "bot.results"),
        "bot.texts": ("storage", "handlers", "bot.chat", "bot.run"),
        "handlers": ("bot.run", "bot.__main__"),
        "bot.chat": ("bot.polls", "bot.results", "bot.delivery", "bot.scheduling", "bot.run"),
        "bot.polls": ("bot.results", "bot.delivery", "bot.scheduling", "bot.run", "bot.family"),
        "bot.family": ("bot.delivery", "bot.scheduling", "bot.run", "handlers"),
        "bot.wasim": ("storage", "handlers", "bot.chat", "bot.polls", "bot.whatsapp", "bot.run"),
        "bot.whatsapp": ("bot.run", "bot.scheduling", "handlers"),
        "bot.invites": ("bot.run", "handlers", "bot.whatsapp"),
        "bot.observe": (
            "handlers",
            "bot.run",
            "bot.chat",
            "bot.polls",
            "bot.results",
            "bot.family",
            "bot.delivery",
            "bot.scheduling",
            "bot.whatsapp",
            "bot.invites",
            "bot.texts",
        ),
    }
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        for floor, above in rules.items()
        if _under(name, floor)
        for target in targets
        if any(_under(target, package) for package in above)
    )
    assert wrong == []


def test_no_import_circles() -> None:
    """No module reaches itself through its imports (a package imports its own modules)."""
    circles = []
    for start in sorted(GRAPH):
        seen, stack = set(), [t for t in GRAPH[start] if not _under(t, start)]
        while stack:
            name = stack.pop()
            if name == start:
                circles.append(start)
                break
            if name in seen:
                continue
            seen.add(name)
            stack.extend(t for t in GRAPH[name] if not (_under(t, name) or _under(name, t)))
    assert circles == []


def test_the_family_core_does_not_know_it_is_on_telegram() -> None:
    """The family core and how a poll is put to a family never import python-telegram-bot."""
    neutral = [name for name in MODULES if _under(name, "bot.family") or _under(name, "bot.polls")]
    on_telegram = sorted(
        name
        for name in [*neutral, "bot.chat.screens", "bot.chat.buttons"]
        for node in _run_time(ast.parse(MODULES[name].read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(
            module == "telegram" or module.startswith("telegram.")
            for module in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
        )
    )
    assert len(neutral) >= 6 and on_telegram == []
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {', '.join(neutral)}; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "'telegram'" not in loaded  # not through any module they import either
