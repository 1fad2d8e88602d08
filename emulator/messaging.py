"""Methods that post, copy, forward, edit and delete messages, with Telegram's limits."""

from __future__ import annotations

from emulator.access import count_send, ensure_can_send, ensure_member
from emulator.call import Call, Handler
from emulator.content import (
    caption_text,
    inline_keyboard,
    message_text,
    resolve_photo,
    user_keyboard,
)
from emulator.errors import ApiError
from emulator.files import resolve_document
from emulator.formatting import Entity
from emulator.forums import topic_for_send
from emulator.state import BotAccount, Chat, JsonObject, Message, World

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
# A message may be deleted for 48 hours after it was sent (`_may_delete` says who may, and when
# can_delete_messages lifts the limit).
DELETE_WINDOW_SECONDS = 48 * 3600
MAX_DELETED_AT_ONCE = 100  # deleteMessages takes 1-100 ids of one chat


def post(
    world: World,
    bot: BotAccount,
    chat: Chat,
    *,
    text: str | None,
    entities: list[Entity],
    reply_markup: JsonObject | None = None,
    photo_sizes: list[JsonObject] | None = None,
    document: JsonObject | None = None,
    reply_to: Message | None = None,
    forward_origin: JsonObject | None = None,
    reply_keyboard: JsonObject | None = None,
    thread_id: int | None = None,
) -> Message:
    """Store a message the bot sends into a chat (in a channel it is signed by the channel)."""
    channel = chat.type == "channel"
    message = Message(
        message_id=chat.next_message_id(),
        chat=chat,
        date=world.clock.unix(),
        sender=None if channel else bot.user,
        sender_chat=chat if channel else None,
        text=text,
        entities=entities,
        reply_markup=reply_markup,
        from_bot=True,
        bot_id=bot.id,
        photo_sizes=photo_sizes,
        document=document,
        reply_to=reply_to,
        forward_origin=forward_origin,
        reply_keyboard=reply_keyboard,
        thread_id=thread_id,
    )
    chat.messages[message.message_id] = message
    return message


def _thread(call: Call, chat: Chat, reply_to: Message | None) -> int | None:
    """The topic the call's ``message_thread_id`` names, or without one the topic of the
    message it replies to (as Telegram infers it); refused when it is gone or closed."""
    thread_id = call.integer("message_thread_id")
    if thread_id is None and reply_to is not None:
        thread_id = reply_to.thread_id
    return topic_for_send(chat, chat.member(call.bot.id), thread_id)


def _reply_target(call: Call, chat: Chat) -> Message | None:
    parameters = call.obj("reply_parameters")
    if parameters is None:
        return None
    message_id = parameters.get("message_id")
    target = chat.messages.get(message_id) if isinstance(message_id, int) else None
    if target is None or target.deleted:
        if parameters.get("allow_sending_without_reply") is True:
            return None
        raise ApiError.bad_request("message to be replied not found")
    return target


def _send(
    call: Call,
    chat: Chat,
    *,
    text: str | None,
    entities: list[Entity],
    markup: JsonObject | None,
    reply_to: Message | None,
    photo_sizes: list[JsonObject] | None = None,
    document: JsonObject | None = None,
    thread_id: int | None = None,
) -> object:
    """The end of every send*: counted against the flood limits, posted, answered."""
    count_send(call.world.flood, call.bot, chat, paid=call.flag("allow_paid_broadcast"))
    message = post(
        call.world,
        call.bot,
        chat,
        text=text,
        entities=entities,
        photo_sizes=photo_sizes,
        document=document,
        reply_markup=inline_keyboard(markup),
        reply_keyboard=user_keyboard(markup),
        reply_to=reply_to,
        thread_id=thread_id,
    )
    return message.to_api()


async def send_message(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    text, entities = message_text(
        call.string("text") or "", call.string("parse_mode"), call.items("entities")
    )
    markup = call.obj("reply_markup")
    reply_to = _reply_target(call, chat)
    thread_id = _thread(call, chat, reply_to)
    return _send(
        call,
        chat,
        text=text,
        entities=entities,
        markup=markup,
        reply_to=reply_to,
        thread_id=thread_id,
    )


async def send_photo(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    sizes = resolve_photo(world, call.raw("photo"))
    caption, entities = caption_text(
        call.string("caption"), call.string("parse_mode"), call.items("caption_entities")
    )
    markup = call.obj("reply_markup")
    reply_to = _reply_target(call, chat)
    thread_id = _thread(call, chat, reply_to)
    return _send(
        call,
        chat,
        text=caption,
        entities=entities,
        markup=markup,
        reply_to=reply_to,
        photo_sizes=sizes,
        thread_id=thread_id,
    )


async def send_document(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    caption, entities = caption_text(
        call.string("caption"), call.string("parse_mode"), call.items("caption_entities")
    )
    markup = call.obj("reply_markup")
    reply_to = _reply_target(call, chat)
    thread_id = _thread(call, chat, reply_to)
    # The caption, the reply and the topic are checked first: a send refused keeps no file.
    document = resolve_document(world, call.raw("document"))
    return _send(
        call,
        chat,
        text=caption,
        entities=entities,
        markup=markup,
        reply_to=reply_to,
        document=document,
        thread_id=thread_id,
    )


def _source_message(call: Call, missing: str) -> Message:
    from_chat = call.world.chat_for_bot(call.bot, call.raw("from_chat_id"))
    ensure_member(call.bot, from_chat)
    message_id = call.integer("message_id")
    source = from_chat.messages.get(message_id) if message_id is not None else None
    if source is None or source.deleted or source.inline_message_id is not None:
        raise ApiError.bad_request(missing)
    return source


async def copy_message(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    source = _source_message(call, "message to copy not found")
    if source.text is None and not source.has_caption:
        raise ApiError.bad_request("message can't be copied")
    text, entities = source.text, source.entities
    if source.has_caption and call.raw("caption") is not None:
        text, entities = caption_text(
            call.string("caption"), call.string("parse_mode"), call.items("caption_entities")
        )
    markup = call.obj("reply_markup")
    reply_to = _reply_target(call, chat)
    thread_id = _thread(call, chat, reply_to)
    count_send(world.flood, bot, chat, paid=call.flag("allow_paid_broadcast"))
    message = post(
        world,
        bot,
        chat,
        text=text,
        entities=list(entities),
        photo_sizes=source.photo_sizes,
        document=source.document,
        reply_markup=inline_keyboard(markup),
        reply_keyboard=user_keyboard(markup),
        reply_to=reply_to,
        thread_id=thread_id,
    )
    return {"message_id": message.message_id}


def _origin(source: Message) -> JsonObject:
    if source.forward_origin is not None:
        return source.forward_origin
    if source.sender_chat is not None and source.sender_chat.type == "channel":
        return {
            "type": "channel",
            "date": source.date,
            "chat": source.sender_chat.to_api(),
            "message_id": source.message_id,
        }
    if source.sender is not None:
        return {"type": "user", "date": source.date, "sender_user": source.sender.to_api()}
    return {"type": "hidden_user", "date": source.date, "sender_user_name": "Deleted Account"}


async def forward_message(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    thread_id = _thread(call, chat, None)
    source = _source_message(call, "message to forward not found")
    if source.text is None and not source.has_caption:
        raise ApiError.bad_request("message can't be forwarded")
    count_send(world.flood, bot, chat, paid=False)
    message = post(
        world,
        bot,
        chat,
        text=source.text,
        entities=list(source.entities),
        photo_sizes=source.photo_sizes,
        document=source.document,
        forward_origin=_origin(source),
        thread_id=thread_id,
    )
    return message.to_api()


def _edit_target(call: Call) -> tuple[Message, Chat | None]:
    """The message an edit names, by inline_message_id or by chat_id and message_id."""
    world, bot = call.world, call.bot
    inline_message_id = call.string("inline_message_id")
    if inline_message_id is not None:
        inline = world.inline_messages.get(inline_message_id)
        if inline is None or inline.via_bot is not bot.user:
            raise ApiError.bad_request("MESSAGE_ID_INVALID")
        if inline.deleted:
            raise ApiError.bad_request("message to edit not found")
        return inline, None
    if call.raw("chat_id") is None:
        raise ApiError.bad_request("chat_id is empty")
    message_id = call.integer("message_id")
    if message_id is None:
        raise ApiError.bad_request("message identifier is not specified")
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_can_send(bot, chat)
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise ApiError.bad_request("message to edit not found")
    if message.bot_id != bot.id:
        raise ApiError.bad_request("message can't be edited")
    return message, chat


def _apply_edit(
    call: Call,
    message: Message,
    chat: Chat | None,
    new: tuple[str | None, list[Entity], JsonObject | None],
) -> object:
    if new == message.content():
        raise ApiError.bad_request(NOT_MODIFIED)
    world = call.world
    count_send(world.flood, call.bot, chat, paid=False)
    message.record_edit(*new, date=world.clock.unix())
    if chat is None:
        return True
    return message.to_api()


async def edit_message_text(call: Call) -> object:
    message, chat = _edit_target(call)
    if message.has_caption:
        raise ApiError.bad_request("there is no text in the message to edit")
    text, entities = message_text(
        call.string("text") or "", call.string("parse_mode"), call.items("entities")
    )
    # An edit without reply_markup removes the keyboard, as in Telegram.
    markup = inline_keyboard(call.obj("reply_markup"))
    return _apply_edit(call, message, chat, (text, entities, markup))


async def edit_message_caption(call: Call) -> object:
    message, chat = _edit_target(call)
    if not message.has_caption:
        raise ApiError.bad_request("there is no caption in the message to edit")
    caption, entities = caption_text(
        call.string("caption"), call.string("parse_mode"), call.items("caption_entities")
    )
    markup = inline_keyboard(call.obj("reply_markup"))
    return _apply_edit(call, message, chat, (caption, entities, markup))


async def edit_message_reply_markup(call: Call) -> object:
    message, chat = _edit_target(call)
    markup = inline_keyboard(call.obj("reply_markup"))
    return _apply_edit(call, message, chat, (message.text, message.entities, markup))


def _may_delete(world: World, bot: BotAccount, chat: Chat, message: Message) -> bool:
    """Whether Telegram lets this bot delete this message now (deleteMessage's rules)."""
    member = chat.member(bot.id)
    own = message.bot_id == bot.id
    can_delete_any = member is not None and member.right("can_delete_messages")
    if chat.type == "private":
        # Outgoing and incoming messages alike.
        allowed = True
    elif chat.type == "channel":
        allowed = can_delete_any or (
            own and member is not None and member.right("can_post_messages")
        )
    elif chat.type == "group":
        # Any administrator of a basic group may delete any message there.
        allowed = own or (member is not None and member.status in ("creator", "administrator"))
    else:
        allowed = own or can_delete_any
    if not allowed:
        return False
    too_old = world.clock.unix() - message.date > DELETE_WINDOW_SECONDS
    # can_delete_messages lifts the 48 hours in supergroups and channels only.
    return not too_old or (chat.type in ("supergroup", "channel") and can_delete_any)


async def delete_message(call: Call) -> object:
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_member(bot, chat)
    message_id = call.integer("message_id")
    message = chat.messages.get(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise ApiError.bad_request("message to delete not found")
    if not _may_delete(world, bot, chat, message):
        raise ApiError.bad_request("message can't be deleted")
    message.deleted = True
    return True


async def delete_messages(call: Call) -> object:
    """Up to 100 messages of one chat: those not found are skipped; any other refusal deletes
    none of them."""
    world, bot = call.world, call.bot
    chat = world.chat_for_bot(bot, call.raw("chat_id"))
    ensure_member(bot, chat)
    ids = call.items("message_ids") or []
    if not ids:
        raise ApiError.bad_request("message identifiers are not specified")
    if len(ids) > MAX_DELETED_AT_ONCE:
        raise ApiError.bad_request("too many messages to delete")
    found = [
        message
        for message_id in dict.fromkeys(ids)
        if (message := chat.messages.get(message_id)) is not None and not message.deleted
    ]
    if any(not _may_delete(world, bot, chat, message) for message in found):
        raise ApiError.bad_request("message can't be deleted")
    for message in found:
        message.deleted = True
    return True


HANDLERS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
}
