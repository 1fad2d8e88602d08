"""Message formatting as Telegram does it: parse modes, explicit entities, detected entities.

Owns the `Entity` value (a Bot API MessageEntity), the HTML parse mode, the validation of
explicit `entities` arrays, the normalization Telegram applies before a reader sees a message
(nested entities split, whitespace trimmed, links and mentions detected) and `render_html`, the
inverse used by tests. The rules and error texts follow Telegram's own parser (TDLib's
MessageEntity.cpp, which the Bot API server runs); the Markdown dialects live in
`emulator.markdown_v2`. Offsets and lengths are UTF-16 code units; byte offsets in error texts
are UTF-8 byte offsets into the text the bot sent.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from emulator.errors import ApiError

# Types a bot may send; "detected" ones are accepted but dropped, Telegram finds them itself.
FORMATTING_TYPES = frozenset(
    {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "blockquote",
        "expandable_blockquote",
    }
)
DETECTED_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bank_card_number",
    }
)
_SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
_QUOTES = frozenset({"blockquote", "expandable_blockquote"})
_CODE = frozenset({"pre", "code"})
_HIDDEN_DATA = frozenset({"text_link", "text_mention", "pre", "code"})
# Telegram orders entities starting at one offset by length, then by this priority.
_PRIORITY = {
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "custom_emoji": 99,
    "blockquote": 0,
    "expandable_blockquote": 0,
}
_MAX_USER_ID = (1 << 40) - 1
_MAX_TEXT_BYTES = 1 << 15


@dataclass(frozen=True)
class Entity:
    """One Bot API MessageEntity; offset and length count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    user_id: int | None = None
    custom_emoji_id: str | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_api(self, users: Mapping[int, Mapping[str, object]] | None = None) -> dict[str, object]:
        """MessageEntity JSON; a text_mention carries `users[user_id]` or a bare User."""
        body: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            body["url"] = self.url
        if self.language is not None:
            body["language"] = self.language
        if self.user_id is not None:
            known = (users or {}).get(self.user_id)
            body["user"] = (
                dict(known)
                if known is not None
                else {"id": self.user_id, "is_bot": False, "first_name": ""}
            )
        if self.custom_emoji_id is not None:
            body["custom_emoji_id"] = self.custom_emoji_id
        return body

    @classmethod
    def from_api(cls, obj: Mapping[str, object]) -> Entity:
        """Read one MessageEntity as the Bot API does; ApiError 400 when it is malformed."""
        try:
            return _entity_from_json(obj)
        except MarkupError as error:
            raise ApiError.bad_request(f"can't parse MessageEntity: {error}") from None


class MarkupError(Exception):
    """Telegram's own description of why markup or an entity was refused."""


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def entity_text(text: str, entity: Entity) -> str:
    """The part of `text` an entity covers."""
    units = text.encode("utf-16-le", "surrogatepass")
    return units[entity.offset * 2 : entity.end * 2].decode("utf-16-le", "surrogatepass")


def byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of code point `index`, the unit of Telegram's error positions."""
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _sort_key(entity: Entity) -> tuple[int, int, int]:
    return (entity.offset, -entity.length, _PRIORITY.get(entity.type, 50))


def _ascii_lower(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _api_text(message: str) -> str:
    # The Bot API lowercases the first letter of TDLib's texts ("Can't" -> "can't").
    if len(message) >= 2 and (message[1] == "_" or "A" <= message[1] <= "Z"):
        return message
    return message[:1].lower() + message[1:]


# ---------------------------------------------------------------- parse_text


def parse_text(
    text: str, parse_mode: str | None, entities: Sequence[Mapping[str, object]] | None
) -> tuple[str, list[Entity]]:
    """The plain text a reader sees and its entities, or ApiError 400 as Telegram refuses.

    A text that is only whitespace comes back empty; whether that is allowed (a caption) or
    "message must be non-empty" (a message) is the caller's call.
    """
    # imported here: the Markdown parsers build on this module's Entity and link rules
    from emulator import markdown_v2  # noqa: PLC0415

    if len(text.encode("utf-8", "surrogatepass")) > _MAX_TEXT_BYTES:
        raise ApiError.bad_request("text is too long")
    mode = _ascii_lower(parse_mode or "")
    if text and mode and mode != "none":
        parsers = {
            "html": parse_html,
            "markdownv2": markdown_v2.parse_markdown_v2,
            "markdown": markdown_v2.parse_markdown,
        }
        parser = parsers.get(mode)
        if parser is None:
            raise ApiError.bad_request("unsupported parse_mode")
        try:
            plain, raw = parser(text)
        except MarkupError as error:
            raise ApiError.bad_request(f"can't parse entities: {error}") from None
    else:
        plain = text
        raw = [Entity.from_api(obj) for obj in entities or ()]
        raw = [entity for entity in raw if entity.type in FORMATTING_TYPES]
    try:
        return normalize(plain, raw)
    except MarkupError as error:
        raise ApiError.bad_request(_api_text(str(error))) from None


# ---------------------------------------------------------------- explicit entities


def _json_int(obj: Mapping[str, object], name: str) -> int:
    if name not in obj:
        raise MarkupError(f'Can\'t find field "{name}"')
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MarkupError(f'Field "{name}" must be of type Number')
    return _to_integer_safe(str(value), 32)


def _json_str(obj: Mapping[str, object], name: str, *, required: bool) -> str:
    if name not in obj:
        if required:
            raise MarkupError(f'Can\'t find field "{name}"')
        return ""
    value = obj[name]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise MarkupError(f'Field "{name}" must be of type String')


def _to_integer_safe(text: str, bits: int) -> int:
    # Telegram accepts only the canonical spelling of a number ("025" and "1.0" are refused).
    if re.fullmatch(r"-?[1-9][0-9]*|0", text):
        value = int(text)
        if -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            return value
    raise MarkupError(f'Can\'t parse "{text}" as number')


def _entity_from_json(obj: Mapping[str, object]) -> Entity:
    if not isinstance(obj, Mapping):
        raise MarkupError("expected an Object")
    offset = _json_int(obj, "offset")
    length = _json_int(obj, "length")
    kind = _json_str(obj, "type", required=True)
    if not kind:
        raise MarkupError("Type is not specified")
    if kind == "pre":
        language = _json_str(obj, "language", required=False)
        return Entity("pre", offset, length, language=language or None)
    if kind == "text_link":
        url = _json_str(obj, "url", required=True)
        user_id = link_user_id(url)
        if user_id is not None:
            return Entity("text_mention", offset, length, user_id=user_id)
        try:
            checked = check_link(url)
        except MarkupError as error:
            raise ApiError.bad_request(
                _api_text(f"Entity URL '{url}' is invalid: {error}")
            ) from None
        return Entity("text_link", offset, length, url=checked)
    if kind == "text_mention":
        user = obj.get("user")
        if "user" not in obj:
            raise MarkupError('Can\'t find field "user"')
        if not isinstance(user, Mapping):
            raise MarkupError('Field "user" must be of type Object')
        return Entity("text_mention", offset, length, user_id=_json_long(user, "id"))
    if kind == "custom_emoji":
        emoji_id = _json_long(obj, "custom_emoji_id")
        if emoji_id == 0:
            raise ApiError.bad_request("invalid custom emoji identifier specified")
        return Entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id))
    if kind in FORMATTING_TYPES or kind in DETECTED_TYPES:
        return Entity(kind, offset, length)
    raise MarkupError("Unsupported type specified")


def _json_long(obj: Mapping[str, object], name: str) -> int:
    if name not in obj:
        raise MarkupError(f'Can\'t find field "{name}"')
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MarkupError(f'Field "{name}" must be a Number')
    return _to_integer_safe(str(value), 64)


# ---------------------------------------------------------------- links


def link_user_id(url: str) -> int | None:
    """The user a `tg://user?id=N` link names, else None."""
    rest = _ascii_lower(url)
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
                user_id = _to_integer_safe(value, 64)
            except MarkupError:
                return None
            return user_id if 0 < user_id <= _MAX_USER_ID else None
    return None


def custom_emoji_id_from_link(url: str) -> str:
    """The custom emoji a `tg://emoji?id=N` link names, or MarkupError with Telegram's text."""
    rest = _ascii_lower(url)
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
                return str(_to_integer_safe(value, 64))
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
    protocol = _ascii_lower(cut.group() if cut else "")
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
            port = _to_integer_safe(digits, 32) or -1
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
    host = _ascii_lower(host)
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
    lower = _ascii_lower(link)
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
        _ascii_lower(rest).startswith("http://")
        or url.https
        or url.userinfo
        or url.specified_port
        or url.is_ipv6
    ):
        raise MarkupError("Wrong tg URL" if scheme == "tg" else "Wrong ton URL")
    query = url.query[1:] if url.query[1:2] == "?" else url.query
    for c in url.host:
        if not (_is_ascii_alnum(c) or c in "-_" or (scheme == "tonsite" and c == ".")):
            raise MarkupError("Unallowed characters in URL host")
    return f"{scheme}://{url.host}{query}"


def checked_link(link: str) -> str | None:
    """`check_link`, or None where Telegram silently drops the link."""
    try:
        return check_link(link)
    except MarkupError:
        return None


# ---------------------------------------------------------------- HTML

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji"}
    | {"span", "pre", "code", "blockquote"}
)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(text: str, pos: int) -> tuple[int, int]:
    """(code point, index after it) for the character reference at `pos`, or (0, pos)."""
    end = pos + 1
    if text[end : end + 1] == "#":
        end += 1
        is_hex = text[end : end + 1] == "x"
        end += is_hex
        digits = re.match(r"[0-9a-fA-F]*" if is_hex else r"[0-9]*", text[end:])
        number = digits.group() if digits else ""
        end += len(number)
        code = int(number, 16 if is_hex else 10) if number else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        letters = re.match(r"[A-Za-z]*", text[end:])
        name = letters.group() if letters else ""
        end += len(name)
        if name not in _HTML_NAMED:
            return 0, pos
        code = ord(_HTML_NAMED[name])
    return code, end + (text[end : end + 1] == ";")


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int
    plain_start: int


def parse_html(text: str) -> tuple[str, list[Entity]]:  # noqa: PLR0912, PLR0915
    """Parse Telegram's HTML subset into plain text and raw entities, or raise MarkupError."""
    size = len(text)

    def at(i: int) -> str:
        return text[i] if i < size else ""

    def space(ch: str) -> bool:
        return ch in ("", " ", "\t", "\r", "\n", "\0", "\v")

    def offset_of(i: int) -> int:
        return byte_offset(text, i)

    out: list[str] = []
    entities: list[Entity] = []
    nested: list[_OpenTag] = []
    utf16 = 0
    has_surrogate = False
    i = 0
    while i < size:
        c = text[i]
        if c == "&":
            code, after = _decode_html_entity(text, i)
            if code:
                has_surrogate = has_surrogate or 0xD800 <= code <= 0xDFFF
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                i = after
                continue
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while not space(at(i)) and at(i) != ">":
                i += 1
            if at(i) in ("", "\0"):
                raise MarkupError(f"Unclosed start tag at byte offset {offset_of(begin)}")
            tag = _ascii_lower(text[begin + 1 : i])
            if tag not in _HTML_TAGS:
                raise MarkupError(
                    f'Unsupported start tag "{tag}" at byte offset {offset_of(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                name_begin = i
                while not space(at(i)) and at(i) not in "=>/\"'":
                    i += 1
                attribute = text[name_begin:i]
                if not attribute:
                    where = offset_of(begin)
                    raise MarkupError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {where}'
                    )
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) != "=":
                    if at(i) in ("", "\0"):
                        raise MarkupError(
                            f'Unclosed start tag "{tag}" at byte offset {offset_of(begin)}'
                        )
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) not in ("", "\0") and space(at(i)):
                    i += 1
                if at(i) in ("", "\0"):
                    raise MarkupError(
                        f'Unclosed start tag "{tag}" at byte offset {offset_of(begin)}'
                    )
                if at(i) not in ("'", '"'):
                    token_begin = i
                    while _is_ascii_alnum(at(i)) or at(i) in (".", "-"):
                        i += 1
                    value = _ascii_lower(text[token_begin:i])
                    if not space(at(i)) and at(i) != ">":
                        raise MarkupError(
                            f"Unexpected end of name token at byte offset {offset_of(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while at(i) not in (quote, "", "\0"):
                        if text[i] == "&":
                            code, after = _decode_html_entity(text, i)
                            if code:
                                chars.append(chr(code))
                                i = after
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if at(i) in ("", "\0"):
                    raise MarkupError(f"Unclosed start tag at byte offset {offset_of(begin)}")
                if (tag == "a" and attribute == "href") or (
                    tag == "tg-emoji" and attribute == "emoji-id"
                ):
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise MarkupError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset_of(begin)}'
                )
            nested.append(_OpenTag(tag, argument, utf16, len(out)))
            i += 1
            continue

        # end tag
        if not nested:
            raise MarkupError(f"Unexpected end tag at byte offset {offset_of(begin)}")
        while not space(at(i)) and at(i) != ">":
            i += 1
        end_tag = _ascii_lower(text[begin + 2 : i])
        while at(i) not in ("", "\0") and space(at(i)):
            i += 1
        if at(i) != ">":
            raise MarkupError(f"Unclosed end tag at byte offset {offset_of(begin)}")
        opened = nested.pop()
        if end_tag and end_tag != opened.name:
            raise MarkupError(
                f"Unmatched end tag at byte offset {offset_of(begin)}, "
                f'expected "</{opened.name}>", found "</{end_tag}>"'
            )
        i += 1
        if utf16 > opened.offset:
            _close_html_tag(
                opened, utf16 - opened.offset, "".join(out[opened.plain_start :]), entities
            )
    if nested:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{nested[-1].name}"')
    if has_surrogate:
        raise MarkupError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    # a <code> language only survives inside <pre>
    entities = [replace(e, language=None) if e.type == "code" else e for e in entities]
    return "".join(out), entities


def _close_html_tag(  # noqa: PLR0912
    opened: _OpenTag, length: int, inner: str, entities: list[Entity]
) -> None:
    offset, tag, argument = opened.offset, opened.name, opened.argument
    last = entities[-1] if entities else None
    same_span = last is not None and last.offset == offset and last.length == length
    if tag in _SIMPLE_TAGS:
        entities.append(Entity(_SIMPLE_TAGS[tag], offset, length))
    elif tag == "tg-emoji":
        try:
            emoji_id = _to_integer_safe(argument, 64)
        except MarkupError:
            emoji_id = 0
        if emoji_id == 0:
            raise MarkupError("Invalid custom emoji identifier specified")
        entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=str(emoji_id)))
    elif tag == "a":
        url = argument or inner
        user_id = link_user_id(url)
        if user_id is not None:
            entities.append(Entity("text_mention", offset, length, user_id=user_id))
        elif (checked := checked_link(url)) is not None:
            entities.append(Entity("text_link", offset, length, url=checked))
    elif tag == "pre":
        if same_span and last is not None and last.type == "code" and last.language:
            entities[-1] = Entity("pre", offset, length, language=last.language)
        else:
            entities.append(Entity("pre", offset, length))
    elif tag == "code":
        if same_span and last is not None and last.type == "pre" and argument:
            entities[-1] = Entity("pre", offset, length, language=argument)
        else:
            entities.append(Entity("code", offset, length, language=argument or None))
    else:
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append(Entity(kind, offset, length))


# ---------------------------------------------------------------- normalization


def normalize(text: str, entities: Iterable[Entity]) -> tuple[str, list[Entity]]:
    """Apply what Telegram does to every outgoing text: the message a reader receives.

    Control characters become spaces, carriage returns and direction marks vanish, nested and
    overlapping entities are split or dropped, whitespace-only entities go, the text is trimmed,
    and links, mentions, hashtags and commands are detected. Raises MarkupError for entities that
    do not fit the text.
    """
    found = list(entities)
    for entity in found:
        if not 0 <= entity.offset <= 1_000_000:
            raise MarkupError(f"Receive an entity with incorrect offset {entity.offset}")
        if not 0 <= entity.length <= 1_000_000:
            raise MarkupError(f"Receive an entity with incorrect length {entity.length}")
    found = _fix_entities(_remove_empty(found))
    text, found = _clean_text(text, found)
    last = _remove_invalid(text, found)
    if last is None:
        return "", []
    found = _fix_entities(found)
    text, found = _trim(text, found, last)
    found = _merge_detected(found, detect_entities(text))
    _remove_invalid(text, found)
    return text, sorted((e for e in found if e.length > 0), key=_sort_key)


def _remove_empty(entities: Iterable[Entity]) -> list[Entity]:
    def keep(entity: Entity) -> bool:
        if entity.length <= 0:
            return False
        if entity.type == "text_link":
            return bool(entity.url)
        if entity.type == "text_mention":
            return entity.user_id is not None and 0 < entity.user_id <= _MAX_USER_ID
        if entity.type == "custom_emoji":
            return entity.custom_emoji_id not in (None, "0")
        return True

    return [entity for entity in entities if keep(entity)]


def _remove_intersecting(entities: Sequence[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    end = 0
    for entity in sorted(entities, key=_sort_key):
        if entity.offset >= end:
            kept.append(entity)
            end = entity.end
    return kept


def _remove_crossing_quotes(entities: Sequence[Entity], quotes: Sequence[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    for entity in entities:
        quote = next((q for q in quotes if q.end > entity.offset), None)
        if quote is not None and (
            quote.end < entity.end or entity.offset < quote.offset < entity.end
        ):
            continue
        kept.append(entity)
    return kept


def _fix_entities(entities: Sequence[Entity]) -> list[Entity]:
    """Telegram's fix_entities: no overlaps, and bold/italic/... split around everything else."""
    splittable = [e for e in entities if e.type in _SPLITTABLE]
    quotes = [e for e in entities if e.type in _QUOTES]
    others = _remove_intersecting([e for e in entities if e.type not in _SPLITTABLE | _QUOTES])
    if quotes:
        quotes = _remove_intersecting(quotes)
        others = _remove_crossing_quotes(others, quotes) + quotes
    return sorted(_resplit(splittable, others) + others, key=_sort_key)


def _resplit(splittable: Sequence[Entity], others: Sequence[Entity]) -> list[Entity]:
    # Same-type spans merge; they are cut at every edge of another entity and never enter code.
    cuts = {edge for e in others for edge in (e.offset, e.end)}
    inside_code = {p for e in others if e.type in _CODE for p in range(e.offset, e.end)}
    result: list[Entity] = []
    for kind in sorted({e.type for e in splittable}):
        covered = {p for e in splittable if e.type == kind for p in range(e.offset, e.end)}
        start = previous = None
        for position in sorted(covered - inside_code):
            if start is None or previous is None:
                start = position
            elif position != previous + 1 or position in cuts:
                result.append(Entity(kind, start, previous + 1 - start))
                start = position
            previous = position
        if start is not None and previous is not None:
            result.append(Entity(kind, start, previous + 1 - start))
    return result


def _is_removed_char(code: int) -> bool:
    return 0x2028 <= code <= 0x202E or code in (0x0333, 0x033F, 0x030A)


def _clean_text(text: str, entities: Sequence[Entity]) -> tuple[str, list[Entity]]:
    """Telegram's clean_input_string: control characters to spaces, '\\r' and marks removed."""
    starts: list[int] = []  # UTF-16 offset of each code point
    removed_before: list[int] = []  # UTF-16 units removed before each code point
    chars: list[str] = []
    utf16 = removed = 0
    for ch in text:
        starts.append(utf16)
        removed_before.append(removed)
        width = 2 if ord(ch) > 0xFFFF else 1
        utf16 += width
        if ch == "\r" or _is_removed_char(ord(ch)):
            removed += width
        elif ord(ch) < 32 and ch != "\n":
            chars.append(" ")
        else:
            chars.append(ch)
    starts.append(utf16)
    removed_before.append(removed)
    index_of = {offset: k for k, offset in enumerate(starts)}

    def position(offset: int, entity: Entity, *, is_end: bool) -> int:
        if offset > utf16:
            if is_end:
                raise MarkupError(
                    f"Entity beginning at UTF-16 offset {entity.offset} ends after the end of "
                    f"the text at UTF-16 offset {entity.end}"
                )
            raise MarkupError(f"Entity begins after the end of the text at UTF-16 offset {offset}")
        k = index_of.get(offset)
        if k is None:
            at_byte = byte_offset(text, index_of[offset + 1])
            if is_end:
                raise MarkupError(
                    f"Entity beginning at UTF-16 offset {entity.offset} ends in a middle of a "
                    f"UTF-16 symbol at byte offset {at_byte}"
                )
            raise MarkupError(
                f"Entity begins in a middle of a UTF-16 symbol at byte offset {at_byte}"
            )
        return offset - removed_before[k]

    fixed = []
    for entity in entities:
        begin = position(entity.offset, entity, is_end=False)
        end = position(entity.end, entity, is_end=True)
        fixed.append(replace(entity, offset=begin, length=end - begin))
    return "".join(chars), fixed


def _remove_invalid(text: str, entities: list[Entity]) -> tuple[int, int] | None:
    """Drop whitespace-only entities and trim leading whitespace off the others, in place.

    Returns (index, UTF-16 offset) of the last non-whitespace character, None if there is none.
    """
    work = sorted(_remove_empty(entities), key=_sort_key)
    stack: list[int] = []
    current = 0
    last_index, last_utf16 = -1, -1
    utf16 = 0
    for index in range(len(text) + 1):
        while stack:
            top = work[stack[-1]]
            if utf16 < top.end:
                break
            if not (last_utf16 >= top.offset or top.type in _HIDDEN_DATA):
                work[stack[-1]] = replace(top, length=0)
            stack.pop()
        while current < len(work) and utf16 >= work[current].offset:
            stack.append(current)
            current += 1
        if index == len(text):
            break
        ch = text[index]
        if stack and work[stack[-1]].offset == utf16 and ch in " \n":
            for k in reversed(list(stack)):
                entity = work[k]
                if entity.offset != utf16 or entity.type in _HIDDEN_DATA:
                    break
                work[k] = replace(entity, offset=entity.offset + 1, length=entity.length - 1)
                if work[k].length == 0:
                    stack.remove(k)
        if ch not in " \n":
            utf16 += ord(ch) > 0xFFFF
            last_index, last_utf16 = index, utf16
        utf16 += 1
    entities[:] = _remove_empty(work)
    return None if last_utf16 == -1 else (last_index, last_utf16)


def _trim(
    text: str, entities: Sequence[Entity], last: tuple[int, int]
) -> tuple[str, list[Entity]]:
    last_index, last_utf16 = last
    text = text[: last_index + 1]
    trimmed = [
        replace(e, length=min(e.end, last_utf16 + 1) - e.offset)
        for e in entities
        if e.offset <= last_utf16
    ]
    trimmed.sort(key=_sort_key)
    first_entity = trimmed[0].offset if trimmed else len(text)
    lead = 0
    while lead < first_entity and lead < len(text) and text[lead] in " \n":
        lead += 1
    return text[lead:], [replace(e, offset=e.offset - lead) for e in trimmed]


def _merge_detected(entities: Sequence[Entity], detected: Sequence[Entity]) -> list[Entity]:
    splittable = [e for e in entities if e.type in _SPLITTABLE]
    quotes = [e for e in entities if e.type in _QUOTES]
    continuous = [e for e in entities if e.type not in _SPLITTABLE | _QUOTES]
    fresh = [e for e in _remove_crossing_quotes(detected, quotes) if _fits_between(e, continuous)]
    others = sorted(continuous + fresh + quotes, key=_sort_key)
    return sorted(_resplit(splittable, others) + others, key=_sort_key)


def _fits_between(entity: Entity, taken: Sequence[Entity]) -> bool:
    return all(entity.end <= other.offset or entity.offset >= other.end for other in taken)


# ---------------------------------------------------------------- detection


def _is_word_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def _is_hashtag_letter(ch: str) -> bool:
    code = ord(ch)
    if ch == "_" or code in (0x200C, 0xB7) or 0xD80 <= code <= 0xDFF:
        return True
    return unicodedata.category(ch) == "Nd" or unicodedata.category(ch)[0] == "L"


def _is_url_symbol(ch: str) -> bool:
    code = ord(ch)
    if 0x2000 <= code <= 0x206F:
        return code in (0x200C, 0x200D) or 0x2010 <= code <= 0x2015
    return unicodedata.category(ch)[0] != "Z"


def _is_path_symbol(ch: str) -> bool:
    return ch not in '\n<>"\xab\xbb' and _is_url_symbol(ch)


def _is_user_data_symbol(ch: str) -> bool:
    return ch not in "\n/[]{}()'`<>\"@\xab\xbb" and _is_url_symbol(ch)


def _is_domain_symbol(ch: str) -> bool:
    if ord(ch) < 0xC0:
        return ch in ".~_-" or _is_ascii_alnum(ch)
    return _is_url_symbol(ch)


def _is_protocol_symbol(ch: str) -> bool:
    if ord(ch) < 0x80:
        return _is_ascii_alnum(ch) or ch in "+-"
    return unicodedata.category(ch)[0] != "Z"


_USERNAME = re.compile(r"[A-Za-z0-9_]*")
_BAD_PATH_END = ".:;,('?!`"


def _find_mentions(text: str) -> Iterable[tuple[int, int]]:
    for match in re.finditer("@", text):
        start = match.start()
        if start and _is_word_char(text[start - 1]):
            continue
        name = _USERNAME.match(text, start + 1)
        end = name.end() if name else start + 1
        size = end - start - 1
        if not 2 <= size <= 32 or (end < len(text) and _is_word_char(text[end])):
            continue
        # Telegram shows @name from 4 characters; shorter only for its inline bots
        if size >= 4 or _ascii_lower(text[start + 1 : end]) in ("gif", "vid", "pic"):
            yield start, end


def _find_bot_commands(text: str) -> Iterable[tuple[int, int]]:
    for match in re.finditer("/", text):
        start = match.start()
        if start and (_is_word_char(text[start - 1]) or text[start - 1] in "/<>"):
            continue
        name = _USERNAME.match(text, start + 1)
        end = name.end() if name else start + 1
        if not 1 <= end - start - 1 <= 64:
            continue
        if text[end : end + 1] == "@":
            bot = _USERNAME.match(text, end + 1)
            bot_end = bot.end() if bot else end + 1
            if not 3 <= bot_end - end - 1 <= 32:
                continue
            end = bot_end
        if end < len(text) and (_is_word_char(text[end]) or text[end] in "/<>"):
            continue
        yield start, end


def _find_hashtags(text: str) -> Iterable[tuple[int, int]]:
    for match in re.finditer("#", text):
        start = match.start()
        if start and _is_hashtag_letter(text[start - 1]):
            continue
        end = start + 1
        while end < len(text) and _is_hashtag_letter(text[end]):
            end += 1
        body = text[start + 1 : end]
        if not body or text[end : end + 1] == "#":
            continue
        if not any(unicodedata.category(c)[0] == "L" for c in body[:256]):
            continue
        yield start, start + 1 + min(len(body), 256)


def _find_cashtags(text: str) -> Iterable[tuple[int, int]]:
    for match in re.finditer(r"\$", text):
        start = match.start()
        if start and (_is_hashtag_letter(text[start - 1]) or text[start - 1] == "$"):
            continue
        if text.startswith("1INCH", start + 1):
            end = start + 6
        else:
            letters = re.match(r"[A-Z]*", text[start + 1 :])
            end = start + 1 + (len(letters.group()) if letters else 0)
        if not 1 <= end - start - 1 <= 8:
            continue
        if end < len(text) and (_is_hashtag_letter(text[end]) or text[end] == "$"):
            continue
        yield start, end


def _find_tg_urls(text: str) -> Iterable[tuple[int, int]]:
    for match in re.finditer(r"(?i)(?:tg|ton)://", text):
        start, pos = match.start(), match.end()
        host = re.match(r"[A-Za-z0-9_-]{1,253}", text[pos:])
        if host is None:
            continue
        pos += host.end()
        if text[pos : pos + 1] in ("/", "?", "#") and text[pos : pos + 1]:
            path_end = pos + 1
            while path_end < len(text) and _is_path_symbol(text[path_end]):
                path_end += 1
            while path_end > pos + 1 and text[path_end - 1] in _BAD_PATH_END:
                path_end -= 1
            if text[pos] == "/" or path_end > pos + 1:
                pos = path_end
        yield start, pos


def _match_urls(text: str) -> Iterable[tuple[int, int]]:  # noqa: PLR0912, PLR0915
    size = len(text)
    begin = 0
    while True:
        dot = text.find(".", begin)
        if dot < 0 or dot + 1 == size:
            return
        if text[dot + 1] == " ":
            begin = dot + 2
            continue
        domain_begin = dot
        while domain_begin > begin and _is_domain_symbol(text[domain_begin - 1]):
            domain_begin -= 1
        last_at = -1
        domain_end = dot
        while domain_end < size:
            if text[domain_end] == "@":
                last_at = domain_end
            elif not _is_domain_symbol(text[domain_end]):
                break
            domain_end += 1
        if last_at >= 0:
            while domain_begin > begin and _is_user_data_symbol(text[domain_begin - 1]):
                domain_begin -= 1
        url_end = domain_end
        if text[url_end : url_end + 1] == ":":
            port = re.match(r"[0-9]*", text[url_end + 1 :])
            digits = port.group() if port else ""
            significant = digits.lstrip("0")
            if significant and len(significant) <= 5 and int(significant) <= 65535:
                url_end += 1 + len(digits)
        if url_end < size and text[url_end] in "/?#":
            path_end = url_end + 1
            while path_end < size and _is_path_symbol(text[path_end]):
                path_end += 1
            while path_end > url_end + 1 and text[path_end - 1] in _BAD_PATH_END:
                path_end -= 1
            if text[url_end] == "/" or path_end > url_end + 1:
                url_end = path_end
        while url_end > dot + 1 and text[url_end - 1] == ".":
            url_end -= 1

        is_bad = False
        url_begin = domain_begin
        if url_begin != begin and text[url_begin - 1] == "@":
            is_bad = last_at >= 0
            user_begin = url_begin - 1
            while user_begin > begin and _is_user_data_symbol(text[user_begin - 1]):
                user_begin -= 1
            is_bad = is_bad or user_begin == url_begin - 1
            url_begin = user_begin
        if url_begin != begin:
            prefix = text[begin:url_begin]
            if len(prefix) >= 6 and prefix.endswith("://"):
                protocol_begin = url_begin - 3
                while protocol_begin > begin and _is_protocol_symbol(text[protocol_begin - 1]):
                    protocol_begin -= 1
                protocol = _ascii_lower(text[protocol_begin : url_begin - 3])
                if protocol.endswith("http") and protocol != "shttp":
                    url_begin -= 7
                elif protocol.endswith("https"):
                    url_begin -= 8
                elif protocol.endswith("ftp") and protocol not in ("tftp", "sftp"):
                    url_begin -= 6
                else:
                    is_bad = True
            elif _is_word_char(prefix[-1]) or prefix[-1] in "/#@":
                is_bad = True
        if not is_bad:
            if url_end > dot + 1:
                yield url_begin, url_end
            while url_end < size and text[url_end] == ".":
                url_end += 1
        else:
            while text[url_end - 1] != ".":
                url_end -= 1
        begin = max(url_end, dot + 1)


def is_email_address(text: str) -> bool:
    """Telegram's e-mail rule: user@domain.tld with bounded, ASCII parts."""
    user, at, domain = text.partition("@")
    if not at or not domain:
        return False
    parts = re.split(r"[.+]", user)
    if len(parts) >= 12 or any(len(p) >= 27 for p in parts[:-1]):
        return False
    if not 0 < len(parts[-1]) < 36 or not re.fullmatch(r"[A-Za-z0-9_.+-]*", user):
        return False
    labels = domain.split(".")
    if not 1 < len(labels) <= 7 or not re.fullmatch(r"[A-Za-z]{2,8}", labels[-1]):
        return False
    return all(
        re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,28}[A-Za-z0-9])?", label)
        for label in labels[:-1]
    )


# Top-level domains Telegram links without a scheme: country codes and common generic ones
# (a subset of Telegram's list). A word list reads better than 300 quoted strings.
_COMMON_TLDS = frozenset(
    (  # noqa: SIM905
        "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo "
        "br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk "
        "dm do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq "
        "gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh "
        "ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn "
        "mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg "
        "ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn "
        "so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us "
        "uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw "
        "com org net edu gov mil int info biz name pro aero asia cat coop jobs mobi museum tel "
        "travel xxx app dev blog news online site store tech xyz top club shop live life media "
        "world today space website cloud digital email group link press agency page studio "
        "network systems solutions center company academy"
    ).split()
)


def _is_common_tld(tld: str) -> bool:
    lower = tld.lower()
    # "Com" is not a domain to Telegram, though "com" and "COM" are
    if lower != tld and lower[1:] == tld[1:]:
        return False
    return lower in _COMMON_TLDS


def _fix_url(url: str) -> str | None:  # noqa: PLR0911, PLR0912
    """Telegram's fix_url: the part of a URL-looking run that really is a URL, or None."""
    full = url
    has_protocol = _ascii_lower(url[:8]).startswith(("http://", "https://", "ftp://"))
    if has_protocol:
        url = url[url.find(":") + 3 :]
    domain_end = min([len(url)] + [p for p in (url.find(c) for c in "/?#") if p >= 0])
    domain, path = url[:domain_end], url[domain_end:]
    domain = domain[domain.find("@") + 1 :]
    if ":" in domain:
        domain = domain[: domain.rfind(":")]
    if _ascii_lower(domain) == "teiegram.org":
        return None
    balance = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    path_pos = 0
    while path_pos < len(path):
        ch = path[path_pos]
        if ch in balance:
            balance[ch] += 1
        elif ch in closing:
            balance[closing[ch]] -= 1
        if min(balance.values()) < 0:
            break
        path_pos += 1
    while path_pos > 0 and path[path_pos - 1] in _BAD_PATH_END:
        path_pos -= 1
    full = full[: len(full) - (len(path) - path_pos)]

    labels = domain.split(".")
    if any(not label or len(label) >= 64 or label.endswith("-") for label in labels):
        return None
    if len(labels) == 1:
        return None
    if len(labels) == 4 and all(
        re.fullmatch(r"25[0-5]|2[0-4][0-9]|[1-9]?[0-9]", p) for p in labels
    ):
        return full
    if all(label.isascii() and label.isdigit() for label in labels):
        return None
    tld = labels[-1]
    if len(tld) <= 1:
        return None
    if tld.startswith("xn--"):
        if len(tld) <= 5 or not all(_is_ascii_alnum(c) for c in tld[4:]):
            return None
    elif "_" in tld or "-" in tld or (not has_protocol and not _is_common_tld(tld)):
        return None
    if "_" in labels[-2]:
        return None
    return full


def detect_entities(text: str) -> list[Entity]:
    """What Telegram finds by itself in a text: commands, mentions, hashtags, links, e-mails."""
    spans: list[tuple[int, int, str]] = []
    spans += [(b, e, "mention") for b, e in _find_mentions(text)]
    spans += [(b, e, "bot_command") for b, e in _find_bot_commands(text)]
    spans += [(b, e, "hashtag") for b, e in _find_hashtags(text)]
    spans += [(b, e, "cashtag") for b, e in _find_cashtags(text)]
    spans += [(b, e, "url") for b, e in _find_tg_urls(text)]
    for begin, end in _match_urls(text):
        url = text[begin:end]
        if is_email_address(url):
            spans.append((begin, end, "email"))
        elif url.startswith("mailto:") and is_email_address(url[7:]):
            spans.append((begin + 7, end, "email"))
        elif (fixed := _fix_url(url)) is not None:
            spans.append((begin, begin + len(fixed), "url"))
    starts = [0]
    for ch in text:
        starts.append(starts[-1] + (2 if ord(ch) > 0xFFFF else 1))
    found = [Entity(kind, starts[b], starts[e] - starts[b]) for b, e, kind in spans if e > b]
    return _remove_intersecting(found)


# ---------------------------------------------------------------- rendering


def _escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _tags(entity: Entity) -> tuple[str, str]:  # noqa: PLR0911
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if entity.type in simple:
        tag = simple[entity.type]
        return f"<{tag}>", f"</{tag}>"
    if entity.type == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if entity.type == "pre":
        if entity.language:
            language = _escape(entity.language, quote=True)
            return f'<pre><code class="language-{language}">', "</code></pre>"
        return "<pre>", "</pre>"
    if entity.type == "text_link":
        return f'<a href="{_escape(entity.url or "", quote=True)}">', "</a>"
    if entity.type == "text_mention":
        return f'<a href="tg://user?id={entity.user_id}">', "</a>"
    if entity.type == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity.custom_emoji_id}">', "</tg-emoji>"
    return "", ""  # detected entities are plain text in HTML


def render_html(text: str, entities: Sequence[Entity]) -> str:
    """Telegram HTML for a plain text and its entities (inverse of parse_text with "HTML")."""
    units = text.encode("utf-16-le", "surrogatepass")
    ordered = sorted(entities, key=_sort_key)
    edges = sorted({0, len(units) // 2} | {p for e in ordered for p in (e.offset, e.end)})
    out: list[str] = []
    stack: list[Entity] = []
    for left, right in itertools.pairwise(edges):
        wanted = [e for e in ordered if e.offset <= left < e.end]
        keep = 0
        while keep < min(len(stack), len(wanted)) and stack[keep] == wanted[keep]:
            keep += 1
        out.extend(_tags(e)[1] for e in reversed(stack[keep:]))
        out.extend(_tags(e)[0] for e in wanted[keep:])
        stack = wanted
        out.append(_escape(units[left * 2 : right * 2].decode("utf-16-le", "surrogatepass")))
    out.extend(_tags(e)[1] for e in reversed(stack))
    return "".join(out)
