"""Autocards: a link to one of our articles posted in a group gets the article's card as a reply.

Only in groups whose admins turned it on (`/autocards on`), once per article per chat (claimed
in the delivery ledger, so a chat that got the card by push does not get it again). A link the
bot does not know is left alone, unless its site is in AUTOCARD_SITES: then the page is read and
stored first (as a draft: nothing is pushed to subscribers), and the card goes to this group.
Reading never leaves the listed sites, and stays within the bounds `bot.sharing.link_reads` keeps.
A draft stored here is never what /publish or the feed job pushes (see `bot.articles.publishing`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from telegram import Bot, Message, MessageEntity
from telegram.error import TelegramError

from bot.articles.links import ArticleLinks, audience_of_chat
from bot.articles.loader import load_card
from bot.articles.publishing import read_source
from bot.articles.sender import post_card, register_shown_card
from bot.services import BotServices
from bot.telegram.errors import Failure, classify
from newsroom.errors import IngestError
from newsroom.urls import canonical_url, on_sites
from storage import articles, autocards, chats, deliveries, engagement
from storage.deliveries import EndedRow, RetryRow, SentRow
from storage.models import Article, ArticleEventKind, ArticleStatus, DeliveryStatus
from storage.types import utcnow

log = logging.getLogger(__name__)

LINKS_PER_MESSAGE = 3  # a message listing many links gets cards for the first few only
_LINK_KINDS = (MessageEntity.URL, MessageEntity.TEXT_LINK)
# Worth another try: the delivery engine sends the claimed card (not as a reply) shortly.
_RETRIED = frozenset({Failure.FLOOD, Failure.TRANSIENT})


def linked_addresses(message: Message) -> list[str]:
    """The canonical web addresses the message links to (text or caption), first ones first."""
    found = [
        *message.parse_entities(list(_LINK_KINDS)).items(),
        *message.parse_caption_entities(list(_LINK_KINDS)).items(),
    ]
    addresses: list[str] = []
    for entity, text in found:
        raw = entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else text
        address = _canonical(raw)
        if address is not None and address not in addresses:
            addresses.append(address)
    return addresses[:LINKS_PER_MESSAGE]


def _canonical(raw: str) -> str | None:
    text = raw.strip()
    # Telegram links "news.example/story" without a scheme; sites serve articles over https.
    if "://" not in text:
        text = f"https://{text}"
    try:
        return canonical_url(text)
    except ValueError:
        return None


async def article_for_link(
    services: BotServices, address: str, *, chat_id: int, user_id: int | None
) -> int | None:
    """The id of our article at this address, reading the page first for AUTOCARD_SITES.

    Raises ReadLimitReached when the page would have to be read and the reader's or the
    group's reads are used up.
    """
    listed = on_sites(address, services.settings.autocard_sites)
    article = await _stored(services, address)
    if article is not None:
        return _cardable(article, listed=listed)
    if not listed:
        return None
    stored_at = await services.link_reads.read(
        address,
        chat_id=chat_id,
        user_id=user_id,
        fetch=partial(_read_and_store, services, address),
    )
    if stored_at is None:
        return None
    # Looked up again: the draft read then may since have been published, or set aside.
    article = await _stored(services, stored_at)
    return _cardable(article, listed=True) if article is not None else None


async def _stored(services: BotServices, address: str) -> Article | None:
    async with services.db.transaction() as session:
        return await articles.find_article(session, url=address)


async def _read_and_store(services: BotServices, address: str) -> str | None:
    """Read the page and store it as a draft; the address it is stored under, or None."""
    try:
        # Every hop stays on the listed sites: a redirect elsewhere is refused, not followed.
        draft = await read_source(
            address,
            settings=services.settings,
            client=services.http,
            sites=services.settings.autocard_sites,
        )
    except IngestError as error:
        log.info("autocard link not read: %s", error)
        return None
    article: Article | None
    try:
        async with services.db.transaction() as session:
            article = (await articles.store_article(session, draft=draft)).article
    except IntegrityError:
        # Someone stored the same page between our read and our write: theirs stands.
        async with services.db.transaction() as session:
            article = await articles.find_article(
                session, url=draft.url, source_guid=draft.source_guid
            )
    return article.canonical_url if article is not None else None


def _cardable(article: Article, *, listed: bool) -> int | None:
    # A draft is shown only where the site was listed (it was stored for an autocard then);
    # an editor's unpublished draft elsewhere, or a withdrawn article, stays unseen.
    if article.status == ArticleStatus.PUBLISHED or (
        listed and article.status == ArticleStatus.DRAFT
    ):
        return article.id
    return None


async def post_autocard(
    bot: Bot, services: BotServices, *, article_id: int, chat_id: int, reply_to: int
) -> bool:
    """Reply with the article's card unless the chat has it already; True when it was posted."""
    async with services.db.transaction() as session:
        delivery_id = await autocards.claim_autocard(
            session, article_id=article_id, chat_id=chat_id
        )
        card = (
            await load_card(
                session,
                article_id,
                links=ArticleLinks.from_settings(services.settings),
                audience=await audience_of_chat(session, chat_id),
            )
            if delivery_id is not None
            else None
        )
    if delivery_id is None or card is None:
        return False
    try:
        posted = await post_card(bot, chat_id=chat_id, card=card, reply_to=reply_to)
    except TelegramError as error:
        await _record_failure(services, delivery_id, error)
        return False
    async with services.db.transaction() as session:
        await deliveries.mark_sent(session, rows=[SentRow(delivery_id, posted.message_id)])
        await register_shown_card(session, card=card, chat_id=chat_id, posted=posted)
        chat = await chats.get_chat(session, chat_id=chat_id)
        await engagement.record_event(
            session,
            article_id=article_id,
            kind=ArticleEventKind.AUTOCARD,
            chat_kind=chat.kind if chat is not None else None,
        )
    return True


async def _record_failure(services: BotServices, delivery_id: int, error: TelegramError) -> None:
    failure = classify(error)
    log.info("autocard delivery %s not sent: %s (%s)", delivery_id, failure.value, error)
    async with services.db.transaction() as session:
        if failure in _RETRIED:
            retry = RetryRow(
                delivery_id, utcnow() + timedelta(seconds=5), failure.value, str(error)
            )
            await deliveries.retry_rows(session, rows=[retry])
        else:
            ended = EndedRow(delivery_id, DeliveryStatus.FAILED, failure.value, str(error))
            await deliveries.end_rows(session, rows=[ended])
    if failure in _RETRIED:
        services.delivery.wake()
