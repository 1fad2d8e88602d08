"""What a test reads back: what chats show, the requests bots made and the answers they got,
webhook replies refused, updates still pending, and waiting until the emulator's state says what
the test expects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from emulator.simulation.base import EmulatorBase
from emulator.state import BotAccount, Chat, Message, RecordedRequest, WebhookReplyError

T = TypeVar("T")


class Inspection(EmulatorBase):
    """Chats as readers see them, every request the bots made, and waiting for what comes."""

    def messages(self, chat: Chat, *, bot: BotAccount | None = None) -> list[Message]:
        """What the chat shows, oldest first: users' and bots' messages not deleted."""
        if chat.type == "private" and chat.user is not None and bot is not None:
            chat = self.world.private_chat(bot, chat.user)
        return [m for m in chat.messages.values() if not m.deleted]

    def bot_messages(self, chat: Chat) -> list[Message]:
        return [m for m in chat.messages.values() if m.from_bot and not m.deleted]

    def file_bytes(self, message: Message) -> bytes:
        """The bytes of the message's document, or of its photo's largest size, as sent."""
        if message.document is not None:
            file_id = str(message.document["file_id"])
        elif message.photo_sizes:
            file_id = str(message.photo_sizes[-1]["file_id"])
        else:
            raise LookupError(f"message {message.message_id} carries no file")
        stored = self.world.stored_files.get(file_id)
        if stored is None:
            raise LookupError(f"message {message.message_id}'s file was never uploaded")
        return stored.data

    def inline_message(self, inline_message_id: str) -> Message:
        return self.world.inline_messages[inline_message_id]

    def requests(self, method: str | None = None) -> list[RecordedRequest]:
        """Every call the bots made, with the envelope each got; optionally of one method."""
        if method is None:
            return list(self.world.requests)
        wanted = method.lower()
        return [r for r in self.world.requests if r.method.lower() == wanted]

    def webhook_reply_errors(self, bot: BotAccount | None = None) -> list[WebhookReplyError]:
        """The method calls the bot's webhook replies carried that were refused, oldest first."""
        return list(self._the_bot(bot).webhook_reply_errors)

    def count_errors(self, code: int) -> int:
        return self.world.answers_by_status[code]

    def pending_updates(self, bot: BotAccount | None = None) -> int:
        return len(self._the_bot(bot).updates)

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
        self, chat: Chat, *, after: int = 0, timeout: float = 5.0
    ) -> Message:
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
