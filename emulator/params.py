"""The parameters each served Bot API method takes, and turning a request's raw values into them.

The tables follow Bot API 10.0 field for field (names, required flags, api.json's type names), so
python-telegram-bot is never refused a field it may send. `validate` coerces form strings and JSON
values alike and checks the structure of reply markup; length limits on text are the server's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from emulator.errors import ApiError


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    """One parameter: the Bot API type names it accepts (any one of them) and if it is required."""

    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    """One method's parameters by name, and the names of those it requires."""

    fields: Mapping[str, FieldSpec]
    required: tuple[str, ...]


def _required(*types: str) -> FieldSpec:
    return FieldSpec(types, required=True)


def _optional(*types: str) -> FieldSpec:
    return FieldSpec(types, required=False)


def _method(*groups: Mapping[str, FieldSpec]) -> MethodSpec:
    fields: dict[str, FieldSpec] = {}
    for group in groups:
        fields.update(group)
    required = tuple(name for name, field in fields.items() if field.required)
    return MethodSpec(MappingProxyType(fields), required)


INTEGER = "Integer"
STRING = "String"
BOOLEAN = "Boolean"
CHAT_ID = (INTEGER, STRING)
ENTITIES = "Array of MessageEntity"
ANY_REPLY_MARKUP = (
    "InlineKeyboardMarkup",
    "ReplyKeyboardMarkup",
    "ReplyKeyboardRemove",
    "ForceReply",
)

# Field groups shared by several methods, in the order the Bot API documents them.
_BUSINESS = {"business_connection_id": _optional(STRING)}
_DESTINATION = {
    "chat_id": _required(*CHAT_ID),
    "message_thread_id": _optional(INTEGER),
    "direct_messages_topic_id": _optional(INTEGER),
}
_SOURCE_MESSAGE = {
    "from_chat_id": _required(*CHAT_ID),
    "message_id": _required(INTEGER),
    "video_start_timestamp": _optional(INTEGER),
}
_TEXT = {
    "text": _required(STRING),
    "parse_mode": _optional(STRING),
    "entities": _optional(ENTITIES),
    "link_preview_options": _optional("LinkPreviewOptions"),
}
_CAPTION = {
    "caption": _optional(STRING),
    "parse_mode": _optional(STRING),
    "caption_entities": _optional(ENTITIES),
    "show_caption_above_media": _optional(BOOLEAN),
}
_DELIVERY = {
    "disable_notification": _optional(BOOLEAN),
    "protect_content": _optional(BOOLEAN),
    "message_effect_id": _optional(STRING),
    "suggested_post_parameters": _optional("SuggestedPostParameters"),
}
_REPLY = {
    "allow_paid_broadcast": _optional(BOOLEAN),
    "reply_parameters": _optional("ReplyParameters"),
    "reply_markup": _optional(*ANY_REPLY_MARKUP),
}
_EDITED_MESSAGE = {
    "business_connection_id": _optional(STRING),
    "chat_id": _optional(*CHAT_ID),
    "message_id": _optional(INTEGER),
    "inline_message_id": _optional(STRING),
}
_INLINE_KEYBOARD = {"reply_markup": _optional("InlineKeyboardMarkup")}
_COMMAND_AUDIENCE = {"scope": _optional("BotCommandScope"), "language_code": _optional(STRING)}
_CHAT = {"chat_id": _required(*CHAT_ID)}
_TOPIC = {"message_thread_id": _required(INTEGER)}

METHODS: Mapping[str, MethodSpec] = MappingProxyType(
    {
        "getMe": _method(),
        "getUpdates": _method(
            {
                "offset": _optional(INTEGER),
                "limit": _optional(INTEGER),
                "timeout": _optional(INTEGER),
                "allowed_updates": _optional("Array of String"),
            }
        ),
        "setWebhook": _method(
            {
                "url": _required(STRING),
                "certificate": _optional("InputFile"),
                "ip_address": _optional(STRING),
                "max_connections": _optional(INTEGER),
                "allowed_updates": _optional("Array of String"),
                "drop_pending_updates": _optional(BOOLEAN),
                "secret_token": _optional(STRING),
            }
        ),
        "deleteWebhook": _method({"drop_pending_updates": _optional(BOOLEAN)}),
        "getWebhookInfo": _method(),
        "sendMessage": _method(_BUSINESS, _DESTINATION, _TEXT, _DELIVERY, _REPLY),
        "sendPhoto": _method(
            _BUSINESS,
            _DESTINATION,
            {"photo": _required("InputFile", STRING)},
            _CAPTION,
            {"has_spoiler": _optional(BOOLEAN)},
            _DELIVERY,
            _REPLY,
        ),
        "sendDocument": _method(
            _BUSINESS,
            _DESTINATION,
            {
                "document": _required("InputFile", STRING),
                "thumbnail": _optional("InputFile", STRING),
                "caption": _optional(STRING),
                "parse_mode": _optional(STRING),
                "caption_entities": _optional(ENTITIES),
                "disable_content_type_detection": _optional(BOOLEAN),
            },
            _DELIVERY,
            _REPLY,
        ),
        "copyMessage": _method(_DESTINATION, _SOURCE_MESSAGE, _CAPTION, _DELIVERY, _REPLY),
        "forwardMessage": _method(_DESTINATION, _SOURCE_MESSAGE, _DELIVERY),
        "editMessageText": _method(_EDITED_MESSAGE, _TEXT, _INLINE_KEYBOARD),
        "editMessageCaption": _method(_EDITED_MESSAGE, _CAPTION, _INLINE_KEYBOARD),
        "editMessageReplyMarkup": _method(_EDITED_MESSAGE, _INLINE_KEYBOARD),
        "deleteMessage": _method(_CHAT, {"message_id": _required(INTEGER)}),
        "deleteMessages": _method(_CHAT, {"message_ids": _required("Array of Integer")}),
        "setMessageReaction": _method(
            _CHAT,
            {
                "message_id": _required(INTEGER),
                "reaction": _optional("Array of ReactionType"),
                "is_big": _optional(BOOLEAN),
            },
        ),
        "answerCallbackQuery": _method(
            {
                "callback_query_id": _required(STRING),
                "text": _optional(STRING),
                "show_alert": _optional(BOOLEAN),
                "url": _optional(STRING),
                "cache_time": _optional(INTEGER),
            }
        ),
        "answerInlineQuery": _method(
            {
                "inline_query_id": _required(STRING),
                "results": _required("Array of InlineQueryResult"),
                "cache_time": _optional(INTEGER),
                "is_personal": _optional(BOOLEAN),
                "next_offset": _optional(STRING),
                "button": _optional("InlineQueryResultsButton"),
            }
        ),
        "setMyCommands": _method(
            {"commands": _required("Array of BotCommand")}, _COMMAND_AUDIENCE
        ),
        "getMyCommands": _method(_COMMAND_AUDIENCE),
        "deleteMyCommands": _method(_COMMAND_AUDIENCE),
        "getChat": _method(_CHAT),
        "getChatMember": _method(_CHAT, {"user_id": _required(INTEGER)}),
        "getChatAdministrators": _method(_CHAT, {"return_bots": _optional(BOOLEAN)}),
        "leaveChat": _method(_CHAT),
        "getFile": _method({"file_id": _required(STRING)}),
        "createForumTopic": _method(
            _CHAT,
            {
                "name": _required(STRING),
                "icon_color": _optional(INTEGER),
                "icon_custom_emoji_id": _optional(STRING),
            },
        ),
        "closeForumTopic": _method(_CHAT, _TOPIC),
        "reopenForumTopic": _method(_CHAT, _TOPIC),
        "deleteForumTopic": _method(_CHAT, _TOPIC),
    }
)


def validate(method: str, raw: Mapping[str, object]) -> dict[str, object]:
    """The request's parameters coerced to Python values, or the ApiError Telegram would answer.

    Unknown parameters are reported first, then mistyped ones, then missing ones.
    A JSON null counts as not sent. A file part is also accepted under another name when an
    InputFile parameter points at it with `attach://<name>`.
    """
    spec = METHODS.get(method)
    if spec is None:
        raise ApiError.not_found()
    given = {name: value for name, value in raw.items() if value is not None}
    attached = _attached_parts(spec, given)
    for name in given:
        if name not in spec.fields and name not in attached:
            raise ApiError.bad_request(f'unknown parameter "{name}"')
    values: dict[str, object] = {}
    for name, field in spec.fields.items():
        value = given.get(name)
        if value is None:
            continue
        if isinstance(value, str) and value.startswith(_ATTACH) and "InputFile" in field.types:
            value = given.get(value.removeprefix(_ATTACH), value)
        values[name] = _coerce(name, field.types, value)
    for name in spec.required:
        if name not in values:
            raise ApiError.bad_request(f'parameter "{name}" is required')
    return values


_ATTACH = "attach://"


def _attached_parts(spec: MethodSpec, given: Mapping[str, object]) -> set[str]:
    """Names of the file parts that InputFile parameters point at with `attach://`."""
    parts: set[str] = set()
    for name, field in spec.fields.items():
        value = given.get(name)
        if "InputFile" in field.types and isinstance(value, str) and value.startswith(_ATTACH):
            part = value.removeprefix(_ATTACH)
            if isinstance(given.get(part), UploadedFile):
                parts.add(part)
    return parts


# --- coercion: each type name has a check that returns the Python value or _MISMATCH ---

_MISMATCH: Final = object()
_UNDECODED: Final = object()


@dataclass(frozen=True)
class _Kind:
    json_encoded: bool  # sent as JSON text inside a form field
    check: Callable[[object], object]


def _coerce(name: str, types: tuple[str, ...], value: object) -> object:
    decoded = _UNDECODED
    for type_name in types:
        kind = _KINDS[type_name]
        candidate = value
        if kind.json_encoded:
            # Decoded once even when several JSON types are allowed (reply_markup).
            if decoded is _UNDECODED:
                decoded = _decode_json(value)
            candidate = decoded
        result = kind.check(candidate)
        if result is not _MISMATCH:
            return result
    raise ApiError.bad_request(f'parameter "{name}" must be {" or ".join(types)}')


def _decode_json(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return _MISMATCH


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _integer(value: object) -> object:
    if isinstance(value, bool):
        return _MISMATCH
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return _MISMATCH


def _boolean(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _BOOLEAN_TEXT.get(value.lower(), _MISMATCH)
    return _MISMATCH


def _string(value: object) -> object:
    if isinstance(value, str):
        return value
    # A JSON body may carry an identifier as a number; Telegram reads it as its digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _MISMATCH


def _input_file(value: object) -> object:
    return value if isinstance(value, UploadedFile) else _MISMATCH


def _array_of(element: Callable[[object], bool]) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, list) and all(element(item) for item in value):
            return value
        return _MISMATCH

    return check


def _is_object(value: object) -> bool:
    return isinstance(value, dict)


def _is_bot_command(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("command"), str)
        and isinstance(value.get("description"), str)
    )


def _is_reaction_type(value: object) -> bool:
    # Which emoji are allowed is the method's own check (emulator.reactions).
    return isinstance(value, dict) and isinstance(value.get("type"), str)


def _object(value: object) -> object:
    return value if isinstance(value, dict) else _MISMATCH


def _reply_parameters(value: object) -> object:
    if not isinstance(value, dict):
        return _MISMATCH
    message_id = _integer(value.get("message_id"))
    if message_id is _MISMATCH:
        return _MISMATCH
    return {**value, "message_id": message_id}


_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


def _bot_command_scope(value: object) -> object:
    if isinstance(value, dict) and value.get("type") in _COMMAND_SCOPES:
        return value
    return _MISMATCH


def _inline_query_results_button(value: object) -> object:
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value
    return _MISMATCH


def _reply_keyboard_remove(value: object) -> object:
    if isinstance(value, dict) and value.get("remove_keyboard") is True:
        return value
    return _MISMATCH


def _force_reply(value: object) -> object:
    if isinstance(value, dict) and value.get("force_reply") is True:
        return value
    return _MISMATCH


# --- reply markup: the inline keyboard is checked as strictly as Telegram does ---

MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_CALLBACK_DATA_BYTES = 64

# Every way an inline button can act, with the JSON type its value must have.
_BUTTON_ACTIONS: Mapping[str, tuple[type, str]] = MappingProxyType(
    {
        "url": (str, "String"),
        "callback_data": (str, "String"),
        "web_app": (dict, "Object"),
        "login_url": (dict, "Object"),
        "switch_inline_query": (str, "String"),
        "switch_inline_query_current_chat": (str, "String"),
        "switch_inline_query_chosen_chat": (dict, "Object"),
        "copy_text": (dict, "Object"),
        "callback_game": (dict, "Object"),
        "pay": (bool, "Boolean"),
    }
)
_BUTTON_URL = re.compile(r"(?:https?://[^\s/?#]+(?:[/?#]\S*)?|tg://[A-Za-z_]\S*)", re.IGNORECASE)


def _inline_keyboard_markup(value: object) -> object:
    if not isinstance(value, dict) or "inline_keyboard" not in value:
        return _MISMATCH
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            _check_inline_button(button)
    too_wide = any(len(row) > MAX_BUTTONS_PER_ROW for row in rows)
    if too_wide or sum(len(row) for row in rows) > MAX_BUTTONS:
        raise ApiError.bad_request("reply markup is too long")
    return value


def _check_inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton should be an Object")
    if "text" not in button:
        raise _button_error('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _button_error('Field "text" must be of type String')
    actions = [name for name in _BUTTON_ACTIONS if button.get(name) is not None]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _button_error("exactly one of the optional fields must be used")
    action = actions[0]
    python_type, type_name = _BUTTON_ACTIONS[action]
    value = button[action]
    if not isinstance(value, python_type):
        raise _button_error(f'Field "{action}" must be of type {type_name}')
    if not isinstance(value, str):
        return
    # Telegram counts callback_data in UTF-8 bytes, not characters.
    if action == "callback_data" and not 1 <= len(value.encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise ApiError.bad_request("BUTTON_DATA_INVALID")
    if action == "url" and not _BUTTON_URL.fullmatch(value):
        raise ApiError.bad_request("BUTTON_URL_INVALID")


def _button_error(detail: str) -> ApiError:
    return ApiError.bad_request(f"can't parse inline keyboard button: {detail}")


def _reply_keyboard_markup(value: object) -> object:
    if not isinstance(value, dict) or "keyboard" not in value:
        return _MISMATCH
    rows = value["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request(
            'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            # A reply keyboard button may be bare text or an object with a text.
            if not isinstance(button, str) and not (
                isinstance(button, dict) and isinstance(button.get("text"), str)
            ):
                raise ApiError.bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
    return value


_KINDS: Mapping[str, _Kind] = MappingProxyType(
    {
        "Integer": _Kind(json_encoded=False, check=_integer),
        "Boolean": _Kind(json_encoded=False, check=_boolean),
        "String": _Kind(json_encoded=False, check=_string),
        "InputFile": _Kind(json_encoded=False, check=_input_file),
        "Array of String": _Kind(
            json_encoded=True, check=_array_of(lambda item: isinstance(item, str))
        ),
        "Array of Integer": _Kind(
            json_encoded=True,
            check=_array_of(lambda item: isinstance(item, int) and not isinstance(item, bool)),
        ),
        "Array of MessageEntity": _Kind(json_encoded=True, check=_array_of(_is_object)),
        "Array of InlineQueryResult": _Kind(json_encoded=True, check=_array_of(_is_object)),
        "Array of BotCommand": _Kind(json_encoded=True, check=_array_of(_is_bot_command)),
        "Array of ReactionType": _Kind(json_encoded=True, check=_array_of(_is_reaction_type)),
        "BotCommandScope": _Kind(json_encoded=True, check=_bot_command_scope),
        "LinkPreviewOptions": _Kind(json_encoded=True, check=_object),
        "SuggestedPostParameters": _Kind(json_encoded=True, check=_object),
        "ReplyParameters": _Kind(json_encoded=True, check=_reply_parameters),
        "InlineQueryResultsButton": _Kind(json_encoded=True, check=_inline_query_results_button),
        "InlineKeyboardMarkup": _Kind(json_encoded=True, check=_inline_keyboard_markup),
        "ReplyKeyboardMarkup": _Kind(json_encoded=True, check=_reply_keyboard_markup),
        "ReplyKeyboardRemove": _Kind(json_encoded=True, check=_reply_keyboard_remove),
        "ForceReply": _Kind(json_encoded=True, check=_force_reply),
    }
)
