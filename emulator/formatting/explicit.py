"""The `entities` array a bot sends instead of a parse mode: each MessageEntity read as the Bot
API reads it, with its refusals ("can't parse MessageEntity: ...") word for word.
"""

from __future__ import annotations

from collections.abc import Mapping

from emulator.errors import ApiError
from emulator.formatting.entities import (
    DETECTED_TYPES,
    FORMATTING_TYPES,
    Entity,
    MarkupError,
    api_text,
    to_integer_safe,
)
from emulator.formatting.links import check_link, link_user_id


def entity_from_api(obj: Mapping[str, object]) -> Entity:
    """Read one MessageEntity as the Bot API does; ApiError 400 when it is malformed."""
    try:
        return _entity_from_json(obj)
    except MarkupError as error:
        raise ApiError.bad_request(f"can't parse MessageEntity: {error}") from None


def _json_number(obj: Mapping[str, object], name: str, *, bits: int) -> int:
    if name not in obj:
        raise MarkupError(f'Can\'t find field "{name}"')
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        # Telegram words it differently for its 32-bit and its 64-bit fields
        expected = "of type Number" if bits == 32 else "a Number"
        raise MarkupError(f'Field "{name}" must be {expected}')
    return to_integer_safe(str(value), bits)


def _json_str(obj: Mapping[str, object], name: str, *, required: bool) -> str:
    if name not in obj:
        if required:
            raise MarkupError(f'Can\'t find field "{name}"')
        return ""
    value = obj[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise MarkupError(f'Field "{name}" must be of type String')


def _entity_from_json(obj: Mapping[str, object]) -> Entity:
    if not isinstance(obj, Mapping):
        raise MarkupError("expected an Object")
    offset = _json_number(obj, "offset", bits=32)
    length = _json_number(obj, "length", bits=32)
    kind = _json_str(obj, "type", required=True)
    if not kind:
        raise MarkupError("Type is not specified")
    if kind == "pre":
        language = _json_str(obj, "language", required=False)
        return Entity("pre", offset, length, language=language or None)
    if kind == "text_link":
        url = _json_str(obj, "url", required=True)
        user_id = link_user_id(url)
        if user_id is not None:
            return Entity("text_mention", offset, length, user_id=user_id)
        try:
            checked = check_link(url)
        except MarkupError as error:
            raise ApiError.bad_request(
                api_text(f"Entity URL '{url}' is invalid: {error}")
            ) from None
        return Entity("text_link", offset, length, url=checked)
    if kind == "text_mention":
        user = obj.get("user")
        if "user" not in obj:
            raise MarkupError('Can\'t find field "user"')
        if not isinstance(user, Mapping):
            raise MarkupError('Field "user" must be of type Object')
        return Entity("text_mention", offset, length, user_id=_json_number(user, "id", bits=64))
    if kind == "custom_emoji":
        emoji_id = _json_number(obj, "custom_emoji_id", bits=64)
        if emoji_id == 0:
            raise ApiError.bad_request("invalid custom emoji identifier specified")
        return Entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id))
    if kind in FORMATTING_TYPES or kind in DETECTED_TYPES:
        return Entity(kind, offset, length)
    raise MarkupError("Unsupported type specified")
