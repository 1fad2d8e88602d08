"""Deep-link payloads (`t.me/<bot>?start=<payload>`): parsed once into typed values."""

from __future__ import annotations

from dataclasses import dataclass

from bot.telegram.command_input import parse_id

_ARTICLE_PREFIX = "a_"


@dataclass(frozen=True)
class ArticleLink:
    article_id: int


DeepLink = ArticleLink


def parse_payload(payload: str) -> DeepLink | None:
    """The link's meaning, or None for a payload this bot never hands out."""
    if payload.startswith(_ARTICLE_PREFIX) and (
        article_id := parse_id(payload.removeprefix(_ARTICLE_PREFIX))
    ):
        return ArticleLink(article_id)
    return None


def article_payload(article_id: int) -> str:
    return f"{_ARTICLE_PREFIX}{article_id}"
