"""`python -m bot demo --keep`: after its summary the demo keeps the emulator and the bot
running, prints the web view's address, and the web view's composer reaches the bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from harness import wait_until
from rich.console import Console

from demo.run import DemoOptions, run_demo

# The demo makes its own SQLite file; the PostgreSQL pass has nothing to add.
pytestmark = pytest.mark.sqlite_only
_WEB_VIEW = re.compile(r"Web view: (http://\S+/web/)")


async def post(http: aiohttp.ClientSession, url: str, body: object) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_a_kept_demo_answers_a_reader_made_in_its_web_view(tmp_path: Path) -> None:
    """The kept demo prints its web view; a reader made there sends /start and gets the welcome."""
    output = io.StringIO()
    options = DemoOptions(readers=5, seconds=1, keep=True, db_path=tmp_path / "demo.db")
    demo = asyncio.create_task(run_demo(options, console=Console(file=output, width=120)))

    async def printed_address() -> str | None:
        await asyncio.sleep(0.1)
        if demo.done():
            raise AssertionError(f"the demo ended instead of staying up:\n{output.getvalue()}")
        found = _WEB_VIEW.search(output.getvalue())
        return found[1] if found else None

    try:
        web = await wait_until(printed_address, timeout=180, what="the web view's address")
        async with aiohttp.ClientSession() as http:
            made = await post(http, f"{web}api/users", {"first_name": "Nadia"})
            user_id = made["user"]["id"]
            opened = await post(http, f"{web}api/private", {"user_id": user_id})
            await post(
                http,
                f"{web}api/send",
                {"chat": opened["chat"], "user_id": user_id, "text": "/start"},
            )

            async def welcome() -> str | None:
                async with http.get(f"{web}api/chats/{opened['chat']}/messages") as response:
                    shown = (await response.json())["messages"]
                replies = [m["html"] for m in shown if m["from_bot"] and "Welcome!" in m["html"]]
                return replies[0] if replies else None

            reply = await wait_until(welcome, timeout=30, what="the bot's welcome")
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo

    assert reply.startswith("👋 <b>Welcome!</b>")
    text = output.getvalue()
    assert "demo passed" in text
    assert "Act as Edith Desk (a bot admin) for /publish, /broadcast, /stats." in text
