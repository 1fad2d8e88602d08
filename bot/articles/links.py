"""The card's "Read the full article" link: straight to the article, with UTM, or tracked.

With LINK_UTM the link carries ``utm_source=telegram``, ``utm_medium`` (the kind of chat the
card was made for: private, group or channel; inline for an inline copy, since Telegram does
not say where one is posted) and ``utm_campaign`` (the article's slug). With LINK_TRACKING_URL
it is ``<base>/r/<code>``, one code per article and kind of chat, which the webhook server
counts and redirects to the article (with its UTM when that is on). Nothing about the reader
who follows a link is kept: not their address, not their browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from storage import articles, chats, engagement
from storage.models import ArticleEventKind, ChatKind

# The kind of chat a card is made for; None for an inline copy, whose chat is not known.
Audience = ChatKind | None

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
SLUG_MAX = 80
TRACKED_PATH = "/r/"

_MEDIUM: dict[ChatKind | None, str] = {
    ChatKind.PRIVATE: "private",
    ChatKind.GROUP: "group",
    ChatKind.SUPERGROUP: "group",
    ChatKind.CHANNEL: "channel",
    None: "inline",
}
_UNSAFE = re.compile(r"[^a-z0-9_-]+")
# A page's extension says nothing about the story: "ferry-strike.html" is "ferry-strike".
_EXTENSION = re.compile(r"\.(?:s?html?|php|aspx?|jsp)$")
_WEB_LINK = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?", re.IGNORECASE)


def utm_medium(audience: Audience) -> str:
    return _MEDIUM[audience]


def article_slug(url: str, *, article_id: int) -> str:
    """The campaign name of an article: the last segment of its address's path, lowercased,
    letters, digits, ``-`` and ``_`` only; ``article-<id>`` when that leaves nothing."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    last = _EXTENSION.sub("", unquote(segments[-1]).lower()) if segments else ""
    slug = _UNSAFE.sub("-", last).strip("-_")[:SLUG_MAX].strip("-_")
    return slug or f"article-{article_id}"


def with_utm(url: str, *, medium: str, campaign: str) -> str:
    """`url` with Telegram's UTM parameters after its own query, its fragment kept at the end.

    The link's own query is kept as written; UTM parameters it already had are replaced, so a
    link never carries two different sources.
    """
    parts = urlsplit(url)
    own = [
        field
        for field in parts.query.split("&")
        if field and field.split("=", 1)[0] not in UTM_KEYS
    ]
    ours = [
        "utm_source=telegram",
        f"utm_medium={quote(medium, safe='')}",
        f"utm_campaign={quote(campaign, safe='')}",
    ]
    return urlunsplit(parts._replace(query="&".join([*own, *ours])))


def is_web_link(url: str) -> bool:
    return _WEB_LINK.fullmatch(url) is not None


@dataclass(frozen=True)
class ArticleLinks:
    """How article links are made, from LINK_TRACKING_URL and LINK_UTM."""

    tracking_url: str | None = None
    utm: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ArticleLinks:
        return cls(tracking_url=settings.link_tracking_url, utm=settings.link_utm)

    @property
    def per_audience(self) -> bool:
        """Whether cards for different kinds of chat carry different links."""
        return self.tracking_url is not None or self.utm

    def destination(self, url: str, *, article_id: int, audience: Audience) -> str:
        """Where the link leads a reader in the end: the article, with UTM when that is on."""
        if not self.utm or not is_web_link(url):
            return url
        slug = article_slug(url, article_id=article_id)
        return with_utm(url, medium=utm_medium(audience), campaign=slug)

    async def card_link(
        self, session: AsyncSession, url: str, *, article_id: int, audience: Audience
    ) -> str:
        """The link a card made for `audience` shows: tracked, or the destination itself.

        An address that is not a web link is left alone (the card shows no button for it).
        """
        if self.tracking_url is None or not is_web_link(url):
            return self.destination(url, article_id=article_id, audience=audience)
        code = await engagement.link_code(session, article_id=article_id, chat_kind=audience)
        return f"{self.tracking_url}{TRACKED_PATH}{code}"

    def tracked_route(self) -> str | None:
        """The path the web server answers tracked links on (aiohttp's pattern), if tracking."""
        if self.tracking_url is None:
            return None
        return urlsplit(self.tracking_url).path.rstrip("/") + TRACKED_PATH + "{code}"

    async def follow(self, session: AsyncSession, code: str) -> TrackedLink | None:
        """Where a tracked link leads (None for a code never made or an article gone)."""
        found = await engagement.link_of_code(session, code=code)
        if found is None:
            return None
        article_id, audience = found
        article = await articles.get_article(session, article_id=article_id)
        if article is None or not is_web_link(article.canonical_url):
            return None
        target = self.destination(article.canonical_url, article_id=article_id, audience=audience)
        return TrackedLink(article_id, audience, target)


@dataclass(frozen=True)
class TrackedLink:
    """A tracked link's article, the kind of chat its card was made for, and where it leads."""

    article_id: int
    audience: ChatKind | None
    target: str

    async def count_click(self, session: AsyncSession) -> None:
        """One click on it (nothing about the reader kept)."""
        await engagement.record_event(
            session,
            article_id=self.article_id,
            kind=ArticleEventKind.CLICK,
            chat_kind=self.audience,
        )


PLAIN_LINKS = ArticleLinks()


def chat_audience(chat_type: str) -> ChatKind:
    """The kind of chat a card is made for, from Telegram's ``Chat.type``."""
    try:
        return ChatKind(chat_type)
    except ValueError:
        return ChatKind.PRIVATE


def kind_by_id(chat_id: int) -> ChatKind:
    """What a chat's id says of its kind: users' are positive, basic groups' negative, and
    supergroups' (or channels': the id cannot tell them apart) begin with -100."""
    if chat_id > 0:
        return ChatKind.PRIVATE
    return ChatKind.SUPERGROUP if str(chat_id).startswith("-100") else ChatKind.GROUP


async def audience_of_chat(session: AsyncSession, chat_id: int) -> ChatKind:
    """The kind of a stored chat; for one not stored, what its id says."""
    chat = await chats.get_chat(session, chat_id=chat_id)
    if chat is not None:
        return ChatKind(chat.kind)
    return kind_by_id(chat_id)
