"""What the emulated Telegram knows: users, bots, chats and their members, messages, update queues.

Objects here are the live records; the simulation hands them to tests under the names SimUser,
SimChat and SimMessage, so a test holding a message sees its current text after an edit.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp

from emulator.clock import Clock
from emulator.errors import ApiError
from emulator.faults import Faults
from emulator.formatting import Entity, to_html
from emulator.limits import FloodControl, RateLimits

if TYPE_CHECKING:
    from emulator.files import StoredFile

JsonObject = dict[str, Any]
UPDATE_HISTORY = 1000
FIRST_UPDATE_ID = 100_000_001

# Telegram's default when a bot never chose: everything except these three.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
PRESENT = frozenset({"creator", "administrator", "member", "restricted"})


@dataclass(eq=False)
class User:
    """A Telegram account: a person, or a bot's own user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> JsonObject:
        data: JsonObject = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True)
class WebhookReplyError:
    """A method call in a webhook's reply that Telegram refused, as its envelope said."""

    update_id: int
    method: str
    error_code: int
    description: str


class Update(NamedTuple):
    update_id: int
    kind: str
    payload: JsonObject

    def to_api(self) -> JsonObject:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass(eq=False)
class BotAccount:
    """A bot registered with the emulator by its token; the token's prefix is its id."""

    id: int
    token: str
    username: str
    first_name: str
    user: User
    # Privacy mode (Telegram's default): in groups it sees commands, replies, service messages.
    privacy_mode: bool = True
    supports_inline_queries: bool = True
    commands: dict[tuple[str, int | None, int | None, str], list[JsonObject]] = field(
        default_factory=dict
    )
    updates: deque[Update] = field(default_factory=deque)
    # Recent updates, for a test to deliver one again (emulator.faults); replays go out first.
    history: deque[Update] = field(default_factory=lambda: deque(maxlen=UPDATE_HISTORY))
    replays: deque[Update] = field(default_factory=deque)
    last_update_id: int = FIRST_UPDATE_ID - 1
    # After a restart of update ids (emulator.faults): the newest id handed out since, beyond
    # which an offset (perhaps from before the restart) confirms nothing.
    handed_out_since_restart: int | None = None
    allowed_updates: frozenset[str] | None = None
    webhook: WebhookConfig | None = None
    # Webhook requests in flight (emulator.updates), whichever webhook started them, and the
    # queued updates they carry, by identity: update ids may start over (emulator.faults).
    webhook_requests: int = 0
    updates_in_flight: set[int] = field(default_factory=set)
    # Method calls the bot's webhook replies carried that were refused; the bot never hears.
    webhook_reply_errors: list[WebhookReplyError] = field(default_factory=list)
    poll_generation: int = 0
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Wake every long poll and webhook pusher waiting for this bot."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def wait_for_wakeup(self, timeout: float) -> None:
        event = self._wakeup
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self.allowed_updates


@dataclass(eq=False)
class Member:
    """One user's standing in a group, supergroup or channel."""

    user: User
    status: str
    rights: dict[str, bool] = field(default_factory=dict)

    @property
    def present(self) -> bool:
        return self.status in PRESENT

    def right(self, name: str) -> bool:
        if self.status == "creator":
            return True
        if self.status == "administrator":
            return self.rights.get(name, False)
        return False

    def to_api(self) -> JsonObject:
        data: JsonObject = {"status": self.status, "user": self.user.to_api()}
        if self.status == "creator":
            data["is_anonymous"] = False
        elif self.status == "administrator":
            data["can_be_edited"] = False
            data["is_anonymous"] = False
            for name in ADMIN_RIGHTS:
                data[name] = self.rights.get(name, False)
            for name, value in self.rights.items():
                data.setdefault(name, value)
        elif self.status == "restricted":
            data["is_member"] = True
            for name in RESTRICTED_RIGHTS:
                data[name] = self.rights.get(name, False)
            data["until_date"] = 0
        elif self.status == "kicked":
            data["until_date"] = 0
        return data


@dataclass(eq=False)
class ForumTopic:
    """A topic of a forum supergroup; its id is the id of the message that opened it."""

    thread_id: int
    name: str
    icon_color: int
    creator: User
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_api(self) -> JsonObject:
        data: JsonObject = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id is not None:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


class Edit(NamedTuple):
    """An earlier version of a message, kept when the bot edits it."""

    text: str | None
    entities: list[Entity]
    reply_markup: JsonObject | None


@dataclass(eq=False)
class Chat:
    """A chat as Telegram keeps it; a private chat exists per (bot, user), its id the user's."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    user: User | None = None
    bot_id: int | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    last_message_id: int = 0
    migrated_to: int | None = None
    # Private chats only: the user pressed Start, and whether they blocked the bot since.
    started: bool = False
    blocked: bool = False
    # Forum supergroups only: their open and closed topics by thread id (deleted ones are gone).
    is_forum: bool = False
    topics: dict[int, ForumTopic] = field(default_factory=dict)

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def member(self, user_id: int) -> Member | None:
        return self.members.get(user_id)

    def to_api(self) -> JsonObject:
        data: JsonObject = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name is not None:
                data["last_name"] = self.user.last_name
            if self.user.username is not None:
                data["username"] = self.user.username
            return data
        data["title"] = self.title
        if self.username is not None:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    @property
    def kind_name(self) -> str:
        """How Telegram's error texts name this chat: "group chat", "supergroup chat", ..."""
        return f"{self.type} chat"


@dataclass(eq=False)
class Message:
    """One message with its current content; `edits` holds the versions it had before."""

    message_id: int
    chat: Chat | None
    date: int
    sender: User | None
    text: str | None
    entities: list[Entity]
    reply_markup: JsonObject | None = None
    from_bot: bool = False
    # The bot that sent it (channel posts have no sender user); only that bot may edit it.
    bot_id: int | None = None
    sender_chat: Chat | None = None
    inline_message_id: str | None = None
    posted_in: Chat | None = None
    via_bot: User | None = None
    photo_sizes: list[JsonObject] | None = None
    document: JsonObject | None = None
    reply_to: Message | None = None
    forward_origin: JsonObject | None = None
    service: JsonObject = field(default_factory=dict)
    reply_keyboard: JsonObject | None = None
    edit_date: int | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False
    # Each reactor's current reactions (ReactionType objects) by user id (emulator.reactions).
    reactions: dict[int, tuple[JsonObject, ...]] = field(default_factory=dict)
    reaction_changes: int = 0
    # The forum topic it is in (None: not in a forum, or in its General topic).
    thread_id: int | None = None

    @property
    def html(self) -> str:
        """The text re-rendered as HTML from its entities: what a reader sees, in one string."""
        return to_html(self.text or "", self.entities)

    @property
    def buttons(self) -> list[list[JsonObject]]:
        if self.reply_markup is None:
            return []
        rows: list[list[JsonObject]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def photo(self) -> bool:
        return self.photo_sizes is not None

    @property
    def has_caption(self) -> bool:
        return self.photo_sizes is not None or self.document is not None

    @property
    def caption(self) -> str | None:
        return self.text if self.has_caption else None

    def content(self) -> tuple[str | None, list[Entity], JsonObject | None]:
        return self.text, self.entities, self.reply_markup

    def record_edit(
        self, text: str | None, entities: list[Entity], reply_markup: JsonObject | None, date: int
    ) -> None:
        self.edits.append(Edit(self.text, self.entities, self.reply_markup))
        self.text, self.entities, self.reply_markup = text, entities, reply_markup
        self.edit_date = date

    def to_api(self, *, nested: bool = False) -> JsonObject:
        chat = self.chat if self.chat is not None else self.posted_in
        data: JsonObject = {"message_id": self.message_id, "date": self.date}
        if self.sender is not None:
            data["from"] = self.sender.to_api()
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat.to_api()
        if chat is not None:
            data["chat"] = chat.to_api()
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if self.reply_to is not None and not nested:
            data["reply_to_message"] = self.reply_to.to_api(nested=True)
        elif (root := self._topic_root()) is not None and not nested:
            # As in Telegram, a topic's messages answer the message that opened the topic.
            data["reply_to_message"] = root.to_api(nested=True)
        if self.via_bot is not None:
            data["via_bot"] = self.via_bot.to_api()
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        self._content_to_api(data)
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        data.update(self.service)
        return data

    def _topic_root(self) -> Message | None:
        if self.thread_id is None or self.thread_id == self.message_id or self.chat is None:
            return None
        return self.chat.messages.get(self.thread_id)

    def _content_to_api(self, data: JsonObject) -> None:
        entities = [entity.to_api() for entity in self.entities]
        if self.photo_sizes is not None:
            data["photo"] = self.photo_sizes
        if self.document is not None:
            data["document"] = self.document
        if self.has_caption:
            if self.text:
                data["caption"] = self.text
                if entities:
                    data["caption_entities"] = entities
        elif self.text is not None:
            data["text"] = self.text
            if entities:
                data["entities"] = entities


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button press."""

    text: str | None
    show_alert: bool
    url: str | None
    answered_at: float


@dataclass(eq=False)
class CallbackQuery:
    id: str
    bot_id: int
    user: User
    message: Message
    data: str
    created_at: float
    answer: CallbackAnswer | None = None
    # Set when answered, so the presser waits for its own answer, not for every change.
    answered: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class InlineAnswer:
    """What the bot answered to an inline query."""

    query_id: str
    query: str
    results: list[JsonObject]
    next_offset: str
    cache_time: int
    is_personal: bool
    button: JsonObject | None
    bot_id: int


@dataclass(eq=False)
class InlineQuery:
    id: str
    bot_id: int
    user: User
    query: str
    created_at: float
    answer: InlineAnswer | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class RecordedRequest:
    """One call a bot made and the envelope it got back."""

    bot_id: int | None
    method: str
    params: dict[str, object]
    status: int
    response: JsonObject
    at: float
    # Made in the HTTP answer to a webhook push (emulator.updates), not as a request of its own.
    webhook_reply: bool = False


class ChangeSignal:
    """Wakes everyone waiting for "something changed"; notifying is synchronous and cheap."""

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return


def encode_id(prefix: str, number: int) -> str:
    """An opaque, Telegram-looking identifier (file ids, inline message ids)."""
    raw = base64.urlsafe_b64encode(number.to_bytes(12, "big")).decode().rstrip("=")
    return f"{prefix}{raw}"


class World:
    """Every record the emulator keeps, with the lookups methods and the simulation share."""

    def __init__(
        self,
        *,
        clock: Clock,
        limits: RateLimits,
        callback_answer_timeout: float,
        record_requests: bool,
    ) -> None:
        self.clock = clock
        self.limits = limits
        self.flood = FloodControl(limits, clock)
        self.callback_answer_timeout = callback_answer_timeout
        self.record_requests = record_requests
        # Injected 5xx answers and held requests (emulator.faults).
        self.faults = Faults()
        self.users: dict[int, User] = {}
        self.bots: dict[int, BotAccount] = {}
        self.bots_by_token: dict[str, BotAccount] = {}
        self.chats: dict[int, Chat] = {}
        self.chats_by_username: dict[str, Chat] = {}
        self.private_chats: dict[tuple[int, int], Chat] = {}
        self.inline_messages: dict[str, Message] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.inline_queries: dict[str, InlineQuery] = {}
        self.files: dict[str, list[JsonObject]] = {}
        # Documents users sent, by file_id and by the file_path getFile hands out.
        self.stored_files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        # Documents by file_id, as their messages carry them, for sending one again by file_id.
        self.documents: dict[str, JsonObject] = {}
        self.requests: list[RecordedRequest] = []
        # Answers by HTTP status, counted even when requests are not recorded (benchmarks).
        self.answers_by_status: Counter[int] = Counter()
        self.signal = ChangeSignal()
        # Webhook pushers and their HTTP session, owned by emulator.updates.
        self.background: set[asyncio.Task[None]] = set()
        self.http: aiohttp.ClientSession | None = None
        # Set while the emulator stops: long polls return at once instead of holding shutdown.
        self.closing = False
        self._counter = 0

    def next_number(self) -> int:
        self._counter += 1
        return self._counter

    # --- lookups used by the methods -------------------------------------------------------

    def private_chat(self, bot: BotAccount, user: User) -> Chat:
        key = (bot.id, user.id)
        chat = self.private_chats.get(key)
        if chat is None:
            chat = Chat(id=user.id, type="private", user=user, bot_id=bot.id)
            self.private_chats[key] = chat
        return chat

    def chat_for_bot(self, bot: BotAccount, chat_ref: object) -> Chat:
        """The chat a bot names by id or @username; Telegram's errors when it cannot."""
        chat_id: int
        if isinstance(chat_ref, str):
            if chat_ref.startswith("@"):
                found = self.chats_by_username.get(chat_ref[1:].lower())
                if found is None:
                    raise ApiError.bad_request("chat not found")
                return found
            try:
                chat_id = int(chat_ref)
            except ValueError:
                raise ApiError.bad_request("chat not found") from None
        elif isinstance(chat_ref, int) and not isinstance(chat_ref, bool):
            chat_id = chat_ref
        else:
            raise ApiError.bad_request("chat not found")
        if chat_id > 0:
            user = self.users.get(chat_id)
            if user is None or user.is_bot:
                raise ApiError.bad_request("chat not found")
            return self.private_chat(bot, user)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError.bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError.bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def bots_in(self, chat: Chat) -> Iterable[tuple[BotAccount, Member]]:
        for member in chat.members.values():
            if member.user.is_bot and member.present:
                bot = self.bots.get(member.user.id)
                if bot is not None:
                    yield bot, member

    # --- updates ---------------------------------------------------------------------------

    def enqueue(self, bot: BotAccount, kind: str, payload: JsonObject) -> None:
        """Queue an update for the bot, unless its allowed_updates leave this kind out."""
        if not bot.accepts(kind):
            return
        bot.last_update_id += 1
        update = Update(bot.last_update_id, kind, payload)
        bot.updates.append(update)
        bot.history.append(update)
        bot.wake()
        self.signal.notify()
