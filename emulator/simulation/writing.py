"""What users write: messages in private chats and groups (with a document if they like), edits
of their own messages, posts in the channels they run, and messages someone deleted.

Each one reaches the bots that would hear of it in Telegram as message, edited_message or
channel_post (emulator.events decides who hears what).
"""

from __future__ import annotations

from emulator.events import deliver_message
from emulator.files import store_document
from emulator.formatting import detect_entities
from emulator.simulation.base import EmulatorBase
from emulator.state import BotAccount, Chat, ForumTopic, Message, User


class Writing(EmulatorBase):
    """Users writing, editing, posting in channels, and deleting, as Telegram's users do."""

    def _chat_bot(self, chat: Chat) -> BotAccount | None:
        return self.world.bots.get(chat.bot_id or 0)

    def _writable_chat(self, user: User, chat: Chat | None, bot: BotAccount | None) -> Chat:
        if chat is None or chat.type == "private":
            # A private chat named without a bot is written in with the bot it belongs to.
            owner = bot if chat is None else bot or self._chat_bot(chat)
            target = self.world.private_chat(self._the_bot(owner), user)
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

    async def send_message(
        self,
        user: User,
        text: str,
        *,
        chat: Chat | None = None,
        bot: BotAccount | None = None,
        reply_to: Message | None = None,
        document: tuple[str, bytes] | None = None,
        topic: ForumTopic | None = None,
    ) -> Message:
        """The user writes in a chat (their private chat with the bot by default), in a forum
        in one of its topics when ``topic`` is given (its General topic otherwise)."""
        target = self._writable_chat(user, chat, bot)
        thread_id = self._topic_to_write_in(user, target, topic)
        message = self._add_message(target, text, sender=user, reply_to=reply_to)
        message.thread_id = thread_id
        if document is not None:
            filename, data = document
            # Kept with its bytes: the bot may getFile it and download it.
            message.document = store_document(self.world, filename, data)
        deliver_message(self.world, message)
        self.world.signal.notify()
        return message

    @staticmethod
    def _topic_to_write_in(user: User, chat: Chat, topic: ForumTopic | None) -> int | None:
        if topic is None:
            return None
        if chat.topics.get(topic.thread_id) is not topic:
            raise LookupError(f"topic {topic.name!r} is not (or no longer) in {chat.title!r}")
        member = chat.member(user.id)
        if topic.closed and (member is None or not member.right("can_manage_topics")):
            raise ValueError(f"{topic.name!r} is closed: {user.first_name} may not write in it")
        return topic.thread_id

    async def edit_message(self, user: User, message: Message, text: str) -> Message:
        """The user edits their own message: the bot gets edited_message."""
        if message.sender is not user:
            raise ValueError("users edit only their own messages")
        message.record_edit(text, detect_entities(text), None, date=self.clock.unix())
        deliver_message(self.world, message, edited=True)
        self.world.signal.notify()
        return message

    async def post_in_channel(self, user: User, chat: Chat, text: str) -> Message:
        """An admin of the channel posts: admin bots get channel_post."""
        member = chat.member(user.id)
        if chat.type != "channel" or member is None or not member.right("can_post_messages"):
            raise ValueError(f"{user.first_name} cannot post in {chat.title!r}")
        message = self._add_message(chat, text, sender=None)
        deliver_message(self.world, message)
        self.world.signal.notify()
        return message

    def delete_chat_message(self, chat: Chat, message_id: int) -> None:
        """Someone deleted the message: edits of it now fail with "message to edit not found"."""
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in {chat.id}")
        message.deleted = True
        self.world.signal.notify()
