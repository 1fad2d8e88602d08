"""Links as Telegram stores them: `tg://user?id=N` mentions, `tg://emoji?id=N` custom emoji, and
http(s), tg and ton addresses checked and written the way Telegram writes them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator.formatting.entities import (
    MAX_USER_ID,
    MarkupError,
    ascii_lower,
    is_ascii_alnum,
    to_integer_safe,
)


def link_user_id(url: str) -> int | None:
    """The user a `tg://user?id=N` link names, else None."""
    rest = ascii_lower(url)
    if not rest.startswith("tg:"):
        return None
    rest = rest[3:].removeprefix("//")
    if not rest.startswith("user"):
        return None
    rest = rest[4:].removeprefix("/")
    if not rest.startswith("?"):
        return None
    for parameter in rest[1:].split("#", 1)[0].split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            try:
                user_id = to_integer_safe(value, 64)
            except MarkupError:
                return None
            return user_id if 0 < user_id <= MAX_USER_ID else None
    return None


def custom_emoji_id_from_link(url: str) -> str:
    """The custom emoji a `tg://emoji?id=N` link names, or MarkupError with Telegram's text."""
    rest = ascii_lower(url)
    if not rest.startswith("tg:"):
        raise MarkupError("Custom emoji URL must have scheme tg")
    rest = rest[3:].removeprefix("//")
    if not rest.startswith("emoji") or (len(rest) > 5 and rest[5] not in "/?#"):
        raise MarkupError('Custom emoji URL must have host "emoji"')
    rest = rest[5:].removeprefix("/")
    if not rest.startswith("?"):
        raise MarkupError("Custom emoji URL must have an emoji identifier")
    for parameter in rest[1:].split("#", 1)[0].split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            try:
                return str(to_integer_safe(value, 64))
            except MarkupError:
                raise MarkupError("Invalid custom emoji identifier specified") from None
    raise MarkupError("Custom emoji URL must have an emoji identifier")


@dataclass(frozen=True)
class _HttpUrl:
    https: bool
    userinfo: str
    host: str
    is_ipv6: bool
    specified_port: int
    query: str

    def text(self) -> str:
        userinfo = f"{self.userinfo}@" if self.userinfo else ""
        port = f":{self.specified_port}" if self.specified_port else ""
        return f"{'https' if self.https else 'http'}://{userinfo}{self.host}{port}{self.query}"


_HOST_SYMBOLS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_!$,~*'();&+=")


# Long functions below are ports of Telegram's state machines, kept whole to compare rule by rule.
def _parse_url(url: str) -> _HttpUrl:  # noqa: PLR0912, PLR0915
    cut = re.match(r"[^:/?#@\[\]]*", url)
    protocol = ascii_lower(cut.group() if cut else "")
    rest = url
    https = False
    if url[len(protocol) :].startswith("://"):
        if protocol not in ("http", "https"):
            raise MarkupError("Unsupported URL protocol")
        https = protocol == "https"
        rest = url[len(protocol) + 3 :]
    authority_end = min([len(rest)] + [p for p in (rest.find(c) for c in "/?#") if p >= 0])
    authority, query = rest[:authority_end], rest[authority_end:]
    port = 0
    colon = len(authority) - 1
    while colon > 0 and authority[colon] not in ":]@":
        colon -= 1
    userinfo_host = authority
    if colon > 0 and authority[colon] == ":":
        digits = authority[colon + 1 :]
        while len(digits) > 1 and digits[0] == "0":
            digits = digits[1:]
        try:
            port = to_integer_safe(digits, 32) or -1
        except MarkupError:
            port = -1
        userinfo_host = authority[:colon]
    if not 0 <= port <= 65535:
        raise MarkupError("Wrong port number specified in the URL")
    userinfo, _, host = userinfo_host.rpartition("@")
    is_ipv6 = host.startswith("[") and host.endswith("]") and len(host) > 1
    if not host:
        raise MarkupError("URL host is empty")
    if host == ".":
        raise MarkupError("Host is invalid")
    query = query.rstrip(" \t\r\n\0\v") or "/"
    query = ("" if query.startswith("/") else "/") + "".join(
        f"%{ord(c):02X}" if ord(c) <= 0x20 else c for c in query
    )
    host = ascii_lower(host)
    if is_ipv6:
        if not re.fullmatch(r"\[[0-9a-f:.]*\]", host):
            raise MarkupError("Wrong IPv6 URL host")
    else:
        i = 0
        while i < len(host):
            c = host[i]
            if c == "%":
                if not re.fullmatch(r"[0-9a-f]{2}", host[i + 1 : i + 3]):
                    raise MarkupError("Wrong percent-encoded symbol in URL host")
                i += 3
                continue
            if c not in _HOST_SYMBOLS and ord(c) < 128:
                raise MarkupError("Wrong URL host")
            i += 1
    return _HttpUrl(https, userinfo, host, is_ipv6, port, query)


def check_link(link: str) -> str:
    """The link as Telegram stores it (e.g. "example.com" -> "http://example.com/")."""
    lower = ascii_lower(link)
    scheme = next((s for s in ("tg", "ton", "tonsite") if lower.startswith(f"{s}:")), None)
    rest = link[len(scheme) + 1 :] if scheme else link
    if scheme and rest.startswith("//"):
        rest = rest[2:]
    url = _parse_url(rest)
    if scheme is None:
        if "." not in url.host and not url.is_ipv6:
            raise MarkupError("Wrong HTTP URL")
        return url.text()
    if (
        ascii_lower(rest).startswith("http://")
        or url.https
        or url.userinfo
        or url.specified_port
        or url.is_ipv6
    ):
        raise MarkupError("Wrong tg URL" if scheme == "tg" else "Wrong ton URL")
    query = url.query[1:] if url.query[1:2] == "?" else url.query
    for c in url.host:
        if not (is_ascii_alnum(c) or c in "-_" or (scheme == "tonsite" and c == ".")):
            raise MarkupError("Unallowed characters in URL host")
    return f"{scheme}://{url.host}{query}"


def checked_link(link: str) -> str | None:
    """`check_link`, or None where Telegram silently drops the link."""
    try:
        return check_link(link)
    except MarkupError:
        return None
