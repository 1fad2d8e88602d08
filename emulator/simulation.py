"""The emulator as tests, the demo and benchmarks drive it: Telegram's users, and what chats show.

`Emulator` runs the HTTP server in the caller's event loop. Its methods play users (send, press,
type inline queries, block the bot, manage groups) and produce the updates Telegram would send;
its readers show chats as readers see them, and every request the bot made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from aiohttp import web

from emulator.clock import Clock, SystemClock
from emulator.content import caption_text, inline_keyboard, message_text, resolve_photo
from emulator.events import deliver_message, member_change
from emulator.faults import DEFAULT_HOLD, FaultKind, FaultPlan, restart_update_ids
from emulator.files import store_document
from emulator.formatting import detect_entities
from emulator.limits import RateLimits
from emulator.server import build_app
from emulator.state import (
    ADMIN_RIGHTS,
    FIRST_UPDATE_ID,
    BotAccount,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    InlineAnswer,
    InlineQuery,
    JsonObject,
    Member,
    Message,
    RecordedRequest,
    User,
    World,
    encode_id,
)
from emulator.web import is_loopback, mount_web

SimUser = User
SimChat = Chat
SimMessage = Message

__all__ = [
    "BotAccount",
    "CallbackAnswer",
    "Emulator",
    "InlineAnswer",
    "RecordedRequest",
    "SimChat",
    "SimMessage",
    "SimUser",
]

T = TypeVar("T")
A = TypeVar("A")

FIRST_USER_ID = 7_000_000_000
FIRST_GROUP_ID = -4_100_000_000
FIRST_SUPERGROUP_ID = -1_002_100_000_000
FIRST_QUERY_ID = 4_400_000_000_000_000_000
_USER_ADMIN_RIGHTS = dict.fromkeys(ADMIN_RIGHTS, True) | {"can_pin_messages": True}


def _bot_admin_rights(chat: Chat, *, can_post_messages: bool) -> dict[str, bool]:
    rights = {
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    if chat.type == "channel":
        rights |= {"can_post_messages": can_post_messages, "can_edit_messages": True}
    else:
        rights |= {"can_pin_messages": True}
    return rights


def _chat_instance(chat: Chat) -> str:
    # Stable per chat, opaque like Telegram's.
    return str((abs(chat.id) * 2_654_435_761) % 10**19)


class _Answerable(Protocol[A]):
    answer: A | None
    answered: asyncio.Event


async def _answer_of(query: _Answerable[A], timeout: float, what: str) -> A:
    """Wait for the bot's answer to this one query (not for every change in the emulator)."""
    try:
        await asyncio.wait_for(query.answered.wait(), timeout)
    except TimeoutError:
        raise TimeoutError(f"waited {timeout}s for {what}; it never came") from None
    if query.answer is None:
        raise TimeoutError(f"{what} was never recorded")
    return query.answer


class Emulator:
    """A Telegram Bot API server on loopback, plus the users and chats a test plays with."""

    # Declared here: inside __init__ the `web` flag hides the aiohttp module.
    _runner: web.AppRunner | None

    def __init__(
        self,
        *,
        limits: RateLimits | None = None,
        clock: Clock | None = None,
        callback_answer_timeout: float = 15.0,
        host: str = "127.0.0.1",
        port: int = 0,
        record_requests: bool = True,
        web: bool = False,
    ) -> None:
        if web and not is_loopback(host):
            raise ValueError(f"the web view serves on loopback only, not on {host!r}")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.world = World(
            clock=self.clock,
            limits=limits if limits is not None else RateLimits(),
            callback_answer_timeout=callback_answer_timeout,
            record_requests=record_requests,
        )
        self._host = host
        self._port = port
        self._web = web
        self._runner = None
        self._users = 0
        self._groups = 0

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def limits(self) -> RateLimits:
        return self.world.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self.world.limits = limits
        self.world.flood.limits = limits

    async def start(self) -> None:
        self.world.closing = False
        app = build_app(self.world)
        if self._web:
            mount_web(app, self)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        world = self.world
        world.closing = True
        for bot in world.bots.values():
            bot.wake()
        # Web view long polls answer at once too.
        world.signal.notify()
        for task in list(world.background):
            task.cancel()
        if world.background:
            await asyncio.gather(*world.background, return_exceptions=True)
        if world.http is not None:
            await world.http.close()
            world.http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as base_url: it appends the token."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def web_url(self) -> str:
        """The web view's page (served only when the emulator runs with `web=True`)."""
        return f"http://{self._host}:{self._port}/web/"

    @property
    def base_file_url(self) -> str:
        """What python-telegram-bot takes as base_file_url for downloads: it appends the token."""
        return f"http://{self._host}:{self._port}/file/bot"

    # --- accounts and chats -----------------------------------------------------------------

    def add_bot(
        self,
        token: str,
        *,
        username: str = "newsdesk_bot",
        first_name: str = "Newsdesk",
        privacy_mode: bool = True,
    ) -> BotAccount:
        prefix, _, secret = token.partition(":")
        if not prefix.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '123456:ABC-DEF', not {token!r}")
        bot_id = int(prefix)
        user = User(id=bot_id, first_name=first_name, username=username, is_bot=True)
        bot = BotAccount(
            id=bot_id,
            token=token,
            username=username,
            first_name=first_name,
            user=user,
            privacy_mode=privacy_mode,
        )
        self.world.users[bot_id] = user
        self.world.bots[bot_id] = bot
        self.world.bots_by_token[token] = bot
        return bot

    def create_user(
        self,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> SimUser:
        self._users += 1
        user = User(
            id=FIRST_USER_ID + self._users,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.world.users[user.id] = user
        return user

    def _register(self, chat: Chat) -> Chat:
        self.world.chats[chat.id] = chat
        if chat.username is not None:
            self.world.chats_by_username[chat.username.lower()] = chat
        return chat

    def _next_chat_id(self, *, supergroup: bool) -> int:
        self._groups += 1
        return (FIRST_SUPERGROUP_ID if supergroup else FIRST_GROUP_ID) - self._groups

    def create_group(
        self,
        title: str,
        *,
        creator: SimUser,
        members: Sequence[SimUser] = (),
        admins: Sequence[SimUser] = (),
        supergroup: bool = False,
        username: str | None = None,
    ) -> SimChat:
        chat = Chat(
            id=self._next_chat_id(supergroup=supergroup),
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
        )
        for user in members:
            chat.members[user.id] = Member(user, "member")
        for user in admins:
            chat.members[user.id] = Member(user, "administrator", dict(_USER_ADMIN_RIGHTS))
        chat.members[creator.id] = Member(creator, "creator")
        return self._register(chat)

    def create_channel(
        self,
        title: str,
        *,
        creator: SimUser,
        username: str | None = None,
        admins: Sequence[SimUser] = (),
    ) -> SimChat:
        chat = Chat(
            id=self._next_chat_id(supergroup=True), type="channel", title=title, username=username
        )
        for user in admins:
            rights = dict(_USER_ADMIN_RIGHTS) | {"can_post_messages": True}
            chat.members[user.id] = Member(user, "administrator", rights)
        chat.members[creator.id] = Member(creator, "creator")
        return self._register(chat)

    def _the_bot(self, bot: BotAccount | None) -> BotAccount:
        if bot is not None:
            return bot
        if len(self.world.bots) != 1:
            raise ValueError(f"name the bot: the emulator has {len(self.world.bots)} bots")
        return next(iter(self.world.bots.values()))

    def private_chat(self, user: SimUser, *, bot: BotAccount | None = None) -> SimChat:
        """The user's private chat with the bot; its id is the user's id, as in Telegram."""
        return self.world.private_chat(self._the_bot(bot), user)

    # --- what users do ----------------------------------------------------------------------

    def _user_message(
        self, user: SimUser, chat: Chat, text: str | None, *, reply_to: Message | None = None
    ) -> Message:
        message = Message(
            message_id=chat.next_message_id(),
            chat=chat,
            date=self.clock.unix(),
            sender=user,
            text=text,
            entities=detect_entities(text) if text else [],
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        return message

    def _writable_chat(self, user: SimUser, chat: Chat | None, bot: BotAccount | None) -> Chat:
        if chat is None or chat.type == "private":
            target = (
                self.private_chat(user, bot=bot)
                if chat is None
                else self.world.private_chat(self._the_bot(bot or self._chat_bot(chat)), user)
            )
            if target.blocked:
                raise RuntimeError(f"{user.first_name} blocked the bot; unblock_bot first")
            target.started = True
            return target
        if chat.type == "channel":
            raise ValueError("users post in channels with post_in_channel")
        member = chat.member(user.id)
        if member is None or not member.present:
            raise ValueError(f"{user.first_name} is not a member of {chat.title!r}")
        return chat

    def _chat_bot(self, chat: Chat) -> BotAccount | None:
        return self.world.bots.get(chat.bot_id or 0)

    async def send_message(
        self,
        user: SimUser,
        text: str,
        *,
        chat: SimChat | None = None,
        bot: BotAccount | None = None,
        reply_to: SimMessage | None = None,
        document: tuple[str, bytes] | None = None,
    ) -> SimMessage:
        """The user writes in a chat (their private chat with the bot by default)."""
        target = self._writable_chat(user, chat, bot)
        message = self._user_message(user, target, text, reply_to=reply_to)
        if document is not None:
            filename, data = document
            # Kept with its bytes: the bot may getFile it and download it.
            message.document = store_document(self.world, filename, data)
        deliver_message(self.world, message)
        self.world.signal.notify()
        return message

    async def edit_message(self, user: SimUser, message: SimMessage, text: str) -> SimMessage:
        """The user edits their own message: the bot gets edited_message."""
        if message.sender is not user:
            raise ValueError("users edit only their own messages")
        message.record_edit(text, detect_entities(text), None, date=self.clock.unix())
        deliver_message(self.world, message, edited=True)
        self.world.signal.notify()
        return message

    async def post_in_channel(self, user: SimUser, chat: SimChat, text: str) -> SimMessage:
        """An admin of the channel posts: admin bots get channel_post."""
        member = chat.member(user.id)
        if chat.type != "channel" or member is None or not member.right("can_post_messages"):
            raise ValueError(f"{user.first_name} cannot post in {chat.title!r}")
        message = Message(
            message_id=chat.next_message_id(),
            chat=chat,
            date=self.clock.unix(),
            sender=None,
            sender_chat=chat,
            text=text,
            entities=detect_entities(text),
        )
        chat.messages[message.message_id] = message
        deliver_message(self.world, message)
        self.world.signal.notify()
        return message

    def _owner_bot(self, message: Message) -> BotAccount:
        bot_id = message.via_bot.id if message.via_bot is not None else message.bot_id
        bot = self.world.bots.get(bot_id or 0)
        if bot is None:
            raise ValueError("only a bot's messages have buttons to press")
        return bot

    async def press_button(
        self,
        user: SimUser,
        message: SimMessage,
        *,
        text: str | None = None,
        data: str | None = None,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        """The user presses an inline button; returns the bot's answerCallbackQuery."""
        if message.deleted:
            raise LookupError("the message was deleted")
        button = next(
            (
                button
                for row in message.buttons
                for button in row
                if "callback_data" in button
                and (text is None or button.get("text") == text)
                and (data is None or button["callback_data"] == data)
            ),
            None,
        )
        if button is None:
            shown = [[b.get("text") for b in row] for row in message.buttons]
            raise LookupError(f"no callback button text={text!r} data={data!r} in {shown}")
        bot = self._owner_bot(message)
        world = self.world
        query = CallbackQuery(
            id=str(FIRST_QUERY_ID + world.next_number()),
            bot_id=bot.id,
            user=user,
            message=message,
            data=str(button["callback_data"]),
            created_at=self.clock.now(),
        )
        world.callback_queries[query.id] = query
        chat = message.chat if message.chat is not None else message.posted_in
        payload: JsonObject = {
            "id": query.id,
            "from": user.to_api(),
            "chat_instance": _chat_instance(chat) if chat is not None else "0",
            "data": query.data,
        }
        if message.inline_message_id is not None:
            payload["inline_message_id"] = message.inline_message_id
        else:
            payload["message"] = message.to_api()
        world.enqueue(bot, "callback_query", payload)
        return await _answer_of(query, timeout, f"an answer to the press of {text or data!r}")

    async def inline_query(
        self,
        user: SimUser,
        query: str,
        *,
        offset: str = "",
        chat_type: str = "sender",
        timeout: float = 5.0,
        bot: BotAccount | None = None,
    ) -> InlineAnswer:
        """The user types `@bot query`; returns the bot's answerInlineQuery."""
        target = self._the_bot(bot)
        world = self.world
        record = InlineQuery(
            id=str(FIRST_QUERY_ID + world.next_number()),
            bot_id=target.id,
            user=user,
            query=query,
            created_at=self.clock.now(),
        )
        world.inline_queries[record.id] = record
        payload: JsonObject = {
            "id": record.id,
            "from": user.to_api(),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        world.enqueue(target, "inline_query", payload)
        return await _answer_of(record, timeout, f"an answer to inline query {query!r}")

    async def choose_inline_result(
        self, user: SimUser, answer: InlineAnswer, result_id: str, *, chat: SimChat
    ) -> SimMessage:
        """The user picks a result: posted in `chat`, and the bot gets chosen_inline_result."""
        result = next((r for r in answer.results if r.get("id") == result_id), None)
        if result is None:
            raise LookupError(f"no result {result_id!r} in the answer")
        world = self.world
        bot = world.bots[answer.bot_id]
        content = result.get("input_message_content") or {}
        photo: list[JsonObject] | None = None
        if "message_text" in content:
            text, entities = message_text(
                str(content["message_text"]), content.get("parse_mode"), content.get("entities")
            )
        elif result.get("type") == "photo":
            photo = resolve_photo(world, result.get("photo_file_id") or result.get("photo_url"))
            text, entities = caption_text(
                result.get("caption"), result.get("parse_mode"), result.get("caption_entities")
            )
        else:
            raise ValueError(f"the emulator cannot post a {result.get('type')!r} result")
        inline_message_id = encode_id("AgAAA", world.next_number())
        reply_markup = inline_keyboard(result.get("reply_markup"))
        message = Message(
            message_id=chat.next_message_id(),
            chat=None,
            posted_in=chat,
            date=self.clock.unix(),
            sender=user,
            text=text,
            entities=entities,
            reply_markup=reply_markup,
            via_bot=bot.user,
            photo_sizes=photo,
            inline_message_id=inline_message_id,
        )
        chat.messages[message.message_id] = message
        world.inline_messages[inline_message_id] = message
        payload: JsonObject = {
            "result_id": result_id,
            "from": user.to_api(),
            "query": answer.query,
        }
        # Telegram names the inline message only when it has a keyboard to come back through.
        if reply_markup is not None:
            payload["inline_message_id"] = inline_message_id
        world.enqueue(bot, "chosen_inline_result", payload)
        return message

    async def block_bot(self, user: SimUser, *, bot: BotAccount | None = None) -> None:
        target = self._the_bot(bot)
        chat = self.world.private_chat(target, user)
        if chat.blocked:
            return
        chat.blocked = True
        member_change(
            self.world,
            chat,
            actor=user,
            old=Member(target.user, "member"),
            new=Member(target.user, "kicked"),
        )

    async def unblock_bot(self, user: SimUser, *, bot: BotAccount | None = None) -> None:
        target = self._the_bot(bot)
        chat = self.world.private_chat(target, user)
        if not chat.blocked:
            return
        chat.blocked = False
        chat.started = True
        member_change(
            self.world,
            chat,
            actor=user,
            old=Member(target.user, "kicked"),
            new=Member(target.user, "member"),
        )

    def _service_message(self, chat: Chat, actor: User, service: JsonObject) -> Message:
        message = self._user_message(actor, chat, None)
        message.service = service
        deliver_message(self.world, message)
        return message

    async def add_bot_to_chat(
        self,
        chat: SimChat,
        *,
        by: SimUser,
        admin: bool = False,
        can_post_messages: bool = True,
        bot: BotAccount | None = None,
    ) -> None:
        """A user adds (or promotes) the bot: my_chat_member, and new_chat_members in groups."""
        target = self._the_bot(bot)
        old = chat.members.get(target.id) or Member(target.user, "left")
        new = (
            Member(
                target.user,
                "administrator",
                _bot_admin_rights(chat, can_post_messages=can_post_messages),
            )
            if admin
            else Member(target.user, "member")
        )
        chat.members[target.id] = new
        member_change(self.world, chat, actor=by, old=old, new=new)
        if chat.type != "channel" and not old.present:
            self._service_message(chat, by, {"new_chat_members": [target.user.to_api()]})

    async def remove_bot_from_chat(
        self, chat: SimChat, *, by: SimUser, bot: BotAccount | None = None
    ) -> None:
        """A user removes the bot: my_chat_member with status kicked."""
        target = self._the_bot(bot)
        old = chat.members.get(target.id) or Member(target.user, "left")
        new = Member(target.user, "kicked")
        chat.members[target.id] = new
        member_change(self.world, chat, actor=by, old=old, new=new)
        if chat.type != "channel":
            self._service_message(chat, by, {"left_chat_member": target.user.to_api()})

    async def set_member_status(
        self,
        chat: SimChat,
        user: SimUser | BotAccount,
        status: str,
        *,
        by: SimUser | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        """Change someone's standing; admin bots get chat_member (if they asked for it)."""
        subject = user.user if isinstance(user, BotAccount) else user
        old = chat.members.get(subject.id) or Member(subject, "left")
        if rights is None and status == "administrator":
            rights = (
                _bot_admin_rights(chat, can_post_messages=True)
                if subject.is_bot
                else dict(_USER_ADMIN_RIGHTS)
            )
        new = Member(subject, status, rights or {})
        chat.members[subject.id] = new
        actor = by or next(
            (m.user for m in chat.members.values() if m.status == "creator"), subject
        )
        member_change(self.world, chat, actor=actor, old=old, new=new)

    async def upgrade_to_supergroup(self, chat: SimChat) -> SimChat:
        """The group becomes a supergroup with a new id; the old id answers migrate_to_chat_id."""
        if chat.type != "group":
            raise ValueError("only basic groups are upgraded")
        creator = next(m.user for m in chat.members.values() if m.status == "creator")
        supergroup = Chat(
            id=self._next_chat_id(supergroup=True),
            type="supergroup",
            title=chat.title,
            username=chat.username,
        )
        for user_id, member in chat.members.items():
            supergroup.members[user_id] = Member(member.user, member.status, dict(member.rights))
        self._register(supergroup)
        self._service_message(chat, creator, {"migrate_to_chat_id": supergroup.id})
        chat.migrated_to = supergroup.id
        self._service_message(supergroup, creator, {"migrate_from_chat_id": chat.id})
        self.world.signal.notify()
        return supergroup

    def delete_chat_message(self, chat: SimChat, message_id: int) -> None:
        """Someone deleted the message: edits of it now fail with "message to edit not found"."""
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in {chat.id}")
        message.deleted = True
        self.world.signal.notify()

    # --- what chats show --------------------------------------------------------------------

    def messages(self, chat: SimChat, *, bot: BotAccount | None = None) -> list[SimMessage]:
        """What the chat shows, oldest first: users' and bots' messages not deleted."""
        if chat.type == "private" and chat.user is not None and bot is not None:
            chat = self.world.private_chat(bot, chat.user)
        return [m for m in chat.messages.values() if not m.deleted]

    def bot_messages(self, chat: SimChat) -> list[SimMessage]:
        return [m for m in chat.messages.values() if m.from_bot and not m.deleted]

    def inline_message(self, inline_message_id: str) -> SimMessage:
        return self.world.inline_messages[inline_message_id]

    def requests(self, method: str | None = None) -> list[RecordedRequest]:
        """Every call the bots made, with the envelope each got; optionally of one method."""
        if method is None:
            return list(self.world.requests)
        wanted = method.lower()
        return [r for r in self.world.requests if r.method.lower() == wanted]

    def count_errors(self, code: int) -> int:
        return self.world.answers_by_status[code]

    def pending_updates(self, bot: BotAccount | None = None) -> int:
        return len(self._the_bot(bot).updates)

    # --- faults (emulator.faults) -----------------------------------------------------------

    def inject_faults(
        self,
        status: FaultKind = 502,
        *,
        methods: set[str] | None = None,
        count: int | None = None,
        seconds: float | None = None,
        hold: float = DEFAULT_HOLD,
        result: object = None,
    ) -> FaultPlan:
        """Answer the next `count` requests (or all for `seconds`) with a 5xx, or hold them.

        `methods` limits the fault to those Bot API methods; "timeout" holds each request for
        `hold` seconds without doing it, so the client times out first; "result" answers
        `"ok": true` with `result` at once (`None`: `null`; `[]` for a getUpdates that never
        waits), without doing the method.
        """
        return self.world.faults.add(
            status, methods=methods, count=count, seconds=seconds, hold=hold, result=result
        )

    def clear_faults(self) -> None:
        self.world.faults.clear()

    @property
    def faults_injected(self) -> int:
        """How many requests injected faults have answered so far."""
        return self.world.faults.injected

    def restart_update_ids(
        self, first: int = FIRST_UPDATE_ID, *, bot: BotAccount | None = None
    ) -> int:
        """Number the bot's next updates from `first` again (default: the very first id it was
        given), as a Bot API server does after a restart; returns the next id."""
        restart_update_ids(self._the_bot(bot), first)
        return first

    def update_ids(self, bot: BotAccount | None = None) -> list[int]:
        """The ids of the bot's recent updates, oldest first (delivered or not)."""
        return [update.update_id for update in self._the_bot(bot).history]

    def redeliver(self, update_id: int | None = None, *, bot: BotAccount | None = None) -> int:
        """Deliver an update again with its same update_id (default: the latest); returns the id.

        As Telegram does when a bot restarts before confirming its offset.
        """
        target = self._the_bot(bot)
        if not target.history:
            raise LookupError("the bot has had no updates yet")
        wanted = target.history[-1].update_id if update_id is None else update_id
        update = next((u for u in target.history if u.update_id == wanted), None)
        if update is None:
            raise LookupError(f"no recent update {wanted}")
        target.replays.append(update)
        target.wake()
        self.world.signal.notify()
        return wanted

    # --- waiting ----------------------------------------------------------------------------

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        *,
        timeout: float = 5.0,
        what: str | None = None,
    ) -> T:
        """The predicate's first truthy value, re-checked whenever the emulator's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                name = what or getattr(predicate, "__qualname__", repr(predicate))
                raise TimeoutError(f"waited {timeout}s for {name}; it never came")
            await self.world.signal.wait(remaining)

    async def wait_for_bot_message(
        self, chat: SimChat, *, after: int = 0, timeout: float = 5.0
    ) -> SimMessage:
        """The first bot message in the chat with message_id > after."""

        def first_new() -> Message | None:
            for message_id in range(after + 1, chat.last_message_id + 1):
                message = chat.messages.get(message_id)
                if message is not None and message.from_bot and not message.deleted:
                    return message
            return None

        return await self.wait_for(
            first_new, timeout=timeout, what=f"a bot message in chat {chat.id} after #{after}"
        )
