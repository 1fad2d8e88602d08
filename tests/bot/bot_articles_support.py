"""Shared pieces of the article behaviour tests: a local news site with a feed, a bot started
with chosen settings, an audience of subscribed chats, and readers of what the chats show."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.test_utils import TestServer
from harness import RunningBot, make_settings
from sqlmodel import func, select

from bot.app import build_application
from bot.runtime.lifecycle import polling
from emulator.formatting import Entity
from emulator.simulation import BotAccount, Emulator, SimChat, SimMessage, SimUser
from storage.engine import Database
from storage.models import Article

SEED_PAGE = Path(__file__).resolve().parents[1] / "newsroom" / "fixtures" / "seed_shaped.html"
SEED_URL = "https://tidewater-ledger.example/environment/kestrel-coast-seagrass-replanting"
SEED_TITLE = "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"
SEED_FACT = (
    "Seagrass meadows cover only a tiny share of the sea floor, yet they store a large part of "
    "the carbon buried in coastal sediments each year."
)
SEED_POLL = "Should boat moorings be restricted over newly planted seagrass beds?"
UNTITLED_PAGE = b"<html><body><div><p>Words without any headline at all.</p></div></body></html>"
FORGED_TITLE = "Harbour Closed Forever, Council Says"


@dataclass
class FeedEntry:
    guid: str
    title: str
    path: str
    published_at: datetime


@dataclass
class NewsSite:
    """A news site on 127.0.0.1: article pages, misbehaving addresses and one RSS feed."""

    base: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    feed_answers: list[int] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    # Every request the site answered, as (hostname, path), in the order they came.
    requests: list[tuple[str, str]] = field(default_factory=list)
    # Pages under /held/ are answered one per release of this semaphore.
    held: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))
    held_waiting: int = 0
    most_held_waiting: int = 0

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def requested(self, prefix: str) -> int:
        """How many requests the site had for paths starting with `prefix`."""
        return sum(1 for _, path in self.requests if path.startswith(prefix))

    def title_of(self, path: str) -> str:
        return next((e.title for e in self.entries if e.path == path), path.rsplit("/", 1)[-1])

    def feed_xml(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(e.title)}</title><link>{self.url(e.path)}</link>"
            f'<guid isPermaLink="false">{escape(e.guid)}</guid>'
            f"<pubDate>{format_datetime(e.published_at)}</pubDate></item>"
            for e in reversed(self.entries)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Tidewater Ledger</title><link>{self.base}/</link>{items}</channel></rss>"
        ).encode()


def story_page(slug: str, title: str) -> bytes:
    """The seed-shaped page under its own address and headline."""
    html = SEED_PAGE.read_text(encoding="utf-8")
    return (
        html.replace(SEED_URL, f"https://tidewater-ledger.example/news/{slug}")
        .replace(SEED_TITLE, title)
        .encode()
    )


def own_page(canonical: str, title: str) -> bytes:
    """The seed-shaped page naming `canonical` as its own address, under its own headline."""
    html = SEED_PAGE.read_text(encoding="utf-8")
    return html.replace(SEED_URL, canonical).replace(SEED_TITLE, title).encode()


@contextlib.asynccontextmanager
async def serve_news_site() -> AsyncIterator[NewsSite]:
    site = NewsSite()

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        site.requests.append((request.url.host or "", request.path))
        response: web.StreamResponse = await handler(request)
        return response

    async def own(request: web.Request) -> web.Response:
        path = f"/own/{request.match_info['slug']}"
        page = own_page(site.url(path), site.title_of(path))
        return web.Response(body=page, content_type="text/html")

    async def forged(request: web.Request) -> web.Response:
        # Another page of the same site (a comment page, say) claiming a story's address.
        page = own_page(site.url(f"/own/{request.match_info['slug']}"), FORGED_TITLE)
        return web.Response(body=page, content_type="text/html")

    async def go(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/own/{request.match_info['slug']}")

    async def away(request: web.Request) -> web.Response:
        # The same server under another hostname: a hop off the site 127.0.0.1.
        port = request.url.port
        raise web.HTTPFound(f"http://localhost:{port}/own/{request.match_info['slug']}")

    async def held(request: web.Request) -> web.Response:
        site.held_waiting += 1
        site.most_held_waiting = max(site.most_held_waiting, site.held_waiting)
        try:
            await site.held.acquire()
        finally:
            site.held_waiting -= 1
        path = f"/held/{request.match_info['slug']}"
        page = own_page(site.url(path), site.title_of(path))
        return web.Response(body=page, content_type="text/html")

    async def seed(_: web.Request) -> web.Response:
        return web.Response(body=SEED_PAGE.read_bytes(), content_type="text/html")

    async def news(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        title = next((e.title for e in site.entries if e.path == f"/news/{slug}"), slug)
        return web.Response(body=story_page(slug, title), content_type="text/html")

    async def untitled(_: web.Request) -> web.Response:
        return web.Response(body=UNTITLED_PAGE, content_type="text/html")

    async def pdf(_: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.7\n", content_type="application/pdf")

    async def slow(_: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(site.release.wait(), timeout=10)
        return web.Response(body=SEED_PAGE.read_bytes(), content_type="text/html")

    async def loop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def feed(request: web.Request) -> web.Response:
        body = site.feed_xml()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == etag:
            site.feed_answers.append(304)
            return web.Response(status=304, headers={"ETag": etag})
        site.feed_answers.append(200)
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    async def not_a_feed(_: web.Request) -> web.Response:
        return web.Response(body=b"<html><body>Gone</body></html>", content_type="text/html")

    app = web.Application(middlewares=[record])
    app.router.add_get("/story", seed)
    app.router.add_get("/own/{slug}", own)
    app.router.add_get("/forged/{slug}", forged)
    app.router.add_get("/go/{slug}", go)
    app.router.add_get("/away/{slug}", away)
    app.router.add_get("/held/{slug}", held)
    app.router.add_get("/news/{slug}", news)
    app.router.add_get("/untitled", untitled)
    app.router.add_get("/report.pdf", pdf)
    app.router.add_get("/slow", slow)
    app.router.add_get("/loop", loop)
    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/broken-feed.xml", not_a_feed)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    site.base = str(server.make_url("")).rstrip("/")
    try:
        yield site
    finally:
        site.release.set()
        for _ in range(site.held_waiting):
            site.held.release()
        await server.close()


@contextlib.asynccontextmanager
async def run_bot(
    emulator: Emulator,
    account: BotAccount,
    admin: SimUser,
    database_url: str,
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    """The bot wired as in production with some settings changed, polling until the block ends."""
    # The news site these tests serve is on 127.0.0.1, which the bot reads only when allowed.
    settings = make_settings(emulator, database_url, {admin.id}, fetch_allow_private=True)
    settings = settings.model_copy(update=overrides)
    db = Database.connect(settings.database_url)
    application = build_application(settings, db)
    async with polling(application, poll_timeout=1):
        yield RunningBot(emulator, account, admin, settings, db, application)


@dataclass
class Audience:
    """Subscribed chats of every kind."""

    readers: list[SimUser]
    chats: list[SimChat]


async def subscribe_audience(emu: Emulator) -> Audience:
    """Two readers in private chats, a group and a channel, each subscribed through the bot."""
    readers = [emu.create_user("Lea"), emu.create_user("Tom")]
    chats: list[SimChat] = []
    for reader in readers:
        await emu.send_message(reader, "/subscribe")
        chats.append(emu.private_chat(reader))
    owner = emu.create_user("Gus")
    group = emu.create_group("Harbour watchers", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe", chat=group)
    chats.append(group)
    editor = emu.create_user("Cleo")
    channel = emu.create_channel("Coast brief", creator=editor)
    await emu.add_bot_to_chat(channel, by=editor, admin=True)
    await emu.post_in_channel(editor, channel, "/subscribe")
    chats.append(channel)
    for chat in chats:
        await emu.wait_for(partial(_confirmed, emu, chat), what=f"the subscription of {chat.id}")
    return Audience(readers, chats)


def _confirmed(emu: Emulator, chat: SimChat) -> bool:
    return any("Subscribed" in (m.text or "") for m in emu.bot_messages(chat))


def cards(emu: Emulator, chat: SimChat) -> list[SimMessage]:
    """The card messages that carry a poll keyboard in the chat (one per card)."""
    return [
        m
        for m in emu.bot_messages(chat)
        if any("callback_data" in button for row in m.buttons for button in row)
    ]


def entity_text(message: SimMessage, entity: Entity) -> str:
    """The part of the message's text an entity covers (offsets count UTF-16 units)."""
    units = (message.text or "").encode("utf-16-le")
    return units[entity.offset * 2 : entity.end * 2].decode("utf-16-le")


async def reply_after(emu: Emulator, chat: SimChat, after: int) -> SimMessage:
    return await emu.wait_for_bot_message(chat, after=after, timeout=10)


async def final_status(emu: Emulator, status: SimMessage) -> str:
    """The outcome /publish edits its "Fetching …" message into."""
    await emu.wait_for(lambda: status.edits, timeout=15, what="the edited /publish answer")
    return status.text or ""


async def count_articles(db: Database) -> int:
    async with db.transaction() as session:
        return (await session.exec(select(func.count()).select_from(Article))).one()
