"""The emulator's parameter tables against the Bot API: api.json's fields for every served method,
and every parameter python-telegram-bot puts on the wire for them."""

from __future__ import annotations

import datetime as dtm
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    MessageEntity,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    ReplyParameters,
    SuggestedPostParameters,
    SuggestedPostPrice,
)
from telegram.request import BaseRequest, RequestData

from emulator.params import METHODS, UploadedFile, validate

API_JSON = (
    Path(__file__).resolve().parents[2].parent / "shared" / "telegram-bot-api-spec" / "api.json"
)


@pytest.fixture(name="api_methods", scope="module")
def fixture_api_methods() -> dict[str, Any]:
    """The Bot API's methods as api.json describes them; skips where the spec is absent."""
    if not API_JSON.exists():
        pytest.skip(f"api.json not found at {API_JSON}: conformance not checked")
    methods: dict[str, Any] = json.loads(API_JSON.read_text(encoding="utf-8"))["methods"]
    return methods


@pytest.mark.parametrize("method", sorted(METHODS))
def test_served_method_exists_in_the_bot_api(method: str, api_methods: dict[str, Any]) -> None:
    """Every method the emulator serves is a Bot API method, spelled the same way."""
    assert method in api_methods


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_fields_match_the_bot_api(method: str, api_methods: dict[str, Any]) -> None:
    """Each served method takes exactly api.json's fields, with its required flags and types."""
    expected = {
        field["name"]: (tuple(field["types"]), field["required"])
        for field in api_methods[method].get("fields", [])
    }
    served = {name: (spec.types, spec.required) for name, spec in METHODS[method].fields.items()}
    assert served == expected


# --- python-telegram-bot's requests, captured before they reach any network ---

USER = {"id": 42, "is_bot": True, "first_name": "Newsbot", "username": "newsbot"}
MESSAGE = {"message_id": 7, "date": 1_764_000_000, "chat": {"id": 5, "type": "private"}}
RESULTS: dict[str, object] = {
    "getMe": USER,
    "getUpdates": [],
    "getMyCommands": [],
    "getChatAdministrators": [],
    "getChatMember": {"status": "member", "user": USER},
    "copyMessage": {"message_id": 8},
    "createForumTopic": {"message_thread_id": 9, "name": "Sports", "icon_color": 7322096},
    "getWebhookInfo": {"url": "", "has_custom_certificate": False, "pending_update_count": 0},
    "getChat": {
        "id": 5,
        "type": "private",
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
            "gifts_from_channels": True,
        },
    },
    **dict.fromkeys(
        [
            "sendMessage",
            "sendPhoto",
            "sendDocument",
            "forwardMessage",
            "editMessageText",
            "editMessageCaption",
            "editMessageReplyMarkup",
        ],
        MESSAGE,
    ),
}


class CapturingRequest(BaseRequest):
    """A request backend that records what python-telegram-bot would post, and answers ok."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, object]]] = []

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(  # noqa: PLR0917 - BaseRequest's signature
        self,
        url: str,
        method: str,  # noqa: ARG002 - always POST; the Bot API method is in the URL
        request_data: RequestData | None = None,
        read_timeout: object = None,  # noqa: ARG002 - nothing is awaited
        write_timeout: object = None,  # noqa: ARG002 - nothing is awaited
        connect_timeout: object = None,  # noqa: ARG002 - nothing is awaited
        pool_timeout: object = None,  # noqa: ARG002 - nothing is awaited
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        form: dict[str, object] = {}
        if request_data is not None:
            form.update(request_data.json_parameters)
            for name, (filename, content, mimetype) in (request_data.multipart_data or {}).items():
                data = content if isinstance(content, bytes) else content.read()
                form[name] = UploadedFile(filename=filename, content_type=mimetype, data=data)
        self.sent.append((api_method, form))
        body = {"ok": True, "result": RESULTS.get(api_method, True)}
        return 200, json.dumps(body).encode()


@pytest.fixture(name="wire")
def fixture_wire() -> CapturingRequest:
    """A request backend that captures python-telegram-bot's requests."""
    return CapturingRequest()


@pytest.fixture(name="bot")
def fixture_bot(wire: CapturingRequest) -> Bot:
    """A python-telegram-bot Bot whose every request lands in `wire`."""
    return Bot("42:TEST", request=wire, get_updates_request=wire)


KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="poll:1:yes")]])
ENTITIES = [MessageEntity(MessageEntity.BOLD, 0, 4)]
WHEN = dtm.datetime(2030, 1, 1, tzinfo=dtm.UTC)
SUGGESTION = SuggestedPostParameters(price=SuggestedPostPrice("XTR", 50), send_date=WHEN)
REPLY = ReplyParameters(message_id=3, quote="News", allow_sending_without_reply=True)
SCOPE = BotCommandScopeChat(chat_id=5)
SEND_OPTIONS: dict[str, Any] = {
    "business_connection_id": "biz",
    "message_thread_id": 2,
    "direct_messages_topic_id": 4,
    "disable_notification": True,
    "protect_content": True,
    "allow_paid_broadcast": True,
    "message_effect_id": "5104841245755180586",
    "suggested_post_parameters": SUGGESTION,
    "reply_parameters": REPLY,
}

Call = Callable[[Bot], Awaitable[object]]
CALLS: dict[str, Call] = {
    "getMe": lambda bot: bot.get_me(),
    "getUpdates": lambda bot: bot.get_updates(
        offset=3, limit=50, timeout=10, allowed_updates=["message", "callback_query"]
    ),
    "setWebhook": lambda bot: bot.set_webhook(
        "https://example.org/hook",
        certificate=b"-----BEGIN CERTIFICATE-----",
        ip_address="203.0.113.5",
        max_connections=40,
        allowed_updates=["message"],
        drop_pending_updates=True,
        secret_token="s3cret",
    ),
    "deleteWebhook": lambda bot: bot.delete_webhook(drop_pending_updates=True),
    "getWebhookInfo": lambda bot: bot.get_webhook_info(),
    "sendMessage": lambda bot: bot.send_message(
        5,
        "News today",
        parse_mode="HTML",
        entities=ENTITIES,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=KEYBOARD,
        **SEND_OPTIONS,
    ),
    "sendMessage with force reply": lambda bot: bot.send_message(
        "@newsroom", "Your answer?", reply_markup=ForceReply(input_field_placeholder="...")
    ),
    "sendPhoto": lambda bot: bot.send_photo(
        5,
        b"\xff\xd8\xff\xe0",
        caption="Cover",
        parse_mode="HTML",
        caption_entities=ENTITIES,
        show_caption_above_media=True,
        has_spoiler=True,
        filename="cover.jpg",
        reply_markup=KEYBOARD,
        **SEND_OPTIONS,
    ),
    "sendDocument": lambda bot: bot.send_document(
        5,
        b"option,votes\r\nYes,3\r\n",
        filename="article.csv",
        thumbnail=b"\xff\xd8\xff\xe0",
        caption="Export",
        parse_mode="HTML",
        caption_entities=ENTITIES,
        disable_content_type_detection=True,
        reply_markup=KEYBOARD,
        **SEND_OPTIONS,
    ),
    "copyMessage": lambda bot: bot.copy_message(
        6,
        5,
        7,
        caption="Cover",
        parse_mode="HTML",
        caption_entities=ENTITIES,
        show_caption_above_media=True,
        video_start_timestamp=3,
        reply_markup=KEYBOARD,
        **{k: v for k, v in SEND_OPTIONS.items() if k != "business_connection_id"},
    ),
    "forwardMessage": lambda bot: bot.forward_message(
        6,
        5,
        7,
        disable_notification=True,
        protect_content=True,
        message_thread_id=2,
        video_start_timestamp=3,
        direct_messages_topic_id=4,
        suggested_post_parameters=SUGGESTION,
        message_effect_id="5104841245755180586",
    ),
    "editMessageText": lambda bot: bot.edit_message_text(
        "Updated",
        chat_id=5,
        message_id=7,
        parse_mode="MarkdownV2",
        entities=ENTITIES,
        link_preview_options=LinkPreviewOptions(url="https://example.org"),
        reply_markup=KEYBOARD,
        business_connection_id="biz",
    ),
    "editMessageCaption": lambda bot: bot.edit_message_caption(
        inline_message_id="AAA",
        caption="New caption",
        parse_mode="HTML",
        caption_entities=ENTITIES,
        show_caption_above_media=False,
        reply_markup=KEYBOARD,
    ),
    "editMessageReplyMarkup": lambda bot: bot.edit_message_reply_markup(
        chat_id=5, message_id=7, reply_markup=KEYBOARD
    ),
    "deleteMessage": lambda bot: bot.delete_message(5, 7),
    "deleteMessages": lambda bot: bot.delete_messages(5, [7, 8]),
    "setMessageReaction": lambda bot: bot.set_message_reaction(
        -100123, 7, [ReactionTypeEmoji("👍"), ReactionTypeCustomEmoji("5368324170671202286")], True
    ),
    "answerCallbackQuery": lambda bot: bot.answer_callback_query(
        "123", text="Counted", show_alert=True, url="https://t.me/newsbot?start=x", cache_time=5
    ),
    "answerInlineQuery": lambda bot: bot.answer_inline_query(
        "321",
        [InlineQueryResultArticle("1", "Story", InputTextMessageContent("Story text"))],
        cache_time=30,
        is_personal=True,
        next_offset="10",
        button=InlineQueryResultsButton("Open", start_parameter="go"),
    ),
    "setMyCommands": lambda bot: bot.set_my_commands(
        [BotCommand("start", "Begin")], scope=SCOPE, language_code="en"
    ),
    "getMyCommands": lambda bot: bot.get_my_commands(scope=SCOPE, language_code="en"),
    "deleteMyCommands": lambda bot: bot.delete_my_commands(scope=SCOPE, language_code="en"),
    "getChat": lambda bot: bot.get_chat("@newsroom"),
    "getChatMember": lambda bot: bot.get_chat_member(-100123, 42),
    "getChatAdministrators": lambda bot: bot.get_chat_administrators(-100123, return_bots=True),
    "leaveChat": lambda bot: bot.leave_chat(-100123),
    "createForumTopic": lambda bot: bot.create_forum_topic(
        -100123, "Sports", icon_color=7322096, icon_custom_emoji_id="5368324170671202286"
    ),
    "closeForumTopic": lambda bot: bot.close_forum_topic(-100123, 9),
    "reopenForumTopic": lambda bot: bot.reopen_forum_topic(-100123, 9),
    "deleteForumTopic": lambda bot: bot.delete_forum_topic(-100123, 9),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_python_telegram_bot_requests_pass_validation(
    call: Call, bot: Bot, wire: CapturingRequest
) -> None:
    """Every parameter python-telegram-bot posts for a served method is accepted."""
    await call(bot)
    ((method, form),) = wire.sent
    # A file sent beside its field (a document's thumbnail) is named by `attach://<part>`.
    parts = {
        name: value.removeprefix("attach://")
        for name, value in form.items()
        if isinstance(value, str) and value.startswith("attach://")
    }
    values = validate(method, form)
    assert set(values) == set(form) - set(parts.values())
    assert all(values[name] == form[part] for name, part in parts.items())
