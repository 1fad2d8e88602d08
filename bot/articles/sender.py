"""Posting article cards: to subscribers through the delivery engine, or to one reader who asks.

A card with an image is a photo with a short caption followed by a message holding the rest and
the keyboard; without one it is a single message. Either way the message carrying the poll
keyboard is the one whose id is returned and registered as a poll message. A photo Telegram
cannot fetch does not lose the reader the story: the card goes out as text instead.

Cards are posted lean (`bot.telegram.lean_send`): a fan-out encodes a card's keyboard and
fingerprint once (`WireCard`) and sends it to every chat; errors are raised as ever.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import unescape

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.articles.card import Card, render_card
from bot.articles.links import PLAIN_LINKS, ArticleLinks, audience_of_chat
from bot.articles.loader import ArticleCard, load_card
from bot.delivery.senders import topic_thread
from bot.polls.view import view_fingerprint
from bot.telegram import lean_send
from bot.telegram.errors import Failure, classify
from storage import corrections, polls
from storage.engine import Database
from storage.models import ChatKind

CARD_CACHE_SECONDS = 5.0
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class PostedCard:
    """Where a card went: the message carrying its keyboard, and what that message shows."""

    message_id: int
    # None when what was sent is not the rendered HTML (plain text after a markup error).
    fingerprint: str | None
    # The photo above the keyboard's message, for an image card.
    photo_message_id: int | None = None
    # The article's revision the card was rendered from (a later correction makes it stale).
    revision: int = 0


def plain_text(html: str) -> str:
    """What a reader would see of the card's HTML, as text without any markup."""
    return unescape(_TAG.sub("", html))


@dataclass(frozen=True)
class WireCard:
    """A rendered card with what every send of it needs, encoded once."""

    card: Card
    # The keyboard as the ``reply_markup`` parameter goes on the wire.
    keyboard: str
    # What the keyboard's message shows (bot.polls.view), as its poll message records.
    fingerprint: str


def wire_card(card: Card) -> WireCard:
    """The card with its keyboard encoded and its fingerprint taken."""
    return WireCard(
        card, lean_send.keyboard_json(card.markup), view_fingerprint(card.text_html, card.markup)
    )


def _text_only(card: ArticleCard) -> Card:
    return render_card(replace(card.article, image_url=None), poll=card.poll)


async def post_card(
    bot: Bot,
    *,
    chat_id: int,
    card: ArticleCard,
    rendered: WireCard | None = None,
    plain: bool = False,
    paid: bool = False,
    reply_to: int | None = None,
    thread_id: int | None = None,
) -> PostedCard:
    """Send the card to the chat; a photo Telegram refuses is replaced by the text-only card.

    `rendered` is the card already rendered and encoded (a fan-out's cache), else it is made.
    `paid` sends as a paid broadcast (ALLOW_PAID_BROADCAST), for the delivery engine's fan-out.
    `reply_to` makes the card's first message a reply to that message of the chat.
    `thread_id` puts both of the card's messages in that forum topic.
    """
    wire = rendered or wire_card(card.render())
    shown = wire.card
    photo_message_id: int | None = None
    # None leaves the parameter off the request, as an ordinary send.
    paid_broadcast = True if paid else None
    parse_mode = None if plain else ParseMode.HTML
    # A card still goes out when the message it answers was deleted meanwhile.
    reply = (
        {"message_id": reply_to, "allow_sending_without_reply": True}
        if reply_to is not None
        else None
    )
    if shown.photo_url is not None and shown.caption_html is not None:
        try:
            photo_message_id = await lean_send.send(
                bot,
                "sendPhoto",
                {
                    "chat_id": chat_id,
                    "photo": shown.photo_url,
                    "caption": plain_text(shown.caption_html) if plain else shown.caption_html,
                    "parse_mode": parse_mode,
                    "allow_paid_broadcast": paid_broadcast,
                    "reply_parameters": reply,
                    "message_thread_id": thread_id,
                },
            )
            # The follow-up sits right under the photo: only the first message is the reply.
            reply = None
        except BadRequest as error:
            if classify(error) is not Failure.OTHER:
                raise
            # The image address is unusable (not found, not an image): send the card as text.
            wire = wire_card(_text_only(card))
            shown = wire.card
    message_id = await lean_send.send(
        bot,
        "sendMessage",
        {
            "chat_id": chat_id,
            "text": plain_text(shown.text_html) if plain else shown.text_html,
            "parse_mode": parse_mode,
            "reply_markup": wire.keyboard,
            "allow_paid_broadcast": paid_broadcast,
            "reply_parameters": reply,
            "message_thread_id": thread_id,
        },
    )
    fingerprint = None if plain else wire.fingerprint
    return PostedCard(message_id, fingerprint, photo_message_id, card.article.revision)


async def register_shown_card(
    session: AsyncSession, *, card: ArticleCard, chat_id: int, posted: PostedCard
) -> None:
    """Keep the posted card's poll totals live, and the copy known to later corrections."""
    if card.poll is not None:
        await polls.register_poll_message(
            session,
            poll_id=card.poll.poll_id,
            chat_id=chat_id,
            message_id=posted.message_id,
            shown_hash=posted.fingerprint,
        )
    await corrections.note_copy(
        session,
        article_id=card.article.article_id,
        revision=posted.revision,
        chat_id=chat_id,
        message_id=posted.message_id,
        photo_message_id=posted.photo_message_id,
        on_request=True,
    )


@dataclass(frozen=True)
class _Cached:
    card: ArticleCard
    rendered: WireCard
    expires: float


class ArticleSender:
    """The delivery engine's sender of article cards (an ItemSender; `item_id` is the article).

    A fan-out sends the same card to many chats within seconds, so the card is loaded and
    rendered once per `cache_seconds` per article (and kind of chat, when `links` make links
    differ by kind) rather than once per chat.
    """

    def __init__(
        self,
        db: Database,
        *,
        paid: bool = False,
        links: ArticleLinks = PLAIN_LINKS,
        cache_seconds: float = CARD_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._paid = paid
        self._links = links
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[tuple[int, ChatKind], _Cached] = {}
        self._locks: dict[tuple[int, ChatKind], asyncio.Lock] = {}
        # A chat's kind, read once: the card's link depends on it (only when links vary).
        self._kinds: dict[int, ChatKind] = {}
        # What each sent message shows, kept from send() until after_sent() records it.
        self._posted: dict[tuple[int, int], PostedCard] = {}

    def forget(self, article_id: int) -> None:
        """The article changed (a correction): render its card afresh from now on."""
        self._cache = {key: value for key, value in self._cache.items() if key[0] != article_id}

    async def _audience(self, chat_id: int) -> ChatKind:
        if not self._links.per_audience:
            return ChatKind.PRIVATE  # every kind of chat gets the same card
        if (kind := self._kinds.get(chat_id)) is None:
            async with self._db.transaction() as session:
                kind = await audience_of_chat(session, chat_id)
            self._kinds[chat_id] = kind
        return kind

    async def _card(self, article_id: int, chat_id: int) -> _Cached:
        audience = await self._audience(chat_id)
        key = (article_id, audience)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            now = self._clock()
            if cached is not None and cached.expires > now:
                return cached
            async with self._db.transaction() as session:
                card = await load_card(session, article_id, links=self._links, audience=audience)
            if card is None:
                raise LookupError(f"article {article_id} is not stored")
            fresh = _Cached(card, wire_card(card.render()), now + self._cache_seconds)
            self._cache = {
                held: value for held, value in self._cache.items() if value.expires > now
            }
            self._cache[key] = fresh
            return fresh

    async def send(
        self, bot: Bot, *, chat_id: int, item_id: int, plain: bool, thread_id: int
    ) -> int:
        """Post the article's card; return the id of the message that carries the keyboard."""
        cached = await self._card(item_id, chat_id)
        posted = await post_card(
            bot,
            chat_id=chat_id,
            card=cached.card,
            rendered=cached.rendered,
            plain=plain,
            paid=self._paid,
            thread_id=topic_thread(thread_id),
        )
        self._posted[(chat_id, posted.message_id)] = posted
        return posted.message_id

    async def after_sent(
        self, session: AsyncSession, *, chat_id: int, item_id: int, message_id: int
    ) -> None:
        """Register the card's poll message, in the transaction that marks the delivery sent,
        and have a correction confirmed since the card was rendered reach this copy too."""
        posted = self._posted.pop((chat_id, message_id), PostedCard(message_id, None))
        poll = await polls.poll_for_article(session, article_id=item_id)
        if poll is not None and poll.id is not None:
            await polls.register_poll_message(
                session,
                poll_id=poll.id,
                chat_id=chat_id,
                message_id=message_id,
                shown_hash=posted.fingerprint,
            )
        await corrections.note_copy(
            session,
            article_id=item_id,
            revision=posted.revision,
            chat_id=chat_id,
            message_id=message_id,
            photo_message_id=posted.photo_message_id,
        )
