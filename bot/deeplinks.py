"""Deep-link payloads (`t.me/<bot>?start=<payload>`): parsed once into typed values."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARTICLE = re.compile(r"a_([1-9][0-9]{0,17})")


@dataclass(frozen=True)
class ArticleLink:
    article_id: int


DeepLink = ArticleLink


def parse_payload(payload: str) -> DeepLink | None:
    """The link's meaning, or None for a payload this bot never hands out."""
    if match := _ARTICLE.fullmatch(payload):
        return ArticleLink(int(match.group(1)))
    return None


def article_payload(article_id: int) -> str:
    return f"a_{article_id}"
