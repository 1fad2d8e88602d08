"""What a web page says about itself: JSON-LD NewsArticle first, then OpenGraph, then meta tags.

HTML fallbacks (the h1, a "By ..." byline, a <time> element) live here too; the first paragraph
fallback for the standfirst belongs to the body.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsroom.plaintext import one_line, split_paragraphs
from newsroom.urls import resolve_url, same_host

# Most specific first: a page describing both a WebPage and a NewsArticle means the article.
_ARTICLE_TYPES = (
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "LiveBlogPosting",
    "BlogPosting",
    "Article",
    "Report",
)
# "By Jane Doe, Science Editor" but not "By noon, the river had risen."
_BYLINE = re.compile(r"^by\s+([^\d.!?;:]{2,80})$", re.IGNORECASE)
_MAX_BYLINE_CHARS = 80
_BYLINE_SELECTORS = '[rel="author"], [itemprop="author"], .byline, .author-name, .author, .by-line'
# The classes CMSs give the line under the headline, then the paragraph straight after the h1.
_STANDFIRST_SELECTORS = (
    ".standfirst, .dek, .subtitle, .subheadline, .sub-headline, .lede, .article-summary, "
    '[itemprop="description"]'
)
# A paragraph right under the h1 is a standfirst only if it reads as one: a longer sentence.
_MIN_STANDFIRST_WORDS = 8
_DATE_META = (
    "article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publish-date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """The article facts a page declares, each None where the page is silent."""

    title: str | None
    standfirst: str | None
    author: str | None
    published_at: datetime | None
    image_url: str | None
    canonical_url: str | None
    article_body: str | None
    topics: tuple[str, ...]


def read_metadata(tree: LexborHTMLParser, *, base: str) -> PageMetadata:
    """The page's declared metadata, links resolved against `base`.

    With a `base` (where the page was fetched), the page's own address counts only on that host.
    """
    ld = _json_ld_article(tree)
    meta = _meta_tags(tree)
    canonical_link = tree.css_first('link[rel="canonical"]')
    canonical = _own_address(
        base,
        canonical_link.attributes.get("href") if canonical_link else None,
        meta.get("og:url"),
        _ld_url(ld.get("url")) or _ld_url(ld.get("mainEntityOfPage")),
    )
    site_name = meta.get("og:site_name") or _ld_name(ld.get("publisher"))
    title = _first_text(
        ld.get("headline"), ld.get("name"), meta.get("og:title"), meta.get("twitter:title")
    )
    return PageMetadata(
        title=_without_site_name(title or _heading(tree), site_name),
        standfirst=_first_text(
            ld.get("description"),
            meta.get("og:description"),
            meta.get("description"),
            meta.get("twitter:description"),
            _standfirst_element(tree),
        ),
        author=_clean_author(
            _ld_authors(ld.get("author"))
            or _first_text(meta.get("author"), _not_url(meta.get("article:author")))
            or _byline(tree)
        ),
        published_at=_first_moment(
            ld.get("datePublished"),
            *(meta.get(name) for name in _DATE_META),
            _time_element(tree),
        ),
        image_url=_first_url(
            base,
            _ld_image(ld.get("image")),
            meta.get("og:image"),
            meta.get("og:image:url"),
            meta.get("og:image:secure_url"),
            meta.get("twitter:image"),
        ),
        canonical_url=canonical,
        article_body=_ld_body(ld.get("articleBody")),
        # The section the page is filed under comes first, then its keywords.
        topics=_topics(ld.get("articleSection"))
        + _topics(ld.get("keywords"), meta.get("news_keywords"), meta.get("keywords")),
    )


def _json_ld_article(tree: LexborHTMLParser) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        text = (script.text(deep=True) or "").strip()
        # Some CMSs wrap the JSON in a CDATA or comment marker for old browsers.
        text = re.sub(
            r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/)|(?:-->|/\*\s*\]\]>\s*\*/)\s*$", "", text
        )
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            continue  # a broken block elsewhere on the page must not hide the article
        nodes.extend(_flatten(data))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for wanted in _ARTICLE_TYPES:
        for node in nodes:
            if wanted in _types(node):
                return {key: _dereference(value, by_id) for key, value in node.items()}
    return {}


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type", [])
    return [kind] if isinstance(kind, str) else [k for k in kind if isinstance(k, str)]


def _dereference(value: Any, by_id: dict[str, dict[str, Any]]) -> Any:
    # Yoast-style graphs point at people and images by "@id" instead of nesting them.
    if isinstance(value, list):
        return [_dereference(item, by_id) for item in value]
    if isinstance(value, dict) and set(value) == {"@id"} and value["@id"] in by_id:
        return by_id[value["@id"]]
    return value


def _meta_tags(tree: LexborHTMLParser) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        attributes = node.attributes
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        content = attributes.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def _first_text(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and (text := one_line(_strip_tags(value))):
            return text
    return None


def _strip_tags(text: str) -> str:
    if "<" not in text:
        return text
    body = LexborHTMLParser(f"<div>{text}</div>").body
    return body.text(deep=True) if body is not None else text


def _own_address(base: str, *values: Any) -> str | None:
    # Another host's address would let any page pass itself off as that site's article.
    candidates = (_first_url(base, value) for value in values)
    return next((url for url in candidates if url and (not base or same_host(url, base))), None)


def _first_url(base: str, *values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and (url := resolve_url(value, base=base)):
            return url
    return None


def _first_moment(*values: Any) -> datetime | None:
    for value in values:
        if isinstance(value, str) and (moment := parse_moment(value)):
            return moment
    return None


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 date or time as an aware datetime (UTC when the zone is missing), else None."""
    cleaned = text.strip()
    # "+0200" offsets without a colon are common in CMS output; fromisoformat wants "+02:00".
    cleaned = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _ld_url(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    return value if isinstance(value, str) else None


def _ld_name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) else None


def _ld_image(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return value if isinstance(value, str) else None


def _ld_authors(value: Any) -> str | None:
    items = value if isinstance(value, list) else [value]
    names = [name for item in items if (name := _first_text(_ld_name(item)))]
    if not names:
        return None
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _ld_body(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    # A JSON-LD body is one string; single line breaks there usually mark paragraphs.
    return "\n\n".join(split_paragraphs(_strip_tags(value).replace("\n", "\n\n")))


def _topics(*values: Any) -> tuple[str, ...]:
    for value in values:
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list):
            topics = tuple(t for item in items if isinstance(item, str) and (t := one_line(item)))
            if topics:
                return topics
    return ()


def _not_url(value: str | None) -> str | None:
    # OpenGraph's article:author is often a profile URL, which is no byline.
    return None if value is None or value.startswith(("http://", "https://", "/")) else value


def _heading(tree: LexborHTMLParser) -> str | None:
    for selector in ("article h1", "main h1", "h1", "title"):
        node = tree.css_first(selector)
        if node is not None and (text := one_line(node.text(deep=True))):
            return text
    return None


def _standfirst_element(tree: LexborHTMLParser) -> str | None:
    for node in tree.css(_STANDFIRST_SELECTORS):
        if text := one_line(node.text(deep=True)):
            return text
    for node in tree.css("h1 + p"):
        text = one_line(node.text(deep=True))
        if text[-1:] in ".!?" and len(text.split()) >= _MIN_STANDFIRST_WORDS:
            return text
    return None


def _byline(tree: LexborHTMLParser) -> str | None:
    for node in tree.css(_BYLINE_SELECTORS):
        text = one_line(node.text(deep=True))
        if 0 < len(text) <= _MAX_BYLINE_CHARS:
            return text
    for node in tree.css("p, span, div, address"):
        text = one_line(node.text(deep=True))
        if _BYLINE.match(text) and _is_leaf(node):
            return text
    return None


def _is_leaf(node: LexborNode) -> bool:
    return not any(child.tag in {"p", "div", "span", "address"} for child in node.iter())


def _clean_author(author: str | None) -> str | None:
    if author is None:
        return None
    match = _BYLINE.match(author)
    name = one_line(match.group(1) if match else author)
    return name if 0 < len(name) <= 120 else None


def _time_element(tree: LexborHTMLParser) -> str | None:
    node = tree.css_first("article time[datetime]") or tree.css_first("time[datetime]")
    return node.attributes.get("datetime") if node is not None else None


def _without_site_name(title: str | None, site_name: str | None) -> str | None:
    if title is None or not site_name:
        return title
    for separator in (" | ", " - ", " \u2013 ", " \u2014 ", " :: "):
        suffix = f"{separator}{site_name.strip()}"
        if title.endswith(suffix) and len(title) > len(suffix):
            return title[: -len(suffix)].strip()
    return title
