"""The local test site's shared shape: what it serves and what its handlers record."""

from dataclasses import dataclass, field

HUGE_BYTES = 50 * 1024 * 1024
CHUNK = b"<p>" + b"filler " * 9360 + b"</p>\n"
FEED_ETAG = '"feed-v1"'
FEED_MODIFIED = "Fri, 03 Oct 2025 18:20:00 GMT"


@dataclass
class LocalSite:
    """The running test site: its base address and what its handlers observed."""

    base: str
    huge_bytes_sent: list[int] = field(default_factory=lambda: [0])
    feed_requests: list[dict[str, str]] = field(default_factory=list)
    # Every request the site answered, by path, with its headers.
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The absolute address of `path` on the site."""
        return f"{self.base}{path}"
