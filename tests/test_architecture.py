"""ARCHITECTURE.md stays true: every module has its line, and every line names a module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage", "newsroom", "emulator", "demo", "benchmarks")
# Alembic revisions are listed as a folder: the schema's history, one file per change.
_LISTED_AS_A_FOLDER = ("storage/migrations/versions/",)
_MODULE_ROW = re.compile(r"^\| `([\w/]+\.py)` \|", re.MULTILINE)


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
