"""The README cannot drift from the code: its settings table is checked against the settings
classes (every setting, its default), `.env.example` names the same settings, and its
Layout section names every module. Each test reports all differences at once."""

from __future__ import annotations

import json
import re

from bot.config import BotSettings
from conftest import ROOT
from retrieval.config import RetrievalSettings

README = (ROOT / "README.md").read_text(encoding="utf-8")
LAYOUT_PACKAGES = ("retrieval", "bot", "bench", "training")


def section(title: str) -> str:
    """The README's text under `## title`, up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"the README has no '## {title}' section"
    return match.group(1)


def settings() -> dict[str, object]:
    """Every setting's environment name and default, from the pydantic-settings classes."""
    found = {}
    for cls in (RetrievalSettings, BotSettings):
        for name, field in cls.model_fields.items():
            found[name.upper()] = field.get_default(call_default_factory=True)
    return found


def shown(default: object) -> str:
    """A default as the README's table writes it."""
    if default is None or default == []:
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float):
        return f"{default:g}"
    if isinstance(default, list):
        return json.dumps([str(item) for item in default])
    return str(default)


def test_the_configuration_table_names_every_setting_with_its_default():
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \|([^|]*)\|", section("Configuration"), re.M)
    names = [name for name, _ in rows]
    expected = settings()
    assert sorted(set(names) - set(expected)) == [], "the README names settings that do not exist"
    assert sorted(set(expected) - set(names)) == [], "settings missing from the README's table"
    assert sorted(n for n in set(names) if names.count(n) > 1) == [], "settings listed twice"

    def agrees(cell: str, default: object) -> bool:
        cell, want = cell.strip().strip("`"), shown(default)
        # A long default (the User-Agent) may be shortened with an ellipsis.
        return cell == want or (cell.endswith(" …") and want.startswith(cell[:-2]))

    wrong = {name: (cell.strip(), shown(expected[name])) for name, cell in rows if not agrees(cell, expected[name])}
    assert wrong == {}, "README default vs the settings class"


def test_env_example_names_every_setting():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))
    assert (sorted(named - set(settings())), sorted(set(settings()) - named)) == ([], [])


def test_the_layout_names_every_module_and_only_modules_that_exist():
    layout = section("Layout")
    modules = sorted(p.relative_to(ROOT).as_posix() for package in LAYOUT_PACKAGES
                     for p in (ROOT / package).rglob("*.py") if p.name != "__init__.py")
    assert [m for m in modules if f"`{m}`" not in layout] == [], "modules the Layout section does not name"
    named = re.findall(r"`((?:" + "|".join(LAYOUT_PACKAGES) + r")/[\w/]+\.py)`", layout)
    assert [m for m in named if not (ROOT / m).is_file()] == [], "the Layout section names modules that are gone"
    lines = [line for line in layout.splitlines() if line.startswith("- `")]
    assert [line for line in lines if len(re.findall(r"\.py`", line)) != 1] == [], "one line per module"


def test_the_readme_stays_short():
    # What a user needs fits in 250 lines; history and measurements go to bench/RESULTS.md.
    assert len(README.splitlines()) <= 250
