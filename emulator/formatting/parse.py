"""A bot's text as Telegram takes it: parsed in its parse mode (or read with its explicit
`entities`), then normalized into the plain text and entities a reader receives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from emulator.errors import ApiError
from emulator.formatting.entities import (
    FORMATTING_TYPES,
    Entity,
    MarkupError,
    api_text,
    ascii_lower,
)
from emulator.formatting.explicit import entity_from_api
from emulator.formatting.html import parse_html
from emulator.formatting.markdown import parse_markdown
from emulator.formatting.markdown_v2 import parse_markdown_v2
from emulator.formatting.normalize import normalize

_MAX_TEXT_BYTES = 1 << 15
_PARSERS: dict[str, Callable[[str], tuple[str, list[Entity]]]] = {
    "html": parse_html,
    "markdownv2": parse_markdown_v2,
    "markdown": parse_markdown,
}


def parse_text(
    text: str, parse_mode: str | None, entities: Sequence[Mapping[str, object]] | None
) -> tuple[str, list[Entity]]:
    """The plain text a reader sees and its entities, or ApiError 400 as Telegram refuses.

    A text that is only whitespace comes back empty; whether that is allowed (a caption) or
    "message must be non-empty" (a message) is the caller's call.
    """
    if len(text.encode("utf-8", "surrogatepass")) > _MAX_TEXT_BYTES:
        raise ApiError.bad_request("text is too long")
    mode = ascii_lower(parse_mode or "")
    if text and mode and mode != "none":
        parser = _PARSERS.get(mode)
        if parser is None:
            raise ApiError.bad_request("unsupported parse_mode")
        try:
            plain, raw = parser(text)
        except MarkupError as error:
            raise ApiError.bad_request(f"can't parse entities: {error}") from None
    else:
        plain = text
        raw = [entity_from_api(obj) for obj in entities or ()]
        raw = [entity for entity in raw if entity.type in FORMATTING_TYPES]
    try:
        return normalize(plain, raw)
    except MarkupError as error:
        raise ApiError.bad_request(api_text(str(error))) from None
