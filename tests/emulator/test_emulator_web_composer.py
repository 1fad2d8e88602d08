"""The web view's composer: people, chats and messages made by hand reach the bot as updates.

The JSON tests post to the composer's endpoints and read what the bot was sent; the browser
tests drive the page in headless Chromium against the real bot, polling the emulator.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from harness import RunningBot, stored_chat, wait_until
from web_browser import browser_fixture, chromium_fixture, page_fixture

from bot.chats.subscription import SUBSCRIBED
from emulator.composer import FILE_MAX_BYTES
from emulator.simulation import BotAccount, Emulator, SimChat, SimUser
from emulator.state import JsonObject
from storage import users

if TYPE_CHECKING:
    from playwright.async_api import Page

# The browser fixtures, used by name.
__all__ = ["browser_fixture", "chromium_fixture", "page_fixture"]

TOKEN = "424242:composer-test-token"
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "articles" / "millbrook-repair-cafe.md"


@pytest.fixture(name="emulator")
async def web_emulator_fixture() -> AsyncIterator[Emulator]:
    """A started emulator with its web view; the real bot (`running_bot`) polls this one."""
    async with Emulator(web=True) as emulator:
        yield emulator


@pytest.fixture(name="account")
def account_fixture(emulator: Emulator) -> BotAccount:
    """A bot registered with the emulator but not polling: its updates stay queued to read."""
    return emulator.add_bot(TOKEN, username="desk_bot", first_name="Desk")


@pytest.fixture(name="rita")
def rita_fixture(emulator: Emulator) -> SimUser:
    """Rita, a reader."""
    return emulator.create_user("Rita", username="rita_reads")


@pytest.fixture(name="group")
async def group_fixture(emulator: Emulator, account: BotAccount, rita: SimUser) -> SimChat:
    """Rita's group, which the bot is a member of."""
    group = emulator.create_group("Harbour Readers", creator=rita)
    await emulator.add_bot_to_chat(group, by=rita, bot=account)
    return group


async def post(
    http: aiohttp.ClientSession, emulator: Emulator, path: str, body: object
) -> tuple[int, Any]:
    async with http.post(f"{emulator.web_url}api/{path}", json=body) as response:
        return response.status, await response.json()


def messages_sent(account: BotAccount) -> list[JsonObject]:
    """The `message` updates queued for the bot, oldest first."""
    return [update.payload for update in account.updates if update.kind == "message"]


# --- JSON: what the composer makes ---------------------------------------------------------


async def test_a_new_users_command_reaches_the_bot_with_its_entities(
    emulator: Emulator, account: BotAccount, http: aiohttp.ClientSession
) -> None:
    """A user made in the composer sends /start and a link: the bot gets both as entities."""
    status, created = await post(
        http,
        emulator,
        "users",
        {"first_name": "Nadia", "username": "@nadia_reads", "language_code": "fr"},
    )
    assert status == 200
    user = created["user"]
    assert (user["name"], user["username"], user["language_code"]) == (
        "Nadia",
        "nadia_reads",
        "fr",
    )
    status, opened = await post(http, emulator, "private", {"user_id": user["id"]})
    assert (status, opened) == (200, {"chat": f"{user['id']}.{account.id}"})

    status, sent = await post(
        http,
        emulator,
        "send",
        {"chat": opened["chat"], "user_id": user["id"], "text": "  /start https://example.com/a "},
    )

    assert status == 200
    (message,) = messages_sent(account)
    assert message["message_id"] == sent["message_id"]
    assert message["from"] == {
        "id": user["id"],
        "is_bot": False,
        "first_name": "Nadia",
        "username": "nadia_reads",
        "language_code": "fr",
    }
    assert message["chat"]["type"] == "private"
    assert message["text"] == "/start https://example.com/a"
    assert message["entities"] == [
        {"type": "bot_command", "offset": 0, "length": 6},
        {"type": "url", "offset": 7, "length": 21},
    ]


async def test_a_file_goes_as_a_document_the_bot_can_download(
    emulator: Emulator, account: BotAccount, rita: SimUser, http: aiohttp.ClientSession
) -> None:
    """An attached .md file becomes a document message whose bytes getFile then serves."""
    chat = emulator.private_chat(rita, bot=account)
    key = f"{rita.id}.{account.id}"
    content = SAMPLE.read_bytes()
    document = {"name": SAMPLE.name, "data": base64.b64encode(content).decode()}
    status, sent = await post(
        http, emulator, "send", {"chat": key, "user_id": rita.id, "text": "", "document": document}
    )
    assert status == 200
    status, _ = await post(
        http,
        emulator,
        "send",
        {"chat": key, "user_id": rita.id, "text": "/publish", "reply_to": sent["message_id"]},
    )
    assert status == 200

    upload, command = messages_sent(account)
    assert upload["document"]["file_name"] == SAMPLE.name
    assert upload["document"]["mime_type"] == "text/markdown"
    assert "caption" not in upload
    assert command["reply_to_message"]["document"] == upload["document"]
    async with aiohttp.ClientSession() as client:
        file_id = upload["document"]["file_id"]
        async with client.get(f"{emulator.base_url}{TOKEN}/getFile?file_id={file_id}") as got:
            path = (await got.json())["result"]["file_path"]
        async with client.get(f"{emulator.base_file_url}{TOKEN}/{path}") as download:
            assert await download.read() == content
    assert chat.started


async def test_a_group_gets_the_bot_and_then_makes_it_an_admin(
    emulator: Emulator, account: BotAccount, rita: SimUser, http: aiohttp.ClientSession
) -> None:
    """A group made in the composer, the bot added by its creator, then promoted."""
    status, created = await post(
        http, emulator, "groups", {"title": "Dock Street", "user_id": rita.id}
    )
    assert status == 200
    membership = {"chat": created["chat"], "user_id": rita.id, "admin": False}
    assert await post(http, emulator, "bot-membership", membership) == (
        200,
        {"chat": created["chat"], "status": "member"},
    )
    promotion = membership | {"admin": True}
    assert await post(http, emulator, "bot-membership", promotion) == (
        200,
        {"chat": created["chat"], "status": "administrator"},
    )

    changes = [u.payload for u in account.updates if u.kind == "my_chat_member"]
    assert [c["new_chat_member"]["status"] for c in changes] == ["member", "administrator"]
    assert {c["chat"]["title"] for c in changes} == {"Dock Street"}
    assert changes[0]["from"]["id"] == rita.id


async def test_the_page_hears_of_a_promotion_made_elsewhere(
    emulator: Emulator, account: BotAccount, group: SimChat, http: aiohttp.ClientSession
) -> None:
    """The bot made an admin outside the page moves the version, so its button goes away."""
    async with http.get(f"{emulator.web_url}api/version?after=-1") as response:
        first = (await response.json())["version"]
    waiting = asyncio.create_task(http.get(f"{emulator.web_url}api/version?after={first}"))

    await emulator.set_member_status(group, account, "administrator")

    async with await waiting as response:
        assert (await response.json())["version"] > first
    async with http.get(f"{emulator.web_url}api/chats") as response:
        (shown,) = (await response.json())["chats"]
    assert shown["bots"] == [{"id": account.id, "username": "desk_bot", "status": "administrator"}]


# --- JSON: what the composer refuses -------------------------------------------------------


Refused = tuple[dict[str, object], int, str]


@pytest.mark.parametrize(
    "refused",
    [
        ({"user_id": 123}, 404, "no such user"),
        ({"user_id": "7000000001"}, 400, "user_id must be an integer"),
        ({"chat": "-1"}, 404, "no such chat"),
        ({"text": ""}, 400, "type a message or attach a file"),
        ({"text": " \n "}, 400, "type a message or attach a file"),
        (
            {"text": "x" * 4097},
            400,
            "a message is at most 4096 characters, not 4097",
        ),
        ({"reply_to": 999}, 404, "no such message to reply to"),
        (
            {"document": {"name": "a.md", "data": "not base64!"}},
            400,
            "document.data must be the file's bytes in base64",
        ),
        (
            {"document": {"name": "a.md", "data": ""}},
            400,
            "a.md is empty: Telegram sends no empty files",
        ),
        (
            {"document": {"name": "../a.md", "data": "aGk="}},
            400,
            "document.name is a file name, not a path",
        ),
    ],
)
async def test_send_refuses_bad_input_and_the_bot_hears_nothing(
    emulator: Emulator,
    account: BotAccount,
    rita: SimUser,
    http: aiohttp.ClientSession,
    refused: Refused,
) -> None:
    """An unknown user or chat, an empty or too long text, a broken file: one line, no update."""
    change, status, error = refused
    chat = emulator.private_chat(rita, bot=account)
    body = {"chat": f"{rita.id}.{account.id}", "user_id": rita.id, "text": "hello"} | change

    assert await post(http, emulator, "send", body) == (status, {"error": error})
    assert messages_sent(account) == []
    assert chat.messages == {}


async def test_send_refuses_a_file_larger_than_a_bot_may_download(
    emulator: Emulator, account: BotAccount, rita: SimUser, http: aiohttp.ClientSession
) -> None:
    """A file one byte over 20 MB is refused with its size and the limit; the bot hears nothing."""
    chat = emulator.private_chat(rita, bot=account)
    huge = base64.b64encode(b"#" * (FILE_MAX_BYTES + 1)).decode()
    body = {
        "chat": f"{rita.id}.{account.id}",
        "user_id": rita.id,
        "text": "",
        "document": {"name": "huge.md", "data": huge},
    }

    # Streamed: aiohttp warns about sending a body this large from one bytes object.
    stream = io.BytesIO(json.dumps(body).encode())
    headers = {"Content-Type": "application/json"}
    async with http.post(f"{emulator.web_url}api/send", data=stream, headers=headers) as got:
        answer = (got.status, await got.json())

    assert answer == (
        413,
        {
            "error": f"huge.md is {FILE_MAX_BYTES + 1:,} bytes; the composer takes files of up "
            f"to {FILE_MAX_BYTES:,} bytes (what a bot may download)"
        },
    )
    assert messages_sent(account) == []
    assert chat.messages == {}
    assert emulator.world.stored_files == {}


async def test_send_refuses_writing_as_someone_else_or_outside_the_group(
    emulator: Emulator,
    account: BotAccount,
    rita: SimUser,
    group: SimChat,
    http: aiohttp.ClientSession,
) -> None:
    """Only Rita writes in her private chat, and only members write in a group."""
    omar = emulator.create_user("Omar", last_name="Haddad")
    emulator.private_chat(rita, bot=account)
    private = {"chat": f"{rita.id}.{account.id}", "user_id": omar.id, "text": "hi"}
    in_group = {"chat": str(group.id), "user_id": omar.id, "text": "/help"}
    before = len(group.messages)
    heard = len(messages_sent(account))

    assert await post(http, emulator, "send", private) == (
        403,
        {"error": "only Rita writes in this private chat"},
    )
    assert await post(http, emulator, "send", in_group) == (
        403,
        {"error": "Omar Haddad is not a member of 'Harbour Readers'"},
    )
    assert len(messages_sent(account)) == heard
    assert len(group.messages) == before


@pytest.mark.parametrize(
    "refused",
    [
        ({"first_name": "  "}, 400, "first_name is required"),
        ({"first_name": "A\nB"}, 400, "first_name must be one line"),
        ({"first_name": "A" * 65}, 400, "first_name is at most 64 characters"),
        (
            {"first_name": "Ann", "username": "ab"},
            400,
            "username: 5-32 letters, digits or underscores, starting with a letter",
        ),
        ({"first_name": "Ann", "username": "Rita_Reads"}, 409, "@Rita_Reads is taken"),
        ({"first_name": "Ann", "username": "desk_bot"}, 409, "@desk_bot is taken"),
        (
            {"first_name": "Ann", "language_code": "English"},
            400,
            "language_code is a language tag such as en or pt-br",
        ),
    ],
)
async def test_new_users_are_checked(
    emulator: Emulator,
    account: BotAccount,
    rita: SimUser,
    http: aiohttp.ClientSession,
    refused: Refused,
) -> None:
    """A blank, multi-line or long name, a malformed or taken username, a bad language code."""
    del account, rita
    body, status, error = refused
    assert await post(http, emulator, "users", body) == (status, {"error": error})
    assert [user.first_name for user in emulator.world.users.values()] == ["Desk", "Rita"]


async def test_the_bot_is_added_only_as_telegram_allows(
    emulator: Emulator,
    account: BotAccount,
    rita: SimUser,
    group: SimChat,
    http: aiohttp.ClientSession,
) -> None:
    """A member who is no admin cannot promote the bot; a bot already in is not added again."""
    omar = emulator.create_user("Omar")
    await emulator.set_member_status(group, omar, "member", by=rita)
    pending = len(account.updates)
    promote = {"chat": str(group.id), "user_id": omar.id, "admin": True}
    again = {"chat": str(group.id), "user_id": rita.id, "admin": False}
    private = {"chat": f"{rita.id}.{account.id}", "user_id": rita.id, "admin": True}
    emulator.private_chat(rita, bot=account)

    assert await post(http, emulator, "bot-membership", promote) == (
        403,
        {"error": "only an admin of 'Harbour Readers' can make the bot an admin"},
    )
    assert await post(http, emulator, "bot-membership", again) == (
        409,
        {"error": "@desk_bot is already a member of 'Harbour Readers'"},
    )
    assert await post(http, emulator, "bot-membership", private) == (
        400,
        {"error": "bots are added to groups and channels, not to private chats"},
    )
    assert group.members[account.id].status == "member"
    assert len(account.updates) == pending


async def test_the_composer_wants_a_json_object(
    emulator: Emulator, account: BotAccount, rita: SimUser, http: aiohttp.ClientSession
) -> None:
    """A form post (what another site could send) and a JSON list are refused, nothing sent."""
    url = f"{emulator.web_url}api/send"
    form = {"chat": f"{rita.id}.{account.id}", "user_id": str(rita.id), "text": "hi"}
    async with http.post(url, data=form) as response:
        assert (response.status, await response.json()) == (415, {"error": "send JSON"})
    async with http.post(url, json=[form]) as response:
        assert (response.status, await response.json()) == (400, {"error": "send a JSON object"})
    assert messages_sent(account) == []


async def test_without_a_bot_the_composer_says_so(
    emulator: Emulator, rita: SimUser, http: aiohttp.ClientSession
) -> None:
    """An emulator started without --token has no bot to open a private chat with."""
    assert await post(http, emulator, "private", {"user_id": rita.id}) == (
        409,
        {"error": "the emulator has no bot yet: start it with --token"},
    )


# --- the page, in headless Chromium, against the real bot ----------------------------------


async def test_a_user_made_in_the_page_starts_the_bot_and_sees_its_welcome(
    running_bot: RunningBot, page: Page
) -> None:
    """New user, private chat, /start typed and sent: the bot's welcome appears, no reload."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    emulator = running_bot.emulator
    await page.goto(emulator.web_url)
    await page.evaluate("window.notReloaded = true")
    await page.get_by_role("button", name="New user").click()
    form = page.locator("#new-user-form")
    await form.get_by_label("First name").fill("Nadia")
    await form.get_by_label("Username").fill("nadia_reads")
    await form.get_by_label("Language").fill("fr")
    await form.get_by_role("button", name="Create user").click()
    await expect(page.locator("#toast")).to_contain_text("Created Nadia")
    await page.get_by_role("button", name="Private chat").click()
    await page.get_by_role("button", name="Open private chat").click()
    await expect(page.locator("#chat-title")).to_have_text("Nadia · @newsdesk_bot")

    await page.get_by_label("Message").fill("/start")
    await page.get_by_label("Message").press("Enter")

    welcome = page.locator(".row.incoming .bubble", has_text="Welcome!")
    await expect(welcome).to_be_visible()
    await expect(welcome.locator("b")).to_have_text("Welcome!")
    await expect(page.locator(".row.outgoing .bubble", has_text="/start")).to_be_visible()
    assert await page.evaluate("window.notReloaded") is True
    nadia = next(u for u in emulator.world.users.values() if u.username == "nadia_reads")
    (reply,) = emulator.bot_messages(emulator.private_chat(nadia))
    assert reply.text is not None
    assert reply.text.startswith("👋 Welcome!")
    async with running_bot.db.transaction() as session:
        stored = await users.get_user(session, user_id=nadia.id)
    assert stored is not None
    assert (stored.first_name, stored.username, stored.language) == ("Nadia", "nadia_reads", "fr")


async def test_a_group_made_in_the_page_gets_the_bot_as_admin_and_subscribes(
    running_bot: RunningBot, page: Page
) -> None:
    """Ada makes a group, adds the bot, makes it admin with a click and sends /subscribe."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    emulator = running_bot.emulator
    await page.goto(emulator.web_url)
    await page.get_by_role("button", name="New group").click()
    form = page.locator("#new-group-form")
    await form.get_by_label("Title").fill("Harbour Readers")
    await form.get_by_label("make it an admin").uncheck()
    await form.get_by_role("button", name="Create group").click()
    await expect(page.locator("#chat-title")).to_have_text("Harbour Readers")
    await expect(page.locator(".service")).to_have_text("Ada added Newsdesk")
    await page.get_by_role("button", name="Make @newsdesk_bot admin").click()
    await expect(page.get_by_role("button", name="Make @newsdesk_bot admin")).to_have_count(0)

    await page.get_by_label("Message").fill("/subscribe")
    await page.get_by_role("button", name="Send").click()

    await expect(page.locator(".row.incoming .bubble", has_text=SUBSCRIBED)).to_be_visible()
    group = next(iter(emulator.world.chats.values()))
    assert group.members[running_bot.account.id].status == "administrator"
    stored = await wait_until(
        lambda: stored_chat(running_bot, group.id), what="the group stored by the bot"
    )
    assert (stored.title, stored.subscribed, stored.active) == ("Harbour Readers", True, True)


async def test_an_editor_attaches_an_article_and_replies_publish_in_the_page(
    running_bot: RunningBot, page: Page
) -> None:
    """The admin attaches a Markdown file, replies /publish to it and reads the bot's answer."""
    from playwright.async_api import expect  # noqa: PLC0415 - optional tool

    emulator = running_bot.emulator
    await emulator.send_message(running_bot.admin, "/start")
    await page.goto(emulator.web_url)
    await expect(page.locator("#chat-title")).to_have_text("Ada · @newsdesk_bot")
    await expect(page.locator(".row.incoming .bubble", has_text="Welcome!")).to_be_visible()

    await page.locator("#file").set_input_files(str(SAMPLE))
    await expect(page.locator("#file-name")).to_have_text(SAMPLE.name)
    await page.get_by_role("button", name="Send").click()
    upload = page.locator(".row.outgoing .bubble", has_text=SAMPLE.name)
    await upload.hover()
    await upload.get_by_role("button", name="Reply").click()
    await expect(page.locator("#reply-preview")).to_have_text(SAMPLE.name)
    await page.get_by_label("Message").fill("/publish")
    await page.get_by_label("Message").press("Enter")

    await expect(
        page.locator(".row.incoming .bubble", has_text="Published article")
    ).to_be_visible(timeout=15_000)
    command = emulator.messages(emulator.private_chat(running_bot.admin))[-2]
    assert command.text == "/publish"
    assert command.reply_to is not None
    assert command.reply_to.document is not None
    assert command.reply_to.document["file_name"] == SAMPLE.name
