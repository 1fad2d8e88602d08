"""What Telegram finds by itself in a text: bot commands, mentions, hashtags, cashtags, links and
e-mail addresses, by TDLib's rules (a subset of its top-level domains for links without a scheme).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from emulator.formatting.entities import (
    Entity,
    ascii_lower,
    is_ascii_alnum,
    remove_intersecting,
    utf16_width,
)


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
        return ch in ".~_-" or is_ascii_alnum(ch)
    return _is_url_symbol(ch)


def _is_protocol_symbol(ch: str) -> bool:
    if ord(ch) < 0x80:
        return is_ascii_alnum(ch) or ch in "+-"
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
        if size >= 4 or ascii_lower(text[start + 1 : end]) in ("gif", "vid", "pic"):
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
                protocol = ascii_lower(text[protocol_begin : url_begin - 3])
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
    has_protocol = ascii_lower(url[:8]).startswith(("http://", "https://", "ftp://"))
    if has_protocol:
        url = url[url.find(":") + 3 :]
    domain_end = min([len(url)] + [p for p in (url.find(c) for c in "/?#") if p >= 0])
    domain, path = url[:domain_end], url[domain_end:]
    domain = domain[domain.find("@") + 1 :]
    if ":" in domain:
        domain = domain[: domain.rfind(":")]
    if ascii_lower(domain) == "teiegram.org":
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
        if len(tld) <= 5 or not all(is_ascii_alnum(c) for c in tld[4:]):
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
        starts.append(starts[-1] + utf16_width(ch))
    found = [Entity(kind, starts[b], starts[e] - starts[b]) for b, e, kind in spans if e > b]
    return remove_intersecting(found)
