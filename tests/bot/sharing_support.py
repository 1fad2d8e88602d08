"""Shared pieces of the sharing behaviour tests: articles published through the real publish path,
a reader's view of chats, and the poll messages the bot keeps live."""

from __future__ import annotations

from harness import RunningBot, wait_until
from sqlmodel import col, select

from bot.articles.publishing import publish_draft, read_markdown
from emulator.events import deliver_message
from emulator.formatting import Entity
from emulator.simulation import Emulator, SimChat, SimMessage, SimUser
from emulator.state import Message
from storage.models import Delivery, PollMessage

SITE = "https://harbour-herald.example/news"
POLL_QUESTION = "Should the night ferry run all year?"


def article_markdown(slug: str, title: str, standfirst: str, *, image: str | None = None) -> str:
    """An article as an editor writes it: front matter with a two-option poll, then the body."""
    image_line = f"image: {image}\n" if image else ""
    return (
        "---\n"
        f"title: {title}\n"
        f"url: {SITE}/{slug}\n"
        f"standfirst: {standfirst}\n"
        f"{image_line}"
        "poll:\n"
        f"  question: {POLL_QUESTION}\n"
        "  options: [Yes, No]\n"
        "---\n\n"
        "The harbour board met on Tuesday to discuss the timetable for the coming year. "
        "Ferry crews said late sailings were often full in summer.\n"
    )


async def publish(
    bot: RunningBot,
    slug: str,
    title: str,
    standfirst: str = "The harbour board met on Tuesday.",
    *,
    image: str | None = None,
) -> int:
    """Publish the article as /publish does (stored, queued, pushed); returns its id."""
    text = article_markdown(slug, title, standfirst, image=image)
    draft = read_markdown(text, name=f"{slug}.md", settings=bot.settings)
    result = await publish_draft(bot.db, draft)
    bot.application.bot_data.wake_delivery()
    return result.article_id


def article_url(slug: str) -> str:
    return f"{SITE}/{slug}"


def poll_keyboard(message: SimMessage) -> bool:
    """Whether the message carries a poll (callback buttons), as a card does."""
    return any("callback_data" in button for row in message.buttons for button in row)


def cards_in(bot: RunningBot, chat: SimChat) -> list[SimMessage]:
    """The card messages the bot posted in the chat (one per card: the poll-carrying message)."""
    return [m for m in bot.emulator.bot_messages(chat) if poll_keyboard(m)]


async def inline_copies(bot: RunningBot, count: int) -> list[str]:
    """The inline message ids registered as live poll messages, once there are `count`."""

    async def registered() -> list[str] | None:
        async with bot.db.transaction() as session:
            rows = await session.exec(
                select(PollMessage.inline_message_id).where(
                    col(PollMessage.inline_message_id).is_not(None)
                )
            )
            found = [row for row in rows if row is not None]
        return found if len(found) >= count else None

    found: list[str] = await wait_until(registered, what=f"{count} inline poll messages")
    return found


async def delivery_rows(bot: RunningBot, *, article_id: int, chat_id: int) -> list[Delivery]:
    async with bot.db.transaction() as session:
        rows = await session.exec(
            select(Delivery).where(
                col(Delivery.article_id) == article_id, col(Delivery.chat_id) == chat_id
            )
        )
        return list(rows)


async def articles_delivered(bot: RunningBot, chat_id: int) -> list[int]:
    """The articles the chat got or is getting (by push or autocard), from the ledger."""
    async with bot.db.transaction() as session:
        rows = await session.exec(
            select(Delivery.article_id).where(col(Delivery.chat_id) == chat_id)
        )
        return [row for row in rows if row is not None]


def send_text_link(emu: Emulator, user: SimUser, chat: SimChat, text: str, url: str) -> SimMessage:
    """The user sends `text` formatted as a link to `url` (as desktop apps let them do).

    Also how a test links to the local site: Telegram's own detection (as the emulator plays it)
    turns no bare 127.0.0.1 address into a link.
    """
    return send_text_links(emu, user, chat, [(text, url)])


def send_text_links(
    emu: Emulator, user: SimUser, chat: SimChat, links: list[tuple[str, str]]
) -> SimMessage:
    """The user sends one message of several linked words (text, url), in this order."""
    entities: list[Entity] = []
    offset = 0
    for text, url in links:
        length = len(text.encode("utf-16-le")) // 2
        entities.append(Entity("text_link", offset, length, url=url))
        offset += length + 1
    message = Message(
        message_id=chat.next_message_id(),
        chat=chat,
        date=emu.clock.unix(),
        sender=user,
        text=" ".join(text for text, _ in links),
        entities=entities,
    )
    chat.messages[message.message_id] = message
    deliver_message(emu.world, message)
    emu.world.signal.notify()
    return message
