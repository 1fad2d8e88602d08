"""The article as one plain value, checked when built: what ingestion makes and cards show."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from newsroom.errors import IngestError
from newsroom.plaintext import one_line, split_paragraphs
from newsroom.poll import MAX_POLL_OPTIONS
from newsroom.sections import section_names
from newsroom.urls import canonical_url, is_web_url

# Where a page shows a poll question without its answers, readers get these.
DEFAULT_POLL_OPTIONS = ("Yes", "No", "Not sure")
MIN_POLL_OPTIONS = 2
# Telegram's own poll limits (sendPoll): a longer question or answer could never be posted.
MAX_POLL_QUESTION_CHARS = 300
MAX_POLL_OPTION_CHARS = 100


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """Another article offered to the reader under "Also read"."""

    title: str
    url: str

    def __post_init__(self) -> None:
        title = one_line(self.title)
        if not title:
            raise IngestError(f"a related link ({self.url.strip()}) has no title")
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "url", _web_address(self.url, what=f"related link {title!r}"))


@dataclass(frozen=True, slots=True)
class PollDraft:
    """The reader poll an article asks: a question and its answer options."""

    question: str
    options: tuple[str, ...] = DEFAULT_POLL_OPTIONS
    closes_at: datetime | None = None

    def __post_init__(self) -> None:
        question = one_line(self.question)
        if not question:
            raise IngestError("the poll has no question")
        if len(question) > MAX_POLL_QUESTION_CHARS:
            raise IngestError(
                f"the poll question is {len(question)} characters long; "
                f"at most {MAX_POLL_QUESTION_CHARS} fit"
            )
        options = tuple(one_line(str(option)) for option in self.options)
        if not MIN_POLL_OPTIONS <= len(options) <= MAX_POLL_OPTIONS:
            raise IngestError(
                f"the poll {question!r} has {len(options)} options; "
                f"it needs {MIN_POLL_OPTIONS} to {MAX_POLL_OPTIONS}"
            )
        seen: set[str] = set()
        for number, option in enumerate(options, start=1):
            if not option:
                raise IngestError(f"option {number} of the poll {question!r} is empty")
            if len(option) > MAX_POLL_OPTION_CHARS:
                raise IngestError(
                    f"option {option[:40]!r}... of the poll {question!r} is longer than "
                    f"{MAX_POLL_OPTION_CHARS} characters"
                )
            if option.casefold() in seen:
                raise IngestError(f"the poll {question!r} lists the option {option!r} twice")
            seen.add(option.casefold())
        object.__setattr__(self, "question", question)
        object.__setattr__(self, "options", options)
        _require_aware(self.closes_at, what="the poll closing time")


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """One article, whatever it came from, ready to become a card.

    Optional text is None when absent, never an empty string. The body is plain text: paragraphs
    separated by blank lines, section headings kept as paragraphs of their own.
    """

    title: str
    url: str
    standfirst: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    image_url: str | None = None
    body: str = ""
    key_points: tuple[str, ...] = ()
    fact: str | None = None
    reading_minutes: int = 1
    topics: tuple[str, ...] = ()
    related: tuple[RelatedLink, ...] = field(default=())
    poll: PollDraft | None = None
    source_guid: str | None = None
    summary_given: bool = False

    def __post_init__(self) -> None:
        title = one_line(self.title)
        if not title:
            raise IngestError(f"the article at {self.url.strip() or '(no address)'} has no title")
        set_field = object.__setattr__
        set_field(self, "title", title)
        set_field(self, "url", _web_address(self.url, what=f"the article {title!r}"))
        for name in ("standfirst", "author", "fact", "source_guid"):
            value = getattr(self, name)
            set_field(self, name, one_line(value) or None if value is not None else None)
        if self.image_url is not None:
            image = self.image_url.strip()
            set_field(self, "image_url", _web_address(image, what="the image") if image else None)
        _require_aware(self.published_at, what="the publication time")
        # The paragraphs come back one-line and non-empty: joining them is all that is left.
        set_field(self, "body", "\n\n".join(split_paragraphs(self.body)))
        set_field(self, "key_points", tuple(p for p in map(one_line, self.key_points) if p))
        # Readers pick sections by these names: normalised here, once, whatever the source.
        set_field(self, "topics", section_names(self.topics))
        set_field(self, "related", _unique_links(self.related))
        if isinstance(self.reading_minutes, bool) or self.reading_minutes < 1:
            raise IngestError(f"the article {title!r} has a reading time under one minute")

    @property
    def paragraphs(self) -> tuple[str, ...]:
        """The body's paragraphs in reading order."""
        return tuple(self.body.split("\n\n")) if self.body else ()


def _web_address(url: str, *, what: str) -> str:
    if not is_web_url(url):
        raise IngestError(f"{what} has no absolute http(s) address (got {url.strip()!r})")
    return canonical_url(url)


def _require_aware(moment: datetime | None, *, what: str) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise IngestError(f"{what} ({moment.isoformat()}) has no time zone")


def _unique_links(links: Iterable[RelatedLink]) -> tuple[RelatedLink, ...]:
    by_url: dict[str, RelatedLink] = {}
    for link in links:
        by_url.setdefault(link.url, link)
    return tuple(by_url.values())
