"""What users ask of a bot and wait for: presses of its inline buttons (callback queries),
`@bot query` typed in inline mode, and the inline result they pick, posted in a chat.

A press or an inline query returns once the bot has answered that very query
(answerCallbackQuery, answerInlineQuery), or fails saying what never came.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, TypeVar

from emulator.content import caption_text, inline_keyboard, message_text, resolve_photo
from emulator.simulation.base import EmulatorBase
from emulator.state import (
    BotAccount,
    CallbackAnswer,
    CallbackQuery,
    Chat,
    InlineAnswer,
    InlineQuery,
    JsonObject,
    Message,
    User,
    encode_id,
)

A = TypeVar("A")

FIRST_QUERY_ID = 4_400_000_000_000_000_000


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


class Queries(EmulatorBase):
    """Users pressing a bot's buttons and using its inline mode, awaiting the bot's answers."""

    def _owner_bot(self, message: Message) -> BotAccount:
        bot_id = message.via_bot.id if message.via_bot is not None else message.bot_id
        bot = self.world.bots.get(bot_id or 0)
        if bot is None:
            raise ValueError("only a bot's messages have buttons to press")
        return bot

    async def press_button(
        self,
        user: User,
        message: Message,
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
        user: User,
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
        self, user: User, answer: InlineAnswer, result_id: str, *, chat: Chat
    ) -> Message:
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
