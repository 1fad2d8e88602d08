"""The update kinds the bot asks Telegram for: exactly those its handlers take (HANDLED_UPDATES),
in polling and webhook mode, so that no other kind is ever fetched only to be dropped."""

from __future__ import annotations

from typing import Any, cast

from harness import RunningBot
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
)

from bot.app import HANDLED_UPDATES

_USER = {"id": 7, "is_bot": False, "first_name": "Probe"}
_PRIVATE = {"id": 7, "type": "private", "first_name": "Probe"}
_GROUP = {"id": -42, "type": "group", "title": "Desk"}
# Messages each message-carrying kind is probed with: a command, a group upgraded to a
# supergroup, a link posted in a group.
_MESSAGES: list[dict[str, Any]] = [
    {
        "message_id": 1,
        "date": 0,
        "chat": _PRIVATE,
        "from": _USER,
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
    {"message_id": 2, "date": 0, "chat": _GROUP, "from": _USER, "migrate_to_chat_id": -1004},
    {
        "message_id": 3,
        "date": 0,
        "chat": _GROUP,
        "from": _USER,
        "text": "see https://news.example.com/a",
        "entities": [{"type": "url", "offset": 4, "length": 26}],
    },
]
_MESSAGE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
_MEMBER_CHANGE = {
    "chat": _GROUP,
    "from": _USER,
    "date": 0,
    "old_chat_member": {"status": "left", "user": _USER},
    "new_chat_member": {"status": "member", "user": _USER},
}
# The kinds each handler class can take at all; a handler of any other class makes this test
# (and so HANDLED_UPDATES) be looked at again.
_PROBES: dict[type[BaseHandler[Any, Any, Any]], dict[str, list[dict[str, Any]]]] = {
    CommandHandler: dict.fromkeys(_MESSAGE_KINDS, _MESSAGES),
    MessageHandler: dict.fromkeys(_MESSAGE_KINDS, _MESSAGES),
    CallbackQueryHandler: {
        "callback_query": [{"id": "1", "from": _USER, "chat_instance": "c", "data": "x"}]
    },
    InlineQueryHandler: {
        "inline_query": [{"id": "1", "from": _USER, "query": "climate", "offset": ""}]
    },
    ChosenInlineResultHandler: {
        "chosen_inline_result": [{"result_id": "1", "from": _USER, "query": "climate"}]
    },
    ChatMemberHandler: {"my_chat_member": [_MEMBER_CHANGE], "chat_member": [_MEMBER_CHANGE]},
    MessageReactionHandler: {
        "message_reaction": [
            {
                "chat": _GROUP,
                "message_id": 1,
                "user": _USER,
                "date": 0,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        ],
        "message_reaction_count": [
            {
                "chat": _GROUP,
                "message_id": 1,
                "date": 0,
                "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 1}],
            }
        ],
    },
}


async def test_handled_updates_are_the_kinds_the_handlers_take(running_bot: RunningBot) -> None:
    """Every kind some handler takes is in HANDLED_UPDATES, and nothing else is."""
    application = running_bot.application
    handlers = application.handlers[0]
    assert {type(handler) for handler in handlers} <= set(_PROBES)
    taken: set[str] = set()
    for handler in handlers:
        for kind, payloads in _PROBES[type(handler)].items():
            for payload in payloads:
                update = Update.de_json({"update_id": 1, kind: payload}, application.bot)
                if handler.check_update(update):
                    taken.add(kind)
    assert sorted(taken) == sorted(HANDLED_UPDATES)
    assert set(HANDLED_UPDATES) <= set(Update.ALL_TYPES)


async def test_polling_asks_only_for_handled_updates_and_gets_no_other(
    running_bot: RunningBot,
) -> None:
    """Every getUpdates carries exactly HANDLED_UPDATES; a reader's edit (edited_message) and a
    poll answer the bot never asked for are not delivered, and the bot goes on answering."""
    emu, account = running_bot.emulator, running_bot.account
    reader = emu.create_user("Elif")
    chat = emu.private_chat(reader)
    await emu.wait_for(lambda: emu.requests("getUpdates"), timeout=10)
    start = await emu.send_message(reader, "/start")
    await emu.wait_for_bot_message(chat, timeout=10)
    await emu.edit_message(reader, start, "/start again")
    # A kind nothing handles, in a shape python-telegram-bot cannot even parse.
    emu.world.enqueue(account, "poll_answer", {"chat": _PRIVATE, "option_ids": "?"})
    asked = await emu.send_message(reader, "/help")
    reply = await emu.wait_for_bot_message(chat, after=asked.message_id, timeout=10)
    assert "/subscribe" in reply.text

    # Updates go out in order: the edit and the poll answer, had they been queued, came first.
    calls = emu.requests("getUpdates")
    assert calls
    assert [call.params["allowed_updates"] for call in calls] == [list(HANDLED_UPDATES)] * len(
        calls
    )
    delivered = {
        kind
        for call in calls
        if call.status == 200
        for update in cast("list[dict[str, object]]", call.response["result"])
        for kind in update
        if kind != "update_id"
    }
    assert delivered == {"message"}
    assert [update.kind for update in account.history] == ["message", "message"]
