"""Sharing articles: inline mode, the chosen inline result, /share, /autocards and links in groups.

Every copy of a card keeps its live poll: a card posted through inline mode is registered by its
inline message id when the reader picks it, and votes in it count in the same poll.
"""

from __future__ import annotations

import logging
from html import escape
from urllib.parse import urlencode

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.admins import AdminChat, admin_command, is_chat_admin
from bot.articles.card import share_query
from bot.articles.links import ArticleLinks
from bot.articles.loader import card_article, card_for
from bot.polls.live_totals import MessageRef
from bot.services import BotContext
from bot.sharing.autocards import article_for_link, linked_addresses, post_autocard
from bot.sharing.inline_search import (
    CACHE_SECONDS,
    PAGE_SIZE,
    InlineSearch,
    article_of_result,
    inline_result,
    parse_query,
)
from bot.sharing.link_reads import ReadLimitReached
from bot.telegram.command_input import sole_id
from bot.telegram.deeplinks import article_payload
from bot.telegram.records import remember_chat, remember_user
from storage import articles, autocards, corrections, engagement, polls
from storage.models import Article, ArticleEventKind, ArticleStatus

log = logging.getLogger(__name__)

# An inline copy's card may be older than any correction of its article.
UNKNOWN_REVISION = -1

SHARE_USAGE = "Send /share followed by an article id, e.g. /share 12."
NO_SUCH_ARTICLE = "There is no article {id}."
NOT_PUBLISHED = "Article {id} is not published yet, so its links would not open it."
AUTOCARDS_GROUPS_ONLY = (
    "Autocards are for groups: send /autocards on in a group you administer, and links to our "
    "articles posted there get their card."
)
AUTOCARDS_ADMINS_ONLY = "Only this group's admins can turn autocards on or off."
AUTOCARDS_ON = (
    "✅ Autocards on: a link to one of our articles posted here gets its card, once per article."
)
AUTOCARDS_OFF = "Autocards off: links posted here are left alone."
AUTOCARDS_STATUS = "Autocards are {state} here. Send /autocards on or /autocards off."
AUTOCARDS_CANNOT_SEE = (
    "Note: I only see links here once I am an admin of this group (or my privacy mode is off)."
)
AUTOCARDS_READS_PAUSED = (
    "That is a lot of new links in a short while: I will read more of them in a few minutes. "
    "Links to articles I already have still get their card."
)


# --- inline mode -------------------------------------------------------------------------------


async def inline_query(update: Update, context: BotContext) -> None:
    """`@bot <words>`: matching published articles, newest first, a page of up to 50 cards."""
    if (query := update.inline_query) is None:
        return
    search = parse_query(query.query, query.offset)
    async with context.services.db.transaction() as session:
        found = await _matching(session, search)
        # Telegram does not say where a chosen inline result is posted: links say "inline".
        links = ArticleLinks.from_settings(context.services.settings)
        cards = [await card_for(session, article, links=links, audience=None) for article in found]
    await query.answer(
        [inline_result(card) for card in cards],
        cache_time=CACHE_SECONDS,
        is_personal=False,
        next_offset=search.next_offset(len(found)),
    )


async def _matching(session: AsyncSession, search: InlineSearch) -> list[Article]:
    if search.article_id is not None:
        article = await articles.get_published_article(session, article_id=search.article_id)
        if article is not None:
            return [article] if search.offset == 0 else []
    # No such article (a mistyped or unpublished id): the words after it still search.
    return await articles.search_articles(
        session, text=search.words, limit=PAGE_SIZE, offset=search.offset
    )


async def chosen_result(update: Update, context: BotContext) -> None:
    """A reader posted a card through inline mode: the share is counted, and its poll totals
    are kept live from now on."""
    if (chosen := update.chosen_inline_result) is None:
        return
    article_id = article_of_result(chosen.result_id)
    if article_id is None:
        return
    inline_id = chosen.inline_message_id
    async with context.services.db.transaction() as session:
        await remember_user(session, chosen.from_user)
        # Counted whether or not the article has a poll; Telegram does not say in which chat.
        await engagement.record_event(session, article_id=article_id, kind=ArticleEventKind.SHARE)
        if inline_id is not None:
            # Rendered whenever the results were listed: any correction so far may be missing.
            await corrections.note_copy(
                session,
                article_id=article_id,
                revision=UNKNOWN_REVISION,
                inline_message_id=inline_id,
            )
        poll = await polls.poll_for_article(session, article_id=article_id)
        if poll is None or poll.id is None or inline_id is None:
            return
        # What the copy shows was rendered when the results were listed (maybe a while ago, or
        # from Telegram's cache): registered as unknown, so live totals compare and fix it.
        await polls.register_poll_message(session, poll_id=poll.id, inline_message_id=inline_id)
    log.info("article %s shared inline by user %s", article_id, chosen.from_user.id)
    context.services.live_totals.poll_changed(
        poll.id, tapped=MessageRef(inline_message_id=inline_id)
    )


# --- /share ------------------------------------------------------------------------------------


def _article_id(args: list[str] | None) -> int | None:
    # One argument: the id alone, or as the deep-link payload (a_12) that /share hands out.
    return sole_id([arg.removeprefix("a_") for arg in args or ()])


@admin_command
async def share(_update: Update, context: BotContext, chat: AdminChat) -> None:
    """An admin's two ways to share an article: the deep link and the inline card."""
    if (article_id := _article_id(context.args)) is None:
        await chat.say(SHARE_USAGE)
        return
    async with context.services.db.transaction() as session:
        article = await articles.get_article(session, article_id=article_id)
    if article is None:
        await chat.say(NO_SUCH_ARTICLE.format(id=article_id))
        return
    if article.status != ArticleStatus.PUBLISHED:
        await chat.say(NOT_PUBLISHED.format(id=article_id))
        return
    text, markup = share_links(article, bot_username=context.bot.username)
    await chat.say(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
    )


def deep_link(bot_username: str, article_id: int) -> str:
    """The address that opens the article's card in a chat with the bot."""
    return f"https://t.me/{bot_username}?start={article_payload(article_id)}"


def share_links(article: Article, *, bot_username: str) -> tuple[str, InlineKeyboardMarkup]:
    """The /share answer: both links explained, with buttons that use them."""
    card = card_article(article)
    link = deep_link(bot_username, card.article_id)
    inline = f"@{bot_username} {article_payload(card.article_id)}"
    text = (
        f"<b>{escape(card.title, quote=False)}</b>\n\n"
        f"Link that opens the card in a chat with me:\n{escape(link, quote=False)}\n\n"
        "To post the card with its live poll in any chat, type there:\n"
        f"<code>{escape(inline, quote=False)}</code>"
    )
    forward = "https://t.me/share/url?" + urlencode({"url": link, "text": card.title})
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("↗️ Share the card", switch_inline_query=share_query(card))],
            [InlineKeyboardButton("🔗 Share the link", url=forward)],
        ]
    )
    return text, markup


# --- autocards ---------------------------------------------------------------------------------


async def autocards_command(update: Update, context: BotContext) -> None:
    """`/autocards on|off` in a group, by its admins; without an argument, the current state."""
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    if chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        await message.reply_text(AUTOCARDS_GROUPS_ONLY)
        return
    if not await is_chat_admin(update, context):
        await message.reply_text(AUTOCARDS_ADMINS_ONLY)
        return
    choice = context.args[0].lower() if context.args else ""
    async with context.services.db.transaction() as session:
        await remember_user(session, update.effective_user)
        await remember_chat(session, chat)
        if choice in ("on", "off"):
            await autocards.set_autocards(session, chat_id=chat.id, enabled=choice == "on")
        enabled = await autocards.autocards_enabled(session, chat_id=chat.id)
    if choice not in ("on", "off"):
        await message.reply_text(AUTOCARDS_STATUS.format(state="on" if enabled else "off"))
        return
    if not enabled:
        await message.reply_text(AUTOCARDS_OFF)
        return
    reply = AUTOCARDS_ON
    if not await _sees_every_message(context, chat.id):
        reply = f"{AUTOCARDS_ON}\n\n{AUTOCARDS_CANNOT_SEE}"
    await message.reply_text(reply)


async def _sees_every_message(context: BotContext, chat_id: int) -> bool:
    """Whether group messages reach the bot: privacy mode off, or the bot is an admin here."""
    if context.bot.can_read_all_group_messages:
        return True
    try:
        me = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError as error:
        log.info("could not read our standing in chat %s: %s", chat_id, error)
        return False
    return me.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def autocard_links(update: Update, context: BotContext) -> None:
    """A group message with links: each of our articles among them gets its card, once."""
    if (message := update.effective_message) is None or (chat := update.effective_chat) is None:
        return
    addresses = linked_addresses(message)
    if not addresses:
        return
    services = context.services
    async with services.db.transaction() as session:
        enabled = await autocards.autocards_enabled(session, chat_id=chat.id)
    if not enabled:
        return
    user_id = update.effective_user.id if update.effective_user is not None else None
    for address in addresses:
        try:
            article_id = await article_for_link(
                services, address, chat_id=chat.id, user_id=user_id
            )
        except ReadLimitReached as limit:
            log.info("autocard link not read in chat %s: %s", chat.id, limit)
            # Said once per window, not once per message: the limit is against flooding.
            if limit.tell:
                await _say_reads_paused(message)
            continue
        if article_id is None:
            continue
        posted = await post_autocard(
            context.bot,
            services,
            article_id=article_id,
            chat_id=chat.id,
            reply_to=message.message_id,
        )
        if posted:
            log.info("autocard for article %s in chat %s", article_id, chat.id)


async def _say_reads_paused(message: Message) -> None:
    try:
        await message.reply_text(AUTOCARDS_READS_PAUSED)
    except TelegramError as error:
        # Not being able to say so must not cost the cards of the message's other links.
        log.info("could not say autocard reads are paused in chat %s: %s", message.chat_id, error)
