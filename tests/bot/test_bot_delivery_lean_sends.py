"""The engine's sends posted lean (bot.telegram.lean_send) against the emulator: every refusal
raises what python-telegram-bot's typed methods raise, and the engine acts on it as before.

The engine's bot here refuses python-telegram-bot's typed send methods outright, so whatever
these tests see delivered went the lean path.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from clock_support import clock_of
from delivery_world import copies_per_chat, received, rows_left, subscribe_group, subscribe_readers
from harness import BOT_TOKEN, wait_until
from polls_support import create_article_poll, expected_content
from sqlmodel import col, select
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageId,
    ReplyParameters,
)
from telegram._utils.types import ODVInput
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from bot.articles.sender import ArticleSender
from bot.broadcasts.sender import BroadcastSender
from bot.delivery.engine import DeliveryEngine
from bot.digests.sender import DigestSender
from bot.telegram import lean_send
from bot.telegram.errors import Failure, classify, migrated_to, retry_after_seconds
from bot.telegram.limiter import SendLimiter, SendRates
from bot.telegram.transport import AiohttpRequest
from emulator.formatting import parse_html
from emulator.limits import RateLimits
from emulator.simulation import Emulator, SimChat, SimUser
from emulator.state import Member
from storage import broadcasts, chats, deliveries, digests, polls
from storage.digests import DigestTarget
from storage.engine import Database
from storage.migrate import upgrade
from storage.models import (
    Article,
    ArticleStatus,
    Chat,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    PollMessage,
    StopReason,
)
from storage.types import utcnow

UNKNOWN_CHAT = -4_999_999_999
# The token's secret half: it must never show in an error.
SECRET = BOT_TOKEN.split(":", 1)[1]
REFUSED = "the engine's sends must go the lean path"


class LeanOnlyBot(ExtBot[None]):
    """python-telegram-bot's bot with its typed send methods refused: only lean sends work."""

    async def send_message(self, *args: Any, **kwargs: Any) -> Message:
        del args, kwargs
        raise AssertionError(REFUSED)

    async def send_photo(self, *args: Any, **kwargs: Any) -> Message:
        del args, kwargs
        raise AssertionError(REFUSED)

    async def copy_message(self, *args: Any, **kwargs: Any) -> MessageId:
        del args, kwargs
        raise AssertionError(REFUSED)


# --- the same refusal, typed or lean ----------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """One sendMessage, as both paths are asked to make it."""

    chat_id: int
    text: str = "Harbour closed until noon"
    thread_id: int | None = None

    def typed(self, bot: ExtBot[None]) -> Awaitable[object]:
        return bot.send_message(
            self.chat_id, self.text, parse_mode=ParseMode.HTML, message_thread_id=self.thread_id
        )

    def lean(self, bot: ExtBot[None]) -> Awaitable[int]:
        parameters = {
            "chat_id": self.chat_id,
            "text": self.text,
            "parse_mode": ParseMode.HTML,
            "message_thread_id": self.thread_id,
        }
        return lean_send.send(bot, "sendMessage", parameters)


def _blocked(emu: Emulator) -> Send:
    chat = emu.private_chat(emu.create_user("Bea"))
    chat.blocked = True
    return Send(chat.id)


def _never_started(emu: Emulator) -> Send:
    return Send(emu.private_chat(emu.create_user("Cal")).id)


def _kicked(emu: Emulator) -> Send:
    group = emu.create_group("Ferry users", creator=emu.create_user("Dee"))
    account = next(iter(emu.world.bots.values()))
    group.members[account.id] = Member(account.user, "kicked")
    return Send(group.id)


def _unknown_chat(emu: Emulator) -> Send:
    del emu
    return Send(UNKNOWN_CHAT)


def _broken_markup(emu: Emulator) -> Send:
    return Send(_reader(emu).id, text="<b>Unclosed bold")


def _too_long(emu: Emulator) -> Send:
    return Send(_reader(emu).id, text="x" * 4097)


def _forum(emu: Emulator, owner: SimUser) -> SimChat:
    forum = emu.create_forum("Transit desk", creator=owner)
    account = next(iter(emu.world.bots.values()))
    forum.members[account.id] = Member(account.user, "member")
    return forum


def _gone_topic(emu: Emulator) -> Send:
    return Send(_forum(emu, emu.create_user("Eve")).id, thread_id=9_999)


def _closed_topic(emu: Emulator) -> Send:
    owner = emu.create_user("Ezra")
    forum = _forum(emu, owner)
    topic = emu.create_topic(forum, "Roadworks", by=owner)
    emu.close_topic(forum, topic, by=owner)
    return Send(forum.id, thread_id=topic.thread_id)


def _bad_gateway(emu: Emulator) -> Send:
    emu.inject_faults(502, methods={"sendMessage"}, count=2)
    return Send(_reader(emu).id)


def _timeout(emu: Emulator) -> Send:
    # Held past the bot's read timeout (1 s here): the client gives up.
    emu.inject_faults("timeout", methods={"sendMessage"}, count=2, hold=2.0)
    return Send(_reader(emu).id)


def _reader(emu: Emulator) -> SimChat:
    chat = emu.private_chat(emu.create_user("Fin"))
    chat.started = True
    return chat


REFUSALS: list[tuple[Callable[[Emulator], Send], Failure]] = [
    (_blocked, Failure.BLOCKED),
    (_never_started, Failure.BLOCKED),
    (_kicked, Failure.KICKED),
    (_unknown_chat, Failure.CHAT_NOT_FOUND),
    (_broken_markup, Failure.BAD_MARKUP),
    (_too_long, Failure.OTHER),
    (_gone_topic, Failure.TOPIC_DELETED),
    (_closed_topic, Failure.TOPIC_CLOSED),
    (_bad_gateway, Failure.TRANSIENT),
    (_timeout, Failure.TRANSIENT),
]


@pytest.fixture(name="emulator")
async def still_emulator_fixture(manual_clock_emulator: Emulator) -> Emulator:
    """The emulator on a clock that stands still: a chat it floods stays flooded."""
    return manual_clock_emulator


class BodiesKept(AiohttpRequest):
    """The application's transport, keeping each call's JSON body as it went on the wire."""

    def __init__(self, *, read_timeout: float) -> None:
        super().__init__(read_timeout=read_timeout)
        self.bodies: list[tuple[str, dict[str, str]]] = []

    async def do_request(  # noqa: PLR0917  # the signature is python-telegram-bot's
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None:
            body: dict[str, str] = json.loads(request_data.json_payload)
            self.bodies.append((url.rsplit("/", 1)[-1], body))
        return await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )


@pytest.fixture(name="plain_bot")
async def plain_bot_fixture(emulator: Emulator) -> AsyncIterator[ExtBot[None]]:
    """The application's transport and limiter; a 429 is raised at once, never retried."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    bot: ExtBot[None] = ExtBot(
        BOT_TOKEN,
        base_url=emulator.base_url,
        rate_limiter=SendLimiter(SendRates(private_interval=0.0, max_retries=0)),
        request=BodiesKept(read_timeout=1.0),
    )
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def _raised(call: Awaitable[object]) -> TelegramError:
    try:
        await call
    except TelegramError as error:
        return error
    raise AssertionError("the send was not refused")


def _described(error: TelegramError) -> tuple[object, ...]:
    return (type(error), error.message, retry_after_seconds(error), migrated_to(error))


@pytest.mark.parametrize(
    ("situation", "failure"), REFUSALS, ids=[situation.__name__[1:] for situation, _ in REFUSALS]
)
async def test_a_lean_send_is_refused_as_the_typed_one(
    emulator: Emulator,
    plain_bot: ExtBot[None],
    situation: Callable[[Emulator], Send],
    failure: Failure,
) -> None:
    """Each refusal Telegram gives a send raises the same exception, with the same text, from
    the lean path as from python-telegram-bot's send_message, and never shows the token."""
    send = situation(emulator)
    typed = await _raised(send.typed(plain_bot))
    lean = await _raised(send.lean(plain_bot))
    assert _described(lean) == _described(typed)
    assert classify(lean) is failure
    assert SECRET not in f"{lean!s} {lean!r}"


async def test_a_lean_send_is_refused_as_the_typed_one_in_a_flood(
    emulator: Emulator, plain_bot: ExtBot[None]
) -> None:
    """A 429 the limiter does not retry (max_retries=0) reaches the caller as RetryAfter with
    Telegram's wait, the same from both paths."""
    emulator.limits = RateLimits(per_chat_per_second=0.5, per_chat_burst=1)
    send = Send(_reader(emulator).id)
    await send.lean(plain_bot)
    typed = await _raised(send.typed(plain_bot))
    lean = await _raised(send.lean(plain_bot))
    assert _described(lean) == _described(typed)
    assert classify(lean) is Failure.FLOOD
    assert retry_after_seconds(lean) == 2.0


async def test_a_lean_send_is_refused_as_the_typed_one_after_an_upgrade(
    emulator: Emulator, plain_bot: ExtBot[None]
) -> None:
    """A send to a group that became a supergroup raises ChatMigrated with the new id."""
    group = emulator.create_group("Night buses", creator=emulator.create_user("Gus"))
    account = next(iter(emulator.world.bots.values()))
    group.members[account.id] = Member(account.user, "member")
    supergroup = await emulator.upgrade_to_supergroup(group)
    send = Send(group.id)
    typed = await _raised(send.typed(plain_bot))
    lean = await _raised(send.lean(plain_bot))
    assert _described(lean) == _described(typed)
    assert migrated_to(lean) == supergroup.id


async def test_a_lean_send_asks_what_the_typed_one_asks(
    emulator: Emulator, plain_bot: ExtBot[None]
) -> None:
    """A photo, a message with a keyboard, a reply, no link preview and the paid flag, and a
    copy: the lean path's requests carry exactly the parameters python-telegram-bot's do, each
    value the same text on the wire, and Telegram takes them alike."""
    emulator.limits = RateLimits.unlimited()
    chat = _reader(emulator)
    first = await plain_bot.send_message(chat.id, "Earlier news")
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="v1:1:0")],
            [InlineKeyboardButton("No", url="https://news.example/")],
        ]
    )
    reply = {"message_id": first.message_id, "allow_sending_without_reply": True}
    await plain_bot.send_photo(
        chat.id,
        "https://news.example/square.jpg",
        caption="<b>Tram</b> lines",
        parse_mode=ParseMode.HTML,
    )
    await lean_send.send(
        plain_bot,
        "sendPhoto",
        {
            "chat_id": chat.id,
            "photo": "https://news.example/square.jpg",
            "caption": "<b>Tram</b> lines",
            "parse_mode": ParseMode.HTML,
        },
    )
    await plain_bot.send_message(
        chat.id,
        "<i>Vote</i> now",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
        reply_parameters=ReplyParameters(first.message_id, allow_sending_without_reply=True),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        allow_paid_broadcast=True,
    )
    await lean_send.send(
        plain_bot,
        "sendMessage",
        {
            "chat_id": chat.id,
            "text": "<i>Vote</i> now",
            "parse_mode": ParseMode.HTML,
            "reply_markup": lean_send.keyboard_json(keyboard),
            "reply_parameters": reply,
            "link_preview_options": {"is_disabled": True},
            "allow_paid_broadcast": True,
        },
    )
    await plain_bot.copy_message(chat.id, chat.id, first.message_id)
    await lean_send.send(
        plain_bot,
        "copyMessage",
        {"chat_id": chat.id, "from_chat_id": chat.id, "message_id": first.message_id},
    )
    assert isinstance(plain_bot.request, BodiesKept)
    bodies = plain_bot.request.bodies
    for method in ("sendPhoto", "sendMessage", "copyMessage"):
        *_, typed, lean = emulator.requests(method)
        assert (lean.params, lean.status) == (typed.params, 200)
        *_, typed_body, lean_body = [body for name, body in bodies if name == method]
        assert _read(lean_body) == _read(typed_body)


def _read(body: dict[str, str]) -> dict[str, object]:
    """A body's values as sent, objects decoded (their keys' order is no part of the call)."""
    return {k: json.loads(v) if v.startswith(("{", "[")) else v for k, v in body.items()}


async def test_a_lean_send_says_what_a_message_without_an_id_is(
    emulator: Emulator, plain_bot: ExtBot[None]
) -> None:
    """An answer that is "ok" but carries no message raises a TelegramError saying so."""
    emulator.inject_faults("result", methods={"sendMessage"}, count=1, result=True)
    error = await _raised(Send(_reader(emulator).id).lean(plain_bot))
    assert error.message == "Telegram answered sendMessage without a message id"
    assert classify(error) is Failure.OTHER


# --- the engine on the lean path --------------------------------------------------------------


@dataclass
class LeanWorld:
    emulator: Emulator
    db: Database
    bot: LeanOnlyBot
    limiter: SendLimiter
    engine: DeliveryEngine


async def _lean_world(
    emulator: Emulator, tmp_path: Path, rates: SendRates
) -> AsyncIterator[LeanWorld]:
    """An engine sending every kind of item through a LeanOnlyBot."""
    emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    db = Database.connect(f"sqlite+aiosqlite:///{tmp_path / 'lean.db'}")
    await upgrade(db)
    limiter = SendLimiter(rates)
    bot = LeanOnlyBot(
        BOT_TOKEN, base_url=emulator.base_url, rate_limiter=limiter, request=AiohttpRequest()
    )
    await bot.initialize()
    engine = DeliveryEngine(db, bot)
    engine.register(DeliveryKind.BROADCAST, BroadcastSender(db))
    engine.register(DeliveryKind.ARTICLE, ArticleSender(db))
    engine.register(DeliveryKind.DIGEST, DigestSender(db))
    try:
        yield LeanWorld(emulator, db, bot, limiter, engine)
    finally:
        await engine.stop()
        await bot.shutdown()
        await db.dispose()


@pytest.fixture(name="lean_world")
async def lean_world_fixture(emulator: Emulator, tmp_path: Path) -> AsyncIterator[LeanWorld]:
    """The lean engine; a 429 that slips through goes back to the engine at once."""
    rates = SendRates(private_interval=0.0, max_retries=0)
    async for world in _lean_world(emulator, tmp_path, rates):
        yield world


@pytest.fixture(name="patient_world")
async def patient_world_fixture(emulator: Emulator, tmp_path: Path) -> AsyncIterator[LeanWorld]:
    """The lean engine with the limiter's own retries after a 429 (the application's five)."""
    async for world in _lean_world(emulator, tmp_path, SendRates(private_interval=0.0)):
        yield world


async def _broadcast(world: LeanWorld, html: str) -> int:
    async with world.db.transaction() as session:
        draft = await broadcasts.create_broadcast(session, author_id=1, html=html)
        assert draft.id is not None
        await broadcasts.start_broadcast(session, broadcast_id=draft.id, report_chat_id=1)
    world.engine.wake()
    return draft.id


async def _all_done(world: LeanWorld) -> None:
    async def done() -> bool:
        return await rows_left(world.db) == 0

    await wait_until(done, timeout=30, what="every delivery to be recorded")


async def _row(world: LeanWorld, chat_id: int) -> Delivery:
    async with world.db.transaction() as session:
        statement = select(Delivery).where(col(Delivery.chat_id) == chat_id)
        return (await session.exec(statement)).one()


async def _stopped(world: LeanWorld) -> dict[int, StopReason | None]:
    async with world.db.transaction() as session:
        statement = select(Chat).where(col(Chat.active).is_(False))
        return {chat.id: chat.stop_reason for chat in await session.exec(statement)}


async def test_lean_sends_stop_unreachable_chats_and_follow_a_migration(
    lean_world: LeanWorld,
) -> None:
    """Through the lean path: a reader who blocked the bot and a chat Telegram does not know
    stop receiving pushes with their reason; a group upgraded to a supergroup moves to its new
    id and gets the broadcast there once; everyone else gets it once."""
    world, emu = lean_world, lean_world.emulator
    readers = await subscribe_readers(emu, world.db, 4)
    blocked = readers[0]
    emu.private_chat(blocked).blocked = True
    group = await subscribe_group(emu, world.db, emu.create_user("Hal"), "Cyclists")
    supergroup = await emu.upgrade_to_supergroup(group)
    async with world.db.transaction() as session:
        await chats.upsert_chat(session, chat_id=UNKNOWN_CHAT, kind=ChatKind.GROUP, title="Gone")
        await chats.subscribe_chat(session, chat_id=UNKNOWN_CHAT)
    await world.engine.start()
    await _broadcast(world, "<b>Bridge</b> reopens Monday")
    await _all_done(world)

    assert copies_per_chat(emu, readers[1:], "Bridge reopens Monday") == {1: 3}
    assert received(emu, emu.private_chat(blocked), "Bridge reopens Monday") == 0
    assert received(emu, supergroup, "Bridge reopens Monday") == 1
    assert await _stopped(world) == {
        blocked.id: StopReason.BLOCKED,
        UNKNOWN_CHAT: StopReason.CHAT_NOT_FOUND,
        group.id: StopReason.MIGRATED,
    }
    blocked_row = await _row(world, blocked.id)
    assert (blocked_row.status, blocked_row.failure) == (DeliveryStatus.FAILED, Failure.BLOCKED)
    assert blocked_row.last_error == "Forbidden: bot was blocked by the user"
    moved_row = await _row(world, supergroup.id)
    assert (moved_row.status, moved_row.attempts) == (DeliveryStatus.SENT, 2)


async def _flood(world: LeanWorld) -> SimChat:
    """A reader whose chat Telegram refuses until its clock moves on: it just got a message."""
    world.emulator.limits = RateLimits(per_chat_per_second=1.0, per_chat_burst=1)
    (reader,) = await subscribe_readers(world.emulator, world.db, 1)
    chat = world.emulator.private_chat(reader)
    await lean_send.send(world.bot, "sendMessage", {"chat_id": chat.id, "text": "Earlier news"})
    return chat


async def _first_429_then_time_passes(world: LeanWorld) -> None:
    await world.emulator.wait_for(lambda: world.emulator.count_errors(429) >= 1, timeout=10)
    clock_of(world.emulator).advance(1.0)


async def test_a_flood_the_limiter_lets_through_is_retried_by_the_engine(
    lean_world: LeanWorld,
) -> None:
    """Through the lean path, a 429 the limiter does not retry sends the row back to pending
    with Telegram's wait; once the wait is over the reader gets the broadcast exactly once."""
    world = lean_world
    chat = await _flood(world)
    await world.engine.start()
    await _broadcast(world, "Storm warning")
    await _first_429_then_time_passes(world)
    await _all_done(world)

    assert received(world.emulator, chat, "Storm warning") == 1
    row = await _row(world, chat.id)
    assert row.status is DeliveryStatus.SENT
    assert row.attempts >= 2
    # python-telegram-bot's text for Telegram's retry_after of 1 s (as a timedelta).
    assert row.last_error == "Flood control exceeded. Retry in 0:00:01"


async def test_a_flood_is_waited_out_by_the_limiter(patient_world: LeanWorld) -> None:
    """Through the lean path, the limiter pauses the flooded chat for Telegram's wait and sends
    again itself: the reader gets the broadcast once, and the row was claimed only once."""
    world = patient_world
    chat = await _flood(world)
    await world.engine.start()
    await _broadcast(world, "Storm warning")
    await _first_429_then_time_passes(world)
    await _all_done(world)

    assert received(world.emulator, chat, "Storm warning") == 1
    assert world.limiter.retries_after_429 >= 1
    row = await _row(world, chat.id)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 1, None)


async def test_cards_and_digests_go_the_lean_path(lean_world: LeanWorld) -> None:
    """Through the lean path, an article's card reaches each subscriber as a photo and the
    message with the poll's keyboard, registered as a poll message showing what was sent; a
    digest reaches its chat as one message listing the article."""
    world, emu = lean_world, lean_world.emulator
    readers = await subscribe_readers(emu, world.db, 2)
    poll_id = await create_article_poll(world.db)
    async with world.db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        assert record.article_id is not None
        article = await session.get(Article, record.article_id)
        assert article is not None
        article.image_url = "https://news.example/square.jpg"
        article.status = ArticleStatus.PUBLISHED
        article.pushed_at = utcnow() - timedelta(minutes=5)
        session.add(article)
        await deliveries.queue_article(session, article_id=record.article_id)
    await world.engine.start()
    world.engine.wake()
    await _all_done(world)
    expected = await expected_content(world.db, poll_id)

    for reader in readers:
        photo, card = emu.bot_messages(emu.private_chat(reader))
        assert photo.photo
        assert card.text == parse_html(expected.text_html)[0]
        assert card.buttons
    async with world.db.transaction() as session:
        shown = (await session.exec(select(PollMessage).order_by(col(PollMessage.chat_id)))).all()
    assert [(m.chat_id, m.shown_hash) for m in shown] == [
        (reader.id, expected.fingerprint) for reader in sorted(readers, key=lambda r: r.id)
    ]

    # The same article, in the digest of a chat that takes digests instead of cards.
    (digest_reader,) = await subscribe_readers(emu, world.db, 1)
    async with world.db.transaction() as session:
        digest = await digests.create_digest(
            session,
            target=DigestTarget(
                digest_reader.id, 0, DeliveryMode.DAILY, 8, None, None, (), None, None
            ),
            period="2030-01-01",
            window_start=utcnow() - timedelta(days=1),
            window_end=utcnow(),
        )
    assert digest is not None
    world.engine.wake()
    await _all_done(world)
    (sent,) = emu.bot_messages(emu.private_chat(digest_reader))
    assert "City votes on a car-free centre" in (sent.text or "")
