"""A message's content as Telegram accepts it: parsed text with its limits, keyboards, photos."""

from __future__ import annotations

import re
from typing import Any

from emulator.errors import ApiError
from emulator.files import store_file
from emulator.formatting import Entity, parse_text
from emulator.params import UploadedFile
from emulator.state import JsonObject, World, encode_id

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ENTITIES = 100
# What a real file_id looks like, so a bot may send one it keeps in its configuration.
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{20,}")
_PHOTO_SIZES = ((90, 60), (320, 213), (800, 533))


def message_text(
    text: str, parse_mode: str | None, entities: list[Any] | None
) -> tuple[str, list[Entity]]:
    """The plain text and entities of a message text; Telegram's refusals for empty or long."""
    plain, parsed = parse_text(text, parse_mode, entities)
    if not plain.strip():
        raise ApiError.bad_request("message text is empty")
    # Telegram counts the limit in code points of the text a reader sees.
    if len(plain) > MAX_TEXT:
        raise ApiError.bad_request("message is too long")
    return plain, parsed[:MAX_ENTITIES]


def caption_text(
    caption: str | None, parse_mode: str | None, entities: list[Any] | None
) -> tuple[str, list[Entity]]:
    if caption is None:
        return "", []
    plain, parsed = parse_text(caption, parse_mode, entities)
    if len(plain) > MAX_CAPTION:
        raise ApiError.bad_request("message caption is too long")
    return plain, parsed[:MAX_ENTITIES]


def inline_keyboard(markup: JsonObject | None) -> JsonObject | None:
    """The part of reply_markup a message keeps: only inline keyboards live on a message."""
    if markup is None or not markup.get("inline_keyboard"):
        return None
    return {"inline_keyboard": markup["inline_keyboard"]}


def user_keyboard(markup: JsonObject | None) -> JsonObject | None:
    """A reply keyboard, keyboard removal or force-reply: shown to the user, not on the message."""
    if markup is None or "inline_keyboard" in markup:
        return None
    return markup


def resolve_photo(world: World, photo: object) -> list[JsonObject]:
    """The PhotoSize list for a file_id, a URL or an upload; a fresh fake file for new photos."""
    if isinstance(photo, UploadedFile):
        if not photo.data:
            raise ApiError.bad_request("file must be non-empty")
        return _new_photo(world, photo)
    if isinstance(photo, str):
        known = world.files.get(photo)
        if known is not None:
            return known
        if photo.startswith(("http://", "https://")) or _FILE_ID.fullmatch(photo):
            return _new_photo(world)
    raise ApiError.bad_request("wrong file identifier/HTTP URL specified")


def _new_photo(world: World, upload: UploadedFile | None = None) -> list[JsonObject]:
    sizes: list[JsonObject] = []
    for width, height in _PHOTO_SIZES:
        number = world.next_number()
        size: JsonObject = {
            "file_id": encode_id("AgACAgIAAxkBAAI", number),
            "file_unique_id": encode_id("AQAD", number),
            "width": width,
            "height": height,
            "file_size": width * height // 8,
        }
        if upload is not None:
            # Telegram resizes; the emulator keeps the uploaded bytes for every size.
            size["file_size"] = len(upload.data)
            path = f"photos/file_{number}.{_photo_suffix(upload.data)}"
            store_file(world, size["file_id"], size["file_unique_id"], path, upload.data)
        sizes.append(size)
    for size in sizes:
        world.files[size["file_id"]] = sizes
    return sizes


def _photo_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    return "jpg"
