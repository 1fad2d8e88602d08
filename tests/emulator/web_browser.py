"""What the web view's browser tests share: Debian's headless Chromium driven by Playwright.

Test modules import the three fixtures by name. In CI a missing browser fails, elsewhere skips.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_unavailable(reason: str) -> None:
    """CI must run the browser tests: there a missing browser fails; elsewhere it skips."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(name="chromium")
def chromium_fixture() -> Path:
    """Debian's Chromium, with Playwright to drive it; fails in CI and skips elsewhere without."""
    if importlib.util.find_spec("playwright") is None:
        browser_unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        browser_unavailable(f"Chromium is missing at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(name="browser")
async def browser_fixture(chromium: Path) -> AsyncIterator[Browser]:
    """Headless Chromium driven by Playwright."""
    from playwright.async_api import async_playwright  # noqa: PLC0415 - optional tool

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(name="page")
async def page_fixture(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser page."""
    page = await browser.new_page(viewport={"width": 1200, "height": 760})
    try:
        yield page
    finally:
        await page.close()
