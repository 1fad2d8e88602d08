"""Message formatting as Telegram does it: parse modes, explicit entities, detected entities.

The rules and error texts follow Telegram's own parser (TDLib's MessageEntity.cpp, which the Bot
API server runs). `parse_text` is the way in for a bot's text; `to_html` renders a stored text
and its entities back into HTML; each subject has its own module below.
"""

from emulator.formatting.detection import detect_entities
from emulator.formatting.entities import Entity, MarkupError, entity_text, utf16_len
from emulator.formatting.explicit import entity_from_api
from emulator.formatting.html import parse_html
from emulator.formatting.parse import parse_text
from emulator.formatting.render import to_html

__all__ = [
    "Entity",
    "MarkupError",
    "detect_entities",
    "entity_from_api",
    "entity_text",
    "parse_html",
    "parse_text",
    "to_html",
    "utf16_len",
]
