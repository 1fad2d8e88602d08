"""The web view's reactions and files: counts under messages, reacting as a chosen user, photos
shown as images and documents with their name, size and a download link, in JSON and Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from telegram import Bot
from web_browser import browser_fixture, chromium_fixture, page_fixture

from emulator.simulation import Emulator, SimChat, SimUser

# The browser fixtures, used by name.
__all__ = ["browser_fixture", "chromium_fixture", "page_fixture"]

if TYPE_CHECKING:
    from playwright.async_api import Page

TOKEN = "556677:web-reactions-token"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
CSV = b"option,votes\r\nYes,3\r\n"
ALLOWED = ["message", "message_reaction", "message_reaction_count"]


@dataclass
class Desk:
    """A supergroup where an admin bot posted a text, a chart and an export."""

    emulator: Emulator
    bot: Bot
    group: SimChat
    rita: SimUser
    omar: SimUser
    text_id: int
    chart_id: int
    export_id: int


@pytest.fixture(name="desk")
async def desk_fixture() -> AsyncIterator[Desk]:
    """The emulator with its web view, and the bot's three messages in Morning Briefing."""
    async with Emulator(web=True) as emulator:
        account = emulator.add_bot(TOKEN, username="newsdesk_bot", first_name="Newsdesk")
        rita = emulator.create_user("Rita")
        omar = emulator.create_user("Omar", last_name="Haddad")
        group = emulator.create_group(
            "Morning Briefing", creator=rita, members=[omar], supergroup=True
        )
        await emulator.add_bot_to_chat(group, by=rita, admin=True, bot=account)
        async with Bot(TOKEN, base_url=emulator.base_url) as bot:
            await bot.get_updates(allowed_updates=ALLOWED)
            text = await bot.send_message(group.id, "Bike lanes approved")
            chart = await bot.send_photo(group.id, PNG, filename="chart.png", caption="Votes")
            export = await bot.send_document(group.id, CSV, filename="bike-lanes.csv")
            yield Desk(
                emulator,
                bot,
                group,
                rita,
                omar,
                text.message_id,
                chart.message_id,
                export.message_id,
            )


async def shown(desk: Desk, http: aiohttp.ClientSession) -> dict[int, Any]:
    url = f"{desk.emulator.web_url}api/chats/{desk.group.id}/messages"
    async with http.get(url) as response:
        body = await response.json()
    return {message["id"]: message for message in body["messages"]}


async def post_react(
    desk: Desk, http: aiohttp.ClientSession, user: SimUser, emoji: str
) -> tuple[int, Any]:
    body = {
        "chat": str(desk.group.id),
        "message_id": desk.text_id,
        "user_id": user.id,
        "emoji": emoji,
    }
    async with http.post(f"{desk.emulator.web_url}api/react", json=body) as response:
        return response.status, await response.json()


async def test_reacting_from_the_page_reaches_the_bot_and_shows_the_counts(
    desk: Desk, http: aiohttp.ClientSession
) -> None:
    """POST /web/api/react reacts as the user; tapped again, the reaction is taken back."""
    assert (await post_react(desk, http, desk.omar, "🔥"))[0] == 200
    assert (await post_react(desk, http, desk.rita, "🔥"))[0] == 200
    assert (await shown(desk, http))[desk.text_id]["reactions"] == [
        {"kind": "emoji", "label": "🔥", "count": 2, "users": [desk.omar.id, desk.rita.id]}
    ]
    assert (await post_react(desk, http, desk.omar, "🔥"))[0] == 200
    assert (await shown(desk, http))[desk.text_id]["reactions"][0]["count"] == 1
    updates = await desk.bot.get_updates(allowed_updates=ALLOWED)
    changes = [
        (u.message_reaction.user.id, len(u.message_reaction.new_reaction))
        for u in updates
        if u.message_reaction is not None and u.message_reaction.user is not None
    ]
    assert changes == [(desk.omar.id, 1), (desk.rita.id, 1), (desk.omar.id, 0)]


async def test_react_refuses_an_emoji_telegram_lacks(
    desk: Desk, http: aiohttp.ClientSession
) -> None:
    """An emoji outside Telegram's reaction list is refused with one line."""
    assert await post_react(desk, http, desk.omar, "🦖") == (
        400,
        {"error": "emoji must be one of Telegram's reaction emoji"},
    )
    assert desk.group.messages[desk.text_id].reactions == {}


async def test_photos_and_documents_link_to_their_bytes(
    desk: Desk, http: aiohttp.ClientSession
) -> None:
    """A chart's photo_url serves the PNG; a document comes with its size and a download."""
    messages = await shown(desk, http)
    chart, export = messages[desk.chart_id], messages[desk.export_id]
    base = desk.emulator.web_url.removesuffix("/web/")
    async with http.get(base + chart["photo_url"]) as response:
        assert (response.content_type, await response.read()) == ("image/png", PNG)
    assert (export["document"], export["document_size"]) == ("bike-lanes.csv", len(CSV))
    async with http.get(base + export["document_url"]) as response:
        assert await response.read() == CSV
        assert response.headers["Content-Disposition"].startswith("attachment")


async def test_the_page_shows_files_and_reacts_as_the_chosen_user(desk: Desk, page: Page) -> None:
    """The chart is an image, the export a named download; 🔥 from the picker counts as Omar's."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    await page.goto(desk.emulator.web_url)
    await expect(page.locator("img.photo-image")).to_be_visible()
    assert await page.locator("img.photo-image").evaluate("image => image.naturalWidth") == 1
    export = page.locator(".document", has_text="bike-lanes.csv")
    await expect(export.locator(".document-size")).to_have_text(f"{len(CSV)} bytes")
    await expect(export.locator("a.document-download")).to_have_attribute(
        "download", "bike-lanes.csv"
    )
    await page.select_option("#presser", label="Omar Haddad")
    row = page.locator(f'.row[data-message-id="{desk.text_id}"]')
    await row.locator(".reaction-add").click()
    await row.locator(".pick", has_text="🔥").click()
    chip = row.locator(".reaction", has_text="🔥")
    await expect(chip).to_have_text("🔥 1")
    await expect(chip).to_have_class("reaction mine")
    assert desk.group.messages[desk.text_id].reactions == {
        desk.omar.id: ({"type": "emoji", "emoji": "🔥"},)
    }
