"""Rules of the code's shape that a reader relies on, checked on every module's syntax tree:
configuration is read once, by the settings classes, and the retrieval core knows nothing of
Discord. Each test reports every offending place at once."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("retrieval", "bot", "bench", "training", "testing")
SETTINGS = {"retrieval/config.py", "bot/config.py"}  # pydantic-settings reads the environment for them

# The only other modules that touch os.environ, and why none of them reads configuration:
ENVIRONMENT_EXCEPTIONS = {
    # Both set HF_HUB_OFFLINE=1 just before importing transformers: huggingface_hub reads it
    # from the process environment at import, so no argument could say it. A constant,
    # not a setting: the weights always come from disk.
    "retrieval/embeddings.py": "sets HF_HUB_OFFLINE for transformers",
    "retrieval/onnx_embeddings.py": "sets HF_HUB_OFFLINE for transformers",
    # Benchmarks that start child processes hand them this process's environment plus a
    # few variables (`{**os.environ, ...}`); the children read them through their settings.
    "bench/faults.py": "a child process's environment",
    "bench/oneshot.py": "a child process's environment",
    "bench/bot_start.py": "a child process's environment",
}


def modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def environment_uses(tree: ast.AST) -> list[int]:
    """Lines that reach the environment: os.environ, os.getenv/putenv/unsetenv, or those
    names imported from os."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                and node.attr in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}):
            found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                alias.name in {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
                for alias in node.names):
            found.append(node.lineno)
    return found


def test_only_the_settings_modules_read_the_environment():
    uses = {name(p): environment_uses(ast.parse(p.read_text(encoding="utf-8"))) for p in modules(*PACKAGES)}
    offending = [f"{path}:{line}" for path, lines in uses.items() if path not in SETTINGS | set(ENVIRONMENT_EXCEPTIONS)
                 for line in lines]
    assert offending == [], "read the setting through retrieval/config.py or bot/config.py instead"
    # An exception that is no longer needed goes, so the list stays the minimum.
    assert [path for path in ENVIRONMENT_EXCEPTIONS if not uses.get(path)] == []


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_retrieval_core_never_imports_discord():
    offending = [f"{name(p)}:{line} imports {module}" for p in modules("retrieval")
                 for line, module in imported_modules(ast.parse(p.read_text(encoding="utf-8")))
                 if module.split(".")[0] in {"discord", "bot"}]
    assert offending == []


def test_the_checks_see_what_they_look_for():
    """The scans above would pass on any tree if they found nothing: show that they find."""
    tree = ast.parse("import os\nfrom os import getenv\nx = os.environ.get('A')\nimport discord.ext\n"
                     "from discord import ui\n")
    assert environment_uses(tree) == [2, 3]
    assert [m for _, m in imported_modules(tree)] == ["os", "os", "discord.ext", "discord"]
