"""Web addresses as the domain compares them: absolute http(s), resolved and canonical."""

from collections.abc import Iterable
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Campaign and click trackers name the same article many ways; dropping them makes one key.
_TRACKING_PREFIXES = ("utm_",)
_TRACKING_NAMES = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ocid"})


def is_web_url(url: str) -> bool:
    """True for an absolute http or https address with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    try:
        parts.port  # noqa: B018 -- reading it validates the port number
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def canonical_url(url: str) -> str:
    """The address with lower-case scheme and host, no default port, no fragment, no trackers.

    Raises ValueError when the address is not absolute http(s).
    """
    text = url.strip()
    if not is_web_url(text):
        raise ValueError(f"not an absolute http(s) address: {text!r}")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets, or the port would merge in
    port = parts.port
    # Built from host and port alone: credentials never belong in a published link.
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode(
        [
            (name, value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(name)
        ]
    )
    return urlunsplit(SplitResult(scheme, netloc, parts.path or "/", query, ""))


def on_sites(address: str, sites: Iterable[str]) -> bool:
    """Whether the address is on one of the sites (a hostname, its subdomains included)."""
    host = _host(address)
    names = [name for name in map(_site_name, sites) if name]
    return bool(host) and any(host == name or host.endswith(f".{name}") for name in names)


def same_host(address: str, other: str) -> bool:
    """Whether two addresses name the same host, a leading "www." aside."""
    return _host(address).removeprefix("www.") == _host(other).removeprefix("www.") != ""


def resolve_url(href: str, *, base: str) -> str | None:
    """The canonical absolute address of `href` read on page `base`, or None if it is not web.

    An empty href or a bare fragment points back at the page itself, so it gives None too.
    """
    if not href.strip() or href.strip().startswith("#"):
        return None
    try:
        absolute = urljoin(base, href.strip())
    except ValueError:
        return None
    if not is_web_url(absolute):
        return None
    return canonical_url(absolute)


def _host(address: str) -> str:
    try:
        return (urlsplit(address.strip()).hostname or "").lower()
    except ValueError:
        return ""


def _site_name(site: str) -> str:
    return site.strip().lower().rstrip(".")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)
