"""Chats, messages and users as the web view shows them: plain JSON, never a bot token.

Message text becomes HTML only through its entities (emulator.formatting escapes the rest);
every other string is plain text for the page to set as text. Private chats exist per
(bot, user), so a chat's key is its id, or `user_id.bot_id` for a private chat.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from emulator.formatting import to_html
from emulator.reactions import reaction_counts
from emulator.state import Chat, JsonObject, Message, User, World

SAFE_LINK_SCHEMES = frozenset({"http", "https", "tg", "mailto"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})
PREVIEW_CHARS = 80


def safe_link(url: object) -> str | None:
    """The URL if a page may link to it (no javascript: or data: links), else None."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme.lower() in SAFE_LINK_SCHEMES else None


def chat_key(chat: Chat) -> str:
    if chat.type == "private" and chat.user is not None:
        return f"{chat.user.id}.{chat.bot_id}"
    return str(chat.id)


def find_chat(world: World, key: str) -> Chat | None:
    user_part, dot, bot_part = key.partition(".")
    try:
        if dot:
            return world.private_chats.get((int(bot_part), int(user_part)))
        return world.chats.get(int(key))
    except ValueError:
        return None


def user_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}" if user.last_name else user.first_name


def _visible(chat: Chat) -> list[Message]:
    return [m for m in chat.messages.values() if not m.deleted]


def shown_chats(world: World) -> list[Chat]:
    """Groups and channels, and the private chats someone has written in; latest first."""
    private = [c for c in world.private_chats.values() if c.started or c.messages]
    chats = [*world.chats.values(), *private]

    def latest(chat: Chat) -> int:
        return max((m.date for m in _visible(chat)), default=0)

    return sorted(chats, key=lambda chat: (-latest(chat), chat_key(chat)))


def _title(world: World, chat: Chat) -> str:
    if chat.user is None:
        return chat.title or str(chat.id)
    bot = world.bots.get(chat.bot_id or 0)
    return f"{user_name(chat.user)} · @{bot.username}" if bot else user_name(chat.user)


def _people(world: World, chat: Chat) -> list[User]:
    """Who can press buttons in this chat: its user, or its present members who are people."""
    if chat.user is not None:
        return [chat.user]
    members = [m.user for m in chat.members.values() if m.present and not m.user.is_bot]
    # Channel readers are not members in the emulator: anyone may read and press there.
    if chat.type == "channel":
        others = [u for u in world.users.values() if not u.is_bot and u not in members]
        members.extend(others)
    return members


def _bots_in(world: World, chat: Chat) -> list[JsonObject]:
    """Each bot's standing in a group or channel ("left" when never added), for the page's
    "add the bot" and "make it admin" actions; private chats have none to offer."""
    if chat.type == "private":
        return []
    return [
        {
            "id": bot.id,
            "username": bot.username,
            "status": member.status if (member := chat.members.get(bot.id)) else "left",
        }
        for bot in world.bots.values()
    ]


def chat_summary(world: World, chat: Chat) -> JsonObject:
    messages = _visible(chat)
    last = messages[-1] if messages else None
    present = 2 if chat.type == "private" else sum(m.present for m in chat.members.values())
    return {
        "key": chat_key(chat),
        "id": chat.id,
        "title": _title(world, chat),
        "type": chat.type,
        "member_count": present,
        "message_count": len(messages),
        "preview": _preview(last) if last is not None else "",
        "pressers": [user.id for user in _people(world, chat)],
        "bots": _bots_in(world, chat),
        "migrated": chat.migrated_to is not None,
        "is_forum": chat.is_forum,
        "topics": [
            {"id": topic.thread_id, "name": topic.name, "closed": topic.closed}
            for topic in chat.topics.values()
        ],
    }


def users_list(world: World) -> list[JsonObject]:
    return [
        {"id": user.id, "name": user_name(user), "username": user.username}
        for user in world.users.values()
        if not user.is_bot
    ]


def bots_list(world: World) -> list[JsonObject]:
    """The bots by name, for choosing whose private chat to open; never their tokens."""
    return [
        {"id": bot.id, "username": bot.username, "name": bot.first_name}
        for bot in world.bots.values()
    ]


def _preview(message: Message) -> str:
    if message.service:
        return _service_text(message)
    text = (message.text or "").replace("\n", " ")
    if message.photo:
        text = f"Photo {text}".strip()
    elif message.document is not None:
        text = f"File {text}".strip()
    return text[:PREVIEW_CHARS]


def _sender(message: Message) -> JsonObject:
    if message.sender is not None:
        return {"name": user_name(message.sender), "is_bot": message.sender.is_bot}
    if message.sender_chat is not None:
        return {"name": message.sender_chat.title or "", "is_bot": False}
    return {"name": "", "is_bot": False}


def _names(users: object) -> str:
    if not isinstance(users, list):
        return ""
    return ", ".join(str(u.get("first_name", "")) for u in users if isinstance(u, dict))


def _service_text(message: Message) -> str:
    actor = user_name(message.sender) if message.sender is not None else "Someone"
    service = message.service
    if "new_chat_members" in service:
        return f"{actor} added {_names(service['new_chat_members'])}"
    if "left_chat_member" in service:
        return f"{actor} removed {_names([service['left_chat_member']])}"
    if "migrate_to_chat_id" in service:
        return "The group was upgraded to a supergroup"
    if "migrate_from_chat_id" in service:
        return "Upgraded from a basic group"
    if (about_topic := _topic_service_text(actor, service)) is not None:
        return about_topic
    return ", ".join(key.replace("_", " ") for key in service)


def _topic_service_text(actor: str, service: JsonObject) -> str | None:
    if isinstance(created := service.get("forum_topic_created"), dict):
        return f"{actor} created the topic {created.get('name', '')}"
    if "forum_topic_closed" in service:
        return f"{actor} closed the topic"
    if "forum_topic_reopened" in service:
        return f"{actor} reopened the topic"
    return None


def _keyboard(message: Message) -> list[list[JsonObject]]:
    rows: list[list[JsonObject]] = []
    for row in message.buttons:
        shown: list[JsonObject] = []
        for button in row:
            entry: JsonObject = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                entry["kind"] = "callback"
            elif (url := safe_link(button.get("url"))) is not None:
                entry["kind"], entry["url"] = "url", url
            else:
                # switch_inline_query, login_url, ...: shown, but nothing to press here.
                entry["kind"] = "other"
            shown.append(entry)
        rows.append(shown)
    return rows


def message_html(message: Message) -> str:
    """The text as HTML from its entities; links the page may not open are left plain."""
    entities = [
        entity
        for entity in message.entities
        if entity.type != "text_link" or safe_link(entity.url) is not None
    ]
    return to_html(message.text or "", entities)


def _forwarded_from(message: Message) -> str | None:
    origin = message.forward_origin
    if origin is None:
        return None
    if "sender_user" in origin:
        return str(origin["sender_user"].get("first_name", ""))
    if "chat" in origin:
        return str(origin["chat"].get("title", ""))
    return str(origin.get("sender_user_name", "someone"))


def _reactions(message: Message) -> list[JsonObject]:
    """The counts under a message, with who chose each (the page marks the acting user's)."""
    shown: list[JsonObject] = []
    for count in reaction_counts(message):
        kind = count["type"]
        chosen_by = [user_id for user_id, chosen in message.reactions.items() if kind in chosen]
        label = {"emoji": kind.get("emoji"), "paid": "\u2b50"}.get(kind["type"], "\u2728")
        shown.append(
            {
                "kind": kind["type"],
                "label": label,
                "count": count["total_count"],
                "users": chosen_by,
            }
        )
    return shown


def _file_url(world: World, file_id: object) -> str | None:
    """Where the page fetches a file the emulator holds the bytes of; None when it has none."""
    if not isinstance(file_id, str) or file_id not in world.stored_files:
        return None
    return f"/web/api/files/{quote(file_id)}"


def _files(world: World, message: Message) -> JsonObject:
    document = message.document
    photo = message.photo_sizes
    return {
        "photo_url": _file_url(world, photo[-1].get("file_id")) if photo else None,
        "document_size": None if document is None else document.get("file_size"),
        "document_url": None if document is None else _file_url(world, document.get("file_id")),
    }


def _topic_name(message: Message) -> str | None:
    """The name of the forum topic the message is in; None outside topics."""
    if message.thread_id is None or message.chat is None:
        return None
    topic = message.chat.topics.get(message.thread_id)
    return topic.name if topic is not None else None


def message_view(message: Message, world: World | None = None) -> JsonObject:
    """One message as the page shows it; with the world, links to the files it holds."""
    reply = message.reply_to
    files = _files(world, message) if world is not None else {}
    return {
        **files,
        "reactions": _reactions(message),
        "id": message.message_id,
        "date": message.date,
        "sender": _sender(message),
        "from_bot": message.from_bot or message.via_bot is not None,
        "via": f"@{message.via_bot.username}" if message.via_bot is not None else None,
        "inline": message.inline_message_id is not None,
        "service": _service_text(message) if message.service else None,
        "html": message_html(message),
        "photo": message.photo,
        "document": None if message.document is None else message.document.get("file_name"),
        "reply_to": (
            None
            if reply is None
            else {"sender": _sender(reply)["name"], "preview": _preview(reply)}
        ),
        "forwarded_from": _forwarded_from(message),
        "edits": len(message.edits),
        "keyboard": _keyboard(message),
        "topic": _topic_name(message),
    }


def chat_transcript(world: World, chat: Chat) -> JsonObject:
    return {
        "chat": chat_summary(world, chat),
        "messages": [message_view(message, world) for message in _visible(chat)],
    }


def fingerprint(world: World) -> tuple[int, ...]:
    """Changes whenever what the page shows changes: new, edited, deleted messages, members."""
    chats: Iterable[Chat] = [*world.chats.values(), *world.private_chats.values()]
    numbers = [len(world.users), len(world.chats), len(world.private_chats)]
    for chat in chats:
        numbers.append(chat.last_message_id)
        numbers.append(sum(m.present for m in chat.members.values()))
        # A promotion changes no head count, but the page's "make admin" button must go.
        numbers.append(sum(m.status in ADMIN_STATUSES for m in chat.members.values()))
        numbers.append(int(chat.started))
        # A topic closed, reopened or deleted changes what the page shows of the forum.
        numbers.append(len(chat.topics))
        numbers.append(sum(topic.closed for topic in chat.topics.values()))
        for message in chat.messages.values():
            numbers.append(len(message.edits) * 2 + int(message.deleted))
            numbers.append(message.reaction_changes)
    return tuple(numbers)
