"""Markdown articles with YAML front matter: the file format editors write articles in.

---
title: ...            # required
url: https://...      # required, the article's public address
standfirst / author / image / fact / guid: text
published: 2025-07-04T09:30:00+02:00   # a date or time without zone is read as UTC
topics: [a, b]        # or "a, b"
poll: {question: ..., options: [..]}   # options default to Yes / No / Not sure
related: [{title: ..., url: ...}]
summary: text  |  key_points: [..]     # the article's own key points, used as given
---
Body in Markdown; "## Section" headings stay as paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import cache
from typing import TYPE_CHECKING, Any

from newsroom.article import DEFAULT_POLL_OPTIONS, ArticleDraft, PollDraft, RelatedLink
from newsroom.errors import IngestError
from newsroom.markdown_body import markdown_paragraphs, plain_inline
from newsroom.plaintext import join_paragraphs
from newsroom.summary import split_sentences, summarised

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_BOOL = "tag:yaml.org,2002:bool"

if TYPE_CHECKING:
    import yaml


@cache
def _front_matter_loader() -> type[yaml.SafeLoader]:
    """SafeLoader with YAML 1.2 booleans: a poll option written Yes, No, On or Off stays text."""
    import yaml  # noqa: PLC0415 - see _load_yaml

    class FrontMatterLoader(yaml.SafeLoader):
        pass

    FrontMatterLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    FrontMatterLoader.add_implicit_resolver(
        _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return FrontMatterLoader


KNOWN_KEYS = frozenset(
    {
        "title",
        "url",
        "standfirst",
        "author",
        "published",
        "image",
        "fact",
        "poll",
        "related",
        "topics",
        "summary",
        "key_points",
        "guid",
    }
)


def parse_markdown_article(text: str, *, source: str) -> ArticleDraft:
    """The article a Markdown file describes, with key points and reading time filled.

    Raises IngestError, its message starting with `source`, for anything unusable.
    """
    try:
        return summarised(_parse(text.removeprefix("\ufeff")))
    except IngestError as error:
        raise IngestError(f"{source}: {error}") from None


def _parse(text: str) -> ArticleDraft:
    match = _FRONT_MATTER.match(text.replace("\r\n", "\n"))
    if match is None:
        raise IngestError("no YAML front matter: the file must start with a '---' line")
    meta = _load_yaml(match.group(1) or "")
    unknown = sorted(set(meta) - KNOWN_KEYS)
    if unknown:
        raise IngestError(
            f"unknown front matter key {unknown[0]!r}; known keys: {', '.join(sorted(KNOWN_KEYS))}"
        )
    if not _text(meta, "title"):
        raise IngestError("the front matter has no title")
    if "url" not in meta:
        raise IngestError("the front matter has no url (the article's public address)")
    body = join_paragraphs(_drop_repeated_title(markdown_paragraphs(text[match.end() :]), meta))
    given = _given_key_points(meta)
    return ArticleDraft(
        title=_text(meta, "title") or "",
        url=_text(meta, "url") or "",
        standfirst=_text(meta, "standfirst"),
        author=_author(meta.get("author")),
        published_at=_moment(meta.get("published"), what="published"),
        image_url=_text(meta, "image"),
        body=body,
        key_points=given,
        fact=_text(meta, "fact"),
        topics=_topics(meta.get("topics")),
        related=_related(meta.get("related")),
        poll=_poll(meta.get("poll")),
        source_guid=_text(meta, "guid"),
        summary_given=bool(given),
    )


def _load_yaml(front_matter: str) -> dict[str, Any]:
    # Imported here: PyYAML slows the bot's start-up, and only Markdown articles need it.
    import yaml  # noqa: PLC0415

    try:
        meta = yaml.load(front_matter, Loader=_front_matter_loader())  # noqa: S506 -- SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "unreadable"
        # +2: one for counting from 1, one for the opening '---' line.
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        raise IngestError(f"the front matter is not valid YAML: {problem}{where}") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise IngestError("the front matter must be a mapping of keys to values")
    return {str(key): value for key, value in meta.items()}


def _text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise IngestError(
            f"{key!r} must be text, not a {'list' if isinstance(value, list) else 'mapping'}"
        )
    return plain_inline(str(value)) or None


def _author(value: Any) -> str | None:
    if isinstance(value, list):
        names = [plain_inline(str(name)) for name in value if str(name).strip()]
        return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else None
    return _text({"author": value}, "author")


def _moment(value: Any, *, what: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise IngestError(
                f"{what!r} is not a date or time (got {value!r}; write e.g. 2025-07-04T09:30:00Z)"
            ) from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


def _topics(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split(","))
    if isinstance(value, list):
        return tuple(str(topic) for topic in value)
    raise IngestError("'topics' must be a list or comma-separated text")


def _related(value: Any) -> tuple[RelatedLink, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise IngestError("'related' must be a list of {title, url} entries")
    links: list[RelatedLink] = []
    for number, entry in enumerate(value, start=1):
        if not isinstance(entry, dict) or "url" not in entry or "title" not in entry:
            raise IngestError(f"related entry {number} needs both a title and a url")
        links.append(RelatedLink(title=plain_inline(str(entry["title"])), url=str(entry["url"])))
    return tuple(links)


def _poll(value: Any) -> PollDraft | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value.get("question"):
        raise IngestError("'poll' must be a mapping with a question (and optionally options)")
    unknown = sorted(set(map(str, value)) - {"question", "options", "closes_at"})
    if unknown:
        raise IngestError(f"unknown poll key {unknown[0]!r}; known: question, options, closes_at")
    options = value.get("options", DEFAULT_POLL_OPTIONS)
    if not isinstance(options, (list, tuple)):
        raise IngestError("the poll's 'options' must be a list")
    return PollDraft(
        question=plain_inline(str(value["question"])),
        options=tuple("" if option is None else plain_inline(str(option)) for option in options),
        closes_at=_moment(value.get("closes_at"), what="poll closes_at"),
    )


def _given_key_points(meta: Mapping[str, Any]) -> tuple[str, ...]:
    points = meta.get("key_points", meta.get("summary"))
    if points is None:
        return ()
    if isinstance(points, str):
        return tuple(split_sentences(plain_inline(points)))
    if isinstance(points, list):
        return tuple(plain_inline(str(point)) for point in points if point is not None)
    raise IngestError("'key_points' / 'summary' must be a list or text")


def _drop_repeated_title(paragraphs: list[str], meta: Mapping[str, Any]) -> list[str]:
    # Many editors repeat the title as a "# Title" first line; the card shows it once.
    title = plain_inline(str(meta.get("title", ""))).casefold()
    if paragraphs and paragraphs[0].casefold() == title:
        return paragraphs[1:]
    return paragraphs
