"""What people type after a command, read strictly: ids of stored things, and words echoed back.

An id is ASCII digits only (``str.isdigit`` takes "²", which ``int`` refuses, and ``int`` takes
"٣" and " 7 "), from 1 to the largest id every database the bot runs on holds. Whatever was
typed is quoted back shortened, so a refusal always fits in one message however long it was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newsroom.plaintext import shorten, tidy

# Id columns are INTEGER: 32 bits on PostgreSQL (SQLite holds more, but both must answer alike).
ID_MAX = 2**31 - 1
ECHO_MAX = 120  # an address or word quoted back: enough to recognise it, never a wall of text
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(text: str) -> int | None:
    """The id ``text`` names (1..ID_MAX, ASCII digits only), or None for anything else."""
    if _ASCII_DIGITS.fullmatch(text) is None:
        return None
    number = int(text)
    return number if 1 <= number <= ID_MAX else None


def sole_id(args: Sequence[str] | None) -> int | None:
    """The id when the command's only argument is one, else None (to answer with the usage)."""
    if args is None or len(args) != 1:
        return None
    return parse_id(args[0])


def echo(text: str, limit: int = ECHO_MAX) -> str:
    """What was typed, on one line and at most ``limit`` characters, to quote back."""
    return shorten(tidy(text), limit)
