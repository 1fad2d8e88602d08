"""The emulator's web view: its JSON, pressing as a chosen user, and the live page in Chromium."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, ContextTypes
from web_browser import browser_fixture, chromium_fixture, page_fixture

from emulator.simulation import BotAccount, Emulator, SimChat, SimMessage, SimUser
from emulator.transcript import safe_link

# The browser fixtures, used by name.
__all__ = ["browser_fixture", "chromium_fixture", "page_fixture"]

if TYPE_CHECKING:
    from playwright.async_api import Page

TOKEN = "555666:web-view-secret-token"
OPTIONS = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
ARTICLE_URL = "https://example.com/metro/bike-lanes"


def card_text(votes: dict[int, str]) -> str:
    """The poll card as the test bot writes it: the article, the question, one line per option."""
    lines = [
        "<b>City council approves protected bike lanes on Main Street</b>",
        "<i>Metro · 4 min read</i>",
        "",
        "Should the lanes continue through downtown?",
        "",
    ]
    for key, label in OPTIONS.items():
        count = sum(1 for choice in votes.values() if choice == key)
        lines.append(f"{label} — {count}")
    lines += ["", f"Total votes: {len(votes)}"]
    return "\n".join(lines)


def card_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"vote:{key}")
                for key, label in OPTIONS.items()
            ],
            [InlineKeyboardButton("Read the article", url=ARTICLE_URL)],
        ]
    )


@dataclass
class Newsroom:
    """A group with a poll card posted by a tiny live-poll bot that is polling the emulator."""

    emulator: Emulator
    account: BotAccount
    group: SimChat
    rita: SimUser
    omar: SimUser
    card: SimMessage
    bot: Bot
    votes: dict[int, str] = field(default_factory=dict)


@pytest.fixture(name="web_emulator")
async def web_emulator_fixture() -> AsyncIterator[Emulator]:
    """A started emulator with its web view mounted."""
    async with Emulator(web=True) as emulator:
        yield emulator


@pytest.fixture(name="newsroom")
async def newsroom_fixture(web_emulator: Emulator) -> AsyncIterator[Newsroom]:
    """A group where a python-telegram-bot poll bot posted a card and counts votes on presses."""
    account = web_emulator.add_bot(TOKEN, username="newsdesk_bot", first_name="Newsdesk")
    rita = web_emulator.create_user("Rita", username="rita_reads")
    omar = web_emulator.create_user("Omar", last_name="Haddad")
    group = web_emulator.create_group(
        "Morning Briefing", creator=rita, members=[omar], supergroup=True
    )
    await web_emulator.add_bot_to_chat(group, by=rita, bot=account)
    votes: dict[int, str] = {}

    async def record_vote(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        choice = query.data.removeprefix("vote:")
        if votes.get(query.from_user.id) == choice:
            await query.answer(f"You already voted {OPTIONS[choice]}")
            return
        votes[query.from_user.id] = choice
        await query.answer(f"Your vote: {OPTIONS[choice]}")
        await query.edit_message_text(
            card_text(votes), parse_mode=ParseMode.HTML, reply_markup=card_keyboard()
        )

    application = Application.builder().token(TOKEN).base_url(web_emulator.base_url).build()
    application.add_handler(CallbackQueryHandler(record_vote))
    updater = application.updater
    assert updater is not None
    async with application:
        await updater.start_polling(timeout=1)
        await application.start()
        sent = await application.bot.send_message(
            group.id, card_text(votes), parse_mode=ParseMode.HTML, reply_markup=card_keyboard()
        )
        try:
            yield Newsroom(
                emulator=web_emulator,
                account=account,
                group=group,
                rita=rita,
                omar=omar,
                card=group.messages[sent.message_id],
                bot=application.bot,
                votes=votes,
            )
        finally:
            await updater.stop()
            await application.stop()


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def api(emulator: Emulator, path: str) -> str:
    return f"{emulator.web_url}api/{path}"


# --- JSON, without a browser ---------------------------------------------------------------


async def test_chats_list_the_group_with_its_type_and_member_count(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """/web/api/chats names each chat with its title, type and how many members it has."""
    body = await get_json(http, api(newsroom.emulator, "chats"))
    (chat,) = body["chats"]
    assert (chat["key"], chat["title"], chat["type"]) == (
        str(newsroom.group.id),
        "Morning Briefing",
        "supergroup",
    )
    # Rita, Omar and the bot.
    assert chat["member_count"] == 3
    assert chat["pressers"] == [newsroom.omar.id, newsroom.rita.id]


async def test_users_list_the_people_who_can_press(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """/web/api/users lists every person, never the bots."""
    body = await get_json(http, api(newsroom.emulator, "users"))
    assert body["users"] == [
        {"id": newsroom.rita.id, "name": "Rita", "username": "rita_reads"},
        {"id": newsroom.omar.id, "name": "Omar Haddad", "username": None},
    ]


async def test_messages_carry_html_from_entities_and_the_keyboard(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """A bot message comes with HTML built from its entities, its sender and its buttons."""
    key = str(newsroom.group.id)
    body = await get_json(http, api(newsroom.emulator, f"chats/{key}/messages"))
    card = body["messages"][-1]
    assert card["html"].startswith(
        "<b>City council approves protected bike lanes on Main Street</b>\n<i>Metro"
    )
    assert card["sender"] == {"name": "Newsdesk", "is_bot": True}
    assert (card["from_bot"], card["edits"], card["photo"]) == (True, 0, False)
    assert card["keyboard"] == [
        [
            {"text": "Yes", "kind": "callback"},
            {"text": "No", "kind": "callback"},
            {"text": "Not sure", "kind": "callback"},
        ],
        [{"text": "Read the article", "kind": "url", "url": ARTICLE_URL}],
    ]
    assert body["messages"][0]["service"] == "Rita added Newsdesk"


async def test_text_outside_entities_is_escaped(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """Markup-looking text a user typed reaches the page escaped, never as HTML."""
    await newsroom.emulator.send_message(
        newsroom.omar, "<img src=x onerror=alert(1)> & /start", chat=newsroom.group
    )
    key = str(newsroom.group.id)
    body = await get_json(http, api(newsroom.emulator, f"chats/{key}/messages"))
    assert body["messages"][-1]["html"] == "&lt;img src=x onerror=alert(1)&gt; &amp; /start"
    assert body["messages"][-1]["from_bot"] is False


async def test_photo_messages_and_edits_are_shown_as_such(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """A photo comes with its caption and an edited message with its number of edits."""
    photo = await newsroom.bot.send_photo(
        newsroom.group.id,
        "https://example.com/lanes.jpg",
        caption="Main Street, <b>today</b>",
        parse_mode=ParseMode.HTML,
    )
    await newsroom.bot.edit_message_caption(
        chat_id=newsroom.group.id, message_id=photo.message_id, caption="Main Street at dawn"
    )
    key = str(newsroom.group.id)
    body = await get_json(http, api(newsroom.emulator, f"chats/{key}/messages"))
    shown = body["messages"][-1]
    assert (shown["photo"], shown["html"], shown["edits"]) == (True, "Main Street at dawn", 1)


async def test_inline_messages_appear_in_the_chat_they_were_posted_in(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """A message posted through inline mode is shown in its chat, marked as sent via the bot."""
    emulator = newsroom.emulator
    asking = asyncio.create_task(
        emulator.inline_query(newsroom.rita, "bike", bot=newsroom.account)
    )
    query = await emulator.wait_for(
        lambda: next(iter(emulator.world.inline_queries.values()), None)
    )
    result = InlineQueryResultArticle(
        "lanes",
        "Bike lanes",
        InputTextMessageContent("Bike lanes: vote now"),
        reply_markup=card_keyboard(),
    )
    await newsroom.bot.answer_inline_query(query.id, [result])
    answer = await asking
    await emulator.choose_inline_result(newsroom.rita, answer, "lanes", chat=newsroom.group)
    key = str(newsroom.group.id)
    body = await get_json(http, api(emulator, f"chats/{key}/messages"))
    shown = body["messages"][-1]
    assert (shown["html"], shown["via"], shown["inline"]) == (
        "Bike lanes: vote now",
        "@newsdesk_bot",
        True,
    )
    assert shown["sender"]["name"] == "Rita"


async def test_press_as_a_user_reaches_the_bot_and_returns_its_toast(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """POST /web/api/press sends the bot a callback_query from the chosen user."""
    press = {
        "chat": str(newsroom.group.id),
        "message_id": newsroom.card.message_id,
        "user_id": newsroom.omar.id,
        "row": 0,
        "column": 1,
    }
    async with http.post(api(newsroom.emulator, "press"), json=press) as response:
        body = await response.json()
    assert response.status == 200
    assert body["answer"] == {"text": "Your vote: No", "show_alert": False, "url": None}
    assert newsroom.votes == {newsroom.omar.id: "no"}
    await newsroom.emulator.wait_for(
        lambda: "No — 1" in (newsroom.card.text or ""), what="the card's new totals"
    )


@pytest.mark.parametrize(
    ("press", "status", "error"),
    [
        ({"row": 1, "column": 0}, 400, "not a callback button"),
        ({"row": 5, "column": 0}, 404, "no such button"),
        ({"row": 0, "column": 0, "user_id": 555666}, 404, "no such user"),
        ({"row": 0, "column": 0, "message_id": 999}, 404, "no such message"),
        ({"row": "0", "column": 0}, 400, "row must be an integer"),
    ],
)
async def test_press_refuses_what_cannot_be_pressed(
    newsroom: Newsroom,
    http: aiohttp.ClientSession,
    press: dict[str, object],
    status: int,
    error: str,
) -> None:
    """A URL button, a missing button, a bot or unknown user, an unknown message are refused."""
    body = {
        "chat": str(newsroom.group.id),
        "message_id": newsroom.card.message_id,
        "user_id": newsroom.rita.id,
    } | press
    async with http.post(api(newsroom.emulator, "press"), json=body) as response:
        assert (response.status, await response.json()) == (status, {"error": error})
    assert newsroom.votes == {}


async def test_press_wants_json(newsroom: Newsroom, http: aiohttp.ClientSession) -> None:
    """A form post (what another site's page could send) is refused before anything happens."""
    async with http.post(api(newsroom.emulator, "press"), data={"row": "0"}) as response:
        assert response.status == 415
    assert newsroom.votes == {}


async def test_version_answers_when_something_changes(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """The long poll returns a new version once a message arrives."""
    first = await get_json(http, api(newsroom.emulator, "version?after=-1"))
    waiting = asyncio.create_task(
        get_json(http, api(newsroom.emulator, f"version?after={first['version']}"))
    )
    await newsroom.emulator.send_message(newsroom.rita, "Great news", chat=newsroom.group)
    changed = await waiting
    assert changed["version"] > first["version"]


async def test_no_response_contains_the_bot_token(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """The page, its assets and every JSON answer leave the bot token out."""
    emulator = newsroom.emulator
    key = str(newsroom.group.id)
    press = {
        "chat": key,
        "message_id": newsroom.card.message_id,
        "user_id": newsroom.rita.id,
        "row": 0,
        "column": 0,
    }
    bodies = []
    paths = [
        "",
        "app.js",
        "style.css",
        "api/chats",
        "api/users",
        "api/bots",
        "api/version?after=-1",
    ]
    for path in paths:
        async with http.get(f"{emulator.web_url}{path}") as response:
            bodies.append(await response.text())
    async with http.get(api(emulator, f"chats/{key}/messages")) as response:
        bodies.append(await response.text())
    async with http.post(api(emulator, "press"), json=press) as response:
        bodies.append(await response.text())
    secret = TOKEN.partition(":")[2]
    assert all(secret not in body for body in bodies)
    assert "Total votes" in bodies[-2]


async def test_other_host_names_are_refused(
    newsroom: Newsroom, http: aiohttp.ClientSession
) -> None:
    """A request naming another host (DNS rebinding) gets 403, not the chats."""
    url = api(newsroom.emulator, "chats")
    async with http.get(url, headers={"Host": "attacker.example"}) as response:
        assert response.status == 403


async def test_the_web_view_binds_to_loopback_only() -> None:
    """An emulator with the web view refuses to listen beyond loopback."""
    with pytest.raises(ValueError, match="loopback only"):
        Emulator(web=True, host="0.0.0.0")  # noqa: S104 - the address being refused


async def test_without_web_there_is_no_page(
    emulator: Emulator, http: aiohttp.ClientSession
) -> None:
    """The web view is served only when asked for."""
    async with http.get(emulator.web_url) as response:
        assert response.status == 404


def test_only_ordinary_links_are_kept() -> None:
    """Links the page may open are http(s), tg and mailto; javascript: is never linked."""
    assert safe_link("https://example.com/a") == "https://example.com/a"
    assert safe_link("tg://user?id=1") == "tg://user?id=1"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link(None) is None


# --- the page, in headless Chromium --------------------------------------------------------


async def test_page_shows_the_card_with_its_totals(newsroom: Newsroom, page: Page) -> None:
    """The page lists the group and shows the poll card with its totals and buttons."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    await page.goto(newsroom.emulator.web_url)
    await page.locator(".chat-item", has_text="Morning Briefing").click()
    card = page.locator(".bubble", has_text="Total votes: 0")
    await expect(card).to_be_visible()
    await expect(card.locator("b")).to_have_text(
        "City council approves protected bike lanes on Main Street"
    )
    await expect(page.locator(".chat-meta")).to_have_text("supergroup · 3 members")
    await expect(page.locator("a.key")).to_have_attribute("href", ARTICLE_URL)


async def test_clicking_an_option_as_a_chosen_user_updates_the_totals(
    newsroom: Newsroom, page: Page
) -> None:
    """Clicking "Yes" as Omar reaches the bot as Omar's vote; the totals change without reload."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    await page.goto(newsroom.emulator.web_url)
    await expect(page.locator(".bubble", has_text="Total votes: 0")).to_be_visible()
    await page.evaluate("window.notReloaded = true")
    await page.select_option("#presser", label="Omar Haddad")
    await page.locator("button.key", has_text=re.compile("^Yes$")).click()
    card = page.locator(".bubble", has_text="Total votes: 1")
    await expect(card).to_contain_text("Yes — 1")
    await expect(card.locator(".edited")).to_have_text("edited")
    await expect(page.locator("#toast")).to_have_text("Your vote: Yes")
    assert await page.evaluate("window.notReloaded") is True
    assert newsroom.votes == {newsroom.omar.id: "yes"}


async def test_spoilers_stay_blurred_until_clicked(newsroom: Newsroom, page: Page) -> None:
    """A spoiler is hidden until the reader clicks it."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    await newsroom.bot.send_message(
        newsroom.group.id, "The vote ends <tg-spoiler>on Friday</tg-spoiler>", parse_mode="HTML"
    )
    await page.goto(newsroom.emulator.web_url)
    spoiler = page.locator("tg-spoiler", has_text="on Friday")
    await expect(spoiler).not_to_have_class(re.compile("revealed"))
    await spoiler.click()
    await expect(spoiler).to_have_class(re.compile("revealed"))
