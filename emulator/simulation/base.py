"""What every part of `Emulator` stands on: the emulated world and its clock, which bot a call
means, new chats' ids, and a new message (a user's, a service message, a channel's post) in a chat.

The parts of `Emulator` (people, writing, queries, membership, forums, faults, inspection) are
mixins of `EmulatorBase`; only `emulator.simulation` composes them.
"""

from __future__ import annotations

from emulator.events import deliver_message
from emulator.formatting import detect_entities
from emulator.state import BotAccount, Chat, JsonObject, Message, User, World

FIRST_GROUP_ID = -4_100_000_000
FIRST_SUPERGROUP_ID = -1_002_100_000_000


class EmulatorBase:
    """The emulated Telegram a test plays in, and what the parts of `Emulator` share."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.clock = world.clock
        self._users = 0
        self._groups = 0

    def _the_bot(self, bot: BotAccount | None) -> BotAccount:
        if bot is not None:
            return bot
        if len(self.world.bots) != 1:
            raise ValueError(f"name the bot: the emulator has {len(self.world.bots)} bots")
        return next(iter(self.world.bots.values()))

    def _register(self, chat: Chat) -> Chat:
        self.world.chats[chat.id] = chat
        if chat.username is not None:
            self.world.chats_by_username[chat.username.lower()] = chat
        return chat

    def _next_chat_id(self, *, supergroup: bool) -> int:
        self._groups += 1
        return (FIRST_SUPERGROUP_ID if supergroup else FIRST_GROUP_ID) - self._groups

    def _add_message(
        self, chat: Chat, text: str | None, *, sender: User | None, reply_to: Message | None = None
    ) -> Message:
        """A new message in the chat: the sender's, or with no sender the channel's own post."""
        message = Message(
            message_id=chat.next_message_id(),
            chat=chat,
            date=self.clock.unix(),
            sender=sender,
            sender_chat=chat if sender is None else None,
            text=text,
            entities=detect_entities(text) if text else [],
            reply_to=reply_to,
        )
        chat.messages[message.message_id] = message
        return message

    def _service_message(self, chat: Chat, actor: User, service: JsonObject) -> Message:
        message = self._add_message(chat, None, sender=actor)
        message.service = service
        deliver_message(self.world, message)
        return message
