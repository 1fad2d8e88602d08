"""Short names for reactions, for chart labels: Telegram's reaction emoji, custom emoji, stars.

A chart's font draws only a few emoji, so every label carries a name a reader knows; the emoji
itself stands beside it where the font can draw it (`bot/reports/charts.py` decides that).
"""

from __future__ import annotations

import unicodedata

from newsroom.engagement import ReactionCount, ReactionKind

# Telegram's documented reaction emoji (ReactionTypeEmoji), each with the name people call it.
_NAMES = {
    "❤": "heart",
    "👍": "thumbs up",
    "👎": "thumbs down",
    "🔥": "fire",
    "🥰": "in love",
    "👏": "clap",
    "😁": "grin",
    "🤔": "thinking",
    "🤯": "mind blown",
    "😱": "scream",
    "🤬": "swearing",
    "😢": "tear",
    "🎉": "party",
    "🤩": "star-struck",
    "🤮": "vomit",
    "💩": "poo",
    "🙏": "pray",
    "👌": "ok",
    "🕊": "dove",
    "🤡": "clown",
    "🥱": "yawn",
    "🥴": "woozy",
    "😍": "heart eyes",
    "🐳": "whale",
    "❤\u200d🔥": "heart on fire",
    "🌚": "moon face",
    "🌭": "hot dog",
    "💯": "hundred",
    "🤣": "rofl",
    "⚡": "lightning",
    "🍌": "banana",
    "🏆": "trophy",
    "💔": "broken heart",
    "🤨": "raised brow",
    "😐": "neutral",
    "🍓": "strawberry",
    "🍾": "champagne",
    "💋": "kiss mark",
    "🖕": "middle finger",
    "😈": "devil",
    "😴": "sleeping",
    "😭": "sobbing",
    "🤓": "nerd",
    "👻": "ghost",
    "👨\u200d💻": "coder",
    "👀": "eyes",
    "🎃": "pumpkin",
    "🙈": "see no evil",
    "😇": "halo",
    "😨": "fearful",
    "🤝": "handshake",
    "✍": "writing",
    "🤗": "hug",
    "🫡": "salute",
    "🎅": "santa",
    "🎄": "xmas tree",
    "☃": "snowman",
    "💅": "nail polish",
    "🤪": "zany",
    "🗿": "moai",
    "🆒": "cool",
    "💘": "cupid",
    "🙉": "hear no evil",
    "🦄": "unicorn",
    "😘": "blow kiss",
    "💊": "pill",
    "🙊": "speak no evil",
    "😎": "sunglasses",
    "👾": "alien",
    "🤷\u200d♂": "shrug (man)",
    "🤷": "shrug",
    "🤷\u200d♀": "shrug (woman)",
    "😡": "angry",
}
# Joiners and presentation selectors carry no name of their own.
_SILENT = {"\u200d", "\ufe0e", "\ufe0f"}
_NAME_MAX = 18


def emoji_name(emoji: str) -> str:
    """A short name for a reaction emoji; outside Telegram's list, Unicode's name, shortened."""
    bare = emoji.replace("\ufe0f", "").replace("\ufe0e", "")
    if (name := _NAMES.get(bare)) is not None:
        return name
    words = [unicodedata.name(char, "").lower() for char in bare if char not in _SILENT]
    name = " ".join(word for word in words if word) or "emoji"
    return name if len(name) <= _NAME_MAX else name[: _NAME_MAX - 1].rstrip() + "…"


def reaction_name(reaction: ReactionCount) -> str:
    """What a chart calls one reaction: the emoji's name, "custom emoji", or "paid stars"."""
    if reaction.kind is ReactionKind.CUSTOM:
        return "custom emoji"
    if reaction.kind is ReactionKind.PAID:
        return "paid stars"
    return emoji_name(reaction.key)
