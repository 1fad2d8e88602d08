"""ARCHITECTURE.md stays true: every module has its line, every line names a module, and the
layers' arrows point one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage", "newsroom", "emulator", "demo", "benchmarks")
# Alembic revisions are listed as a folder: the schema's history, one file per change.
_LISTED_AS_A_FOLDER = ("storage/migrations/versions/",)
_MODULE_ROW = re.compile(r"^\| `([\w/]+\.py)` \|", re.MULTILINE)
# What each layer never imports, as "Layers" draws it: storage/ uses newsroom/'s plain values,
# newsroom/ uses neither bot/ nor storage/ (nor Telegram, nor SQL); bot/ runs without emulator/.
_NEVER_IMPORTED = {
    "newsroom": {"bot", "storage", "emulator", "demo", "telegram", "sqlalchemy", "sqlmodel"},
    "storage": {"bot", "emulator", "demo", "telegram"},
    "bot": {"emulator"},
}


def _modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if path.name == "__init__.py" or name.startswith(_LISTED_AS_A_FOLDER):
                continue
            found.add(name)
    return found


def test_every_module_has_its_line() -> None:
    """A module added without a line in ARCHITECTURE.md is named here."""
    listed = set(_MODULE_ROW.findall((ROOT / "ARCHITECTURE.md").read_text()))
    assert sorted(_modules() - listed) == []


def test_every_line_names_a_module_that_exists() -> None:
    """A module moved or removed leaves no stale line behind."""
    listed = set(_MODULE_ROW.findall((ROOT / "ARCHITECTURE.md").read_text()))
    assert sorted(listed - _modules()) == []


def _imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever in the module the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def test_layers_point_one_way() -> None:
    """storage/ and newsroom/ import nothing of bot/; bot/, storage/, newsroom/ not emulator/."""
    crossings = [
        f"{path.relative_to(ROOT).as_posix()} imports {name}"
        for layer, never in _NEVER_IMPORTED.items()
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in sorted(_imported_packages(path) & never)
    ]
    assert crossings == []
