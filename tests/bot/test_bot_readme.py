"""The README as a new user reads it: every setting documented, the demo first, its images."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _setting_names() -> list[str]:
    return [
        field.validation_alias
        for field in Settings.model_fields.values()
        if isinstance(field.validation_alias, str)
    ]


def test_readme_documents_every_setting() -> None:
    """Each setting's environment name has a row in the README's settings table."""
    text = README.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.MULTILINE))

    missing = [name for name in _setting_names() if name not in rows]

    assert missing == []


def test_readme_first_command_is_the_demo() -> None:
    """The first command a reader meets is `make demo`, and the Makefile runs the demo with it."""
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.+?)\n```", text, flags=re.DOTALL)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")

    assert first_block is not None
    assert first_block[1].strip() == "make demo"
    assert re.search(r"^demo: setup\n\t\$\(BIN\)/python -m bot demo$", makefile, re.MULTILINE)


def test_readme_images_exist() -> None:
    """Every image the README shows is a file in the repository, the web view screenshot first."""
    text = README.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)

    assert images[:1] == ["docs/web-view.png"]
    assert [image for image in images if not (ROOT / image).is_file()] == []


def test_package_licence_is_an_spdx_expression() -> None:
    """`pip install` reads the licence as an SPDX string (a table is deprecated and warns at
    every install), with a setuptools that understands it (77 or later)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert project["project"]["license"] == "MIT"
    assert project["build-system"]["requires"] == ["setuptools>=77"]
