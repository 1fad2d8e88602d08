"""Message formatting as Telegram applies it: parse modes, entities, detection, rendering."""

from __future__ import annotations

import pytest

from emulator.errors import ApiError
from emulator.formatting import (
    Entity,
    detect_entities,
    entity_from_api,
    entity_text,
    parse_text,
    to_html,
    utf16_len,
)

PARSE = "Bad Request: can't parse entities: "


def refusal(text: str, mode: str | None, entities: list[dict[str, object]] | None = None) -> str:
    with pytest.raises(ApiError) as caught:
        parse_text(text, mode, entities)
    assert caught.value.code == 400
    return caught.value.description


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        ("<b>x</b>", "bold"),
        ("<strong>x</strong>", "bold"),
        ("<i>x</i>", "italic"),
        ("<em>x</em>", "italic"),
        ("<u>x</u>", "underline"),
        ("<ins>x</ins>", "underline"),
        ("<s>x</s>", "strikethrough"),
        ("<strike>x</strike>", "strikethrough"),
        ("<del>x</del>", "strikethrough"),
        ("<tg-spoiler>x</tg-spoiler>", "spoiler"),
        ('<span class="tg-spoiler">x</span>', "spoiler"),
        ("<code>x</code>", "code"),
        ("<pre>x</pre>", "pre"),
        ("<blockquote>x</blockquote>", "blockquote"),
        ("<blockquote expandable>x</blockquote>", "expandable_blockquote"),
        ("<B>x</B>", "bold"),
    ],
)
def test_html_tag_gives_its_entity(html: str, kind: str) -> None:
    """Each supported HTML tag becomes its entity over the enclosed text."""
    assert parse_text(html, "HTML", None) == ("x", [Entity(kind, 0, 1)])


@pytest.mark.parametrize(
    ("html", "entity"),
    [
        (
            '<a href="https://example.com/a?b=1">x</a>',
            Entity("text_link", 0, 1, url="https://example.com/a?b=1"),
        ),
        ("<a href=example.com>x</a>", Entity("text_link", 0, 1, url="http://example.com/")),
        (
            '<a href="tg://resolve?domain=news">x</a>',
            Entity("text_link", 0, 1, url="tg://resolve?domain=news"),
        ),
        ('<a href="tg://user?id=42">x</a>', Entity("text_mention", 0, 1, user_id=42)),
        (
            '<pre><code class="language-python">x</code></pre>',
            Entity("pre", 0, 1, language="python"),
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">x</tg-emoji>',
            Entity("custom_emoji", 0, 1, custom_emoji_id="5368324170671202286"),
        ),
    ],
)
def test_html_tag_with_argument(html: str, entity: Entity) -> None:
    """Links, mentions, languages and custom emoji carry their argument as Telegram stores it."""
    assert parse_text(html, "html", None) == ("x", [entity])


def test_html_link_without_valid_url_is_dropped() -> None:
    """An <a> whose href Telegram cannot use leaves plain text, not an error."""
    assert parse_text('<a href="nodot">x</a>', "HTML", None) == ("x", [])


def test_html_nested_tags() -> None:
    """Nested tags nest their entities, ordered by offset then length."""
    text, entities = parse_text("<b>bo<i>th</i></b> <u>u</u>", "HTML", None)
    assert text == "both u"
    assert entities == [Entity("bold", 0, 4), Entity("italic", 2, 2), Entity("underline", 5, 1)]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("a &lt;b&gt; &amp; &quot;c&quot;", 'a <b> & "c"'),
        ("&#65;&#x42;&#x1F600;", "AB\U0001f600"),
        ("&copy; &nbsp; &unknown;", "&copy; &nbsp; &unknown;"),
        ("&lt", "<"),
        ("&#0;", "&#0;"),
    ],
)
def test_html_character_references(html: str, text: str) -> None:
    """Only &lt; &gt; &amp; &quot; and numeric references are decoded; others stay as typed."""
    assert parse_text(html, "HTML", None)[0] == text


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<abac>", 'Unsupported start tag "abac" at byte offset 13'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("é<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        (
            "&#xDFDF;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_html_errors_match_telegram(html: str, error: str) -> None:
    """Broken HTML is refused with Telegram's text and the UTF-8 byte offset of the fault."""
    assert refusal(html, "HTML") == PARSE + error


def test_html_utf16_offsets_count_emoji_twice() -> None:
    """Offsets and lengths count characters outside the BMP as two UTF-16 units."""
    text, entities = parse_text("🏟 🏟<i>🏟 &lt;🏟</i>", "HTML", None)
    assert text == "🏟 🏟🏟 <🏟"
    assert entities == [Entity("italic", 5, 6)]
    assert entity_text(text, entities[0]) == "🏟 <🏟"


def test_html_empty_entities_are_dropped() -> None:
    """A tag around nothing gives no entity."""
    assert parse_text("a<b></b>c", "HTML", None) == ("ac", [])


def test_pre_wraps_code_without_language_keeps_only_pre() -> None:
    """<pre><code> without a language is a plain pre block."""
    assert parse_text("<pre><code>x</code></pre>", "HTML", None) == ("x", [Entity("pre", 0, 1)])


def test_bold_is_split_around_code() -> None:
    """Telegram never makes code bold: the bold span is cut around it."""
    text, entities = parse_text("<b>a<code>b</code>c</b>", "HTML", None)
    assert text == "abc"
    assert entities == [Entity("bold", 0, 1), Entity("code", 1, 1), Entity("bold", 2, 1)]


def test_whitespace_is_trimmed_and_entities_follow() -> None:
    """Leading and trailing spaces and newlines are trimmed, entities shift with the text."""
    assert parse_text("  <b> bold</b> text \n ", "HTML", None) == (
        "bold text",
        [Entity("bold", 0, 4)],
    )


def test_whitespace_only_text_comes_back_empty() -> None:
    """A text of spaces has nothing for a reader; the caller decides whether that is allowed."""
    assert parse_text(" \n ", None, None) == ("", [])


def test_control_characters_become_spaces_and_cr_goes() -> None:
    """Tabs and other control characters turn into spaces; carriage returns vanish."""
    assert parse_text("a\tb\r\nc", None, None) == ("a b\nc", [])


@pytest.mark.parametrize(
    ("mode"),
    ["HTML", "html", "MarkdownV2", "markdownv2", "Markdown", "MARKDOWN"],
)
def test_parse_mode_is_case_insensitive(mode: str) -> None:
    """Parse mode names are matched regardless of case."""
    assert parse_text("plain", mode, None) == ("plain", [])


def test_unknown_parse_mode_is_refused() -> None:
    """An unknown parse mode is refused with Telegram's text."""
    assert refusal("x", "BBCode") == "Bad Request: unsupported parse_mode"


def test_parse_mode_none_uses_entities() -> None:
    """The parse mode "None" means no markup: the entities array is used instead."""
    entities = [{"type": "bold", "offset": 0, "length": 1}]
    assert parse_text("<b", "None", entities) == ("<b", [Entity("bold", 0, 1)])


@pytest.mark.parametrize(
    ("markdown", "text", "entities"),
    [
        ("*b*", "b", [Entity("bold", 0, 1)]),
        ("_i_", "i", [Entity("italic", 0, 1)]),
        ("__u__", "u", [Entity("underline", 0, 1)]),
        ("~s~", "s", [Entity("strikethrough", 0, 1)]),
        ("||p||", "p", [Entity("spoiler", 0, 1)]),
        ("`c`", "c", [Entity("code", 0, 1)]),
        ("```\nx```", "x", [Entity("pre", 0, 1)]),
        ("```py\nx```", "x", [Entity("pre", 0, 1, language="py")]),
        ("[t](http://a.org)", "t", [Entity("text_link", 0, 1, url="http://a.org/")]),
        ("[t](tg://user?id=7)", "t", [Entity("text_mention", 0, 1, user_id=7)]),
        (
            "![👍](tg://emoji?id=5368324170671202286)",
            "👍",
            [Entity("custom_emoji", 0, 2, custom_emoji_id="5368324170671202286")],
        ),
        (">quote", "quote", [Entity("blockquote", 0, 5)]),
        (">a\n>b\nc", "a\nb\nc", [Entity("blockquote", 0, 4)]),
        (">a\n>b||", "a\nb", [Entity("expandable_blockquote", 0, 3)]),
        ("🏟 🏟_🏟 *🏟*_", "🏟 🏟🏟 🏟", [Entity("italic", 5, 5), Entity("bold", 8, 2)]),
        ("a\\.b\\!", "a.b!", []),
        ("`a.b`", "a.b", [Entity("code", 0, 3)]),
    ],
)
def test_markdown_v2(markdown: str, text: str, entities: list[Entity]) -> None:
    """MarkdownV2 marks give their entities; escaped characters are kept literally."""
    assert parse_text(markdown, "MarkdownV2", None) == (text, entities)


@pytest.mark.parametrize("char", list("]()>#+-=|{}.!"))
def test_markdown_v2_reserved_characters_need_escaping(char: str) -> None:
    """Each reserved character must be escaped, and is accepted once escaped."""
    expected = f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    assert refusal(f"a{char}", "MarkdownV2") == PARSE + expected
    assert parse_text(f"a\\{char}", "MarkdownV2", None) == (f"a{char}", [])


@pytest.mark.parametrize(
    ("markdown", "error"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__", "Can't find end of Underline entity at byte offset 9"),
        ("🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"),
        ("[telegram\\.org](asd", "Can't find end of a URL at byte offset 16"),
        ("🏟 🏟![👍]", "Custom emoji entity must contain a tg://emoji URL"),
        ("🏟 🏟![👍](tg://emoji?id=1234", "Can't find end of a custom emoji URL at byte offset 17"),
        ("🏟 🏟![👍](t://emoji?id=1234)", "Custom emoji URL must have scheme tg"),
        ("🏟 🏟![👍](tg:emojis?id=1234)", 'Custom emoji URL must have host "emoji"'),
        ("🏟 🏟![👍](tg://emoji#test)", "Custom emoji URL must have an emoji identifier"),
        ("🏟 🏟![👍](tg://emoji?test=1231&id=025)", "Invalid custom emoji identifier specified"),
        (">*b\n>ld \n>bo\nld*\nasd\ndef", "Can't find end of Bold entity at byte offset 1"),
        ("a>b", "Character '>' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_markdown_v2_errors_match_telegram(markdown: str, error: str) -> None:
    """Broken MarkdownV2 is refused with Telegram's texts and UTF-8 byte offsets."""
    assert refusal(markdown, "MarkdownV2") == PARSE + error


@pytest.mark.parametrize(
    ("markdown", "text", "entities"),
    [
        ("*b* _i_", "b i", [Entity("bold", 0, 1), Entity("italic", 2, 1)]),
        ("`c`", "c", [Entity("code", 0, 1)]),
        ("```js\nx```", "x", [Entity("pre", 0, 1, language="js")]),
        ("[t](https://a.org/p)", "t", [Entity("text_link", 0, 1, url="https://a.org/p")]),
        ("a.b! \\*", "a.b! *", []),
    ],
)
def test_legacy_markdown(markdown: str, text: str, entities: list[Entity]) -> None:
    """Legacy Markdown knows bold, italic, code, pre and links, and nothing is reserved."""
    assert parse_text(markdown, "Markdown", None) == (text, entities)


def test_legacy_markdown_unclosed_entity() -> None:
    """An unclosed legacy mark reports the byte offset where it starts."""
    expected = "Can't find end of the entity starting at byte offset 3"
    assert refusal("é *bold", "Markdown") == PARSE + expected


def test_explicit_entities_are_read_and_validated() -> None:
    """An entities array becomes Entity values; detected types a bot sends are ignored."""
    sent = [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 3, "length": 2, "url": "https://ex.org"},
        {"type": "text_mention", "offset": 6, "length": 1, "user": {"id": 9, "first_name": "A"}},
        {"type": "mention", "offset": 0, "length": 1},
    ]
    assert parse_text("ab cd e", None, sent) == (
        "ab cd e",
        [
            Entity("bold", 0, 2),
            Entity("text_link", 3, 2, url="https://ex.org/"),
            Entity("text_mention", 6, 1, user_id=9),
        ],
    )


@pytest.mark.parametrize(
    ("entity", "error"),
    [
        ({"offset": 0, "length": 1}, "can't parse MessageEntity: Can't find field \"type\""),
        ({"type": "bold", "length": 1}, "can't parse MessageEntity: Can't find field \"offset\""),
        (
            {"type": "", "offset": 0, "length": 1},
            "can't parse MessageEntity: Type is not specified",
        ),
        (
            {"type": "blink", "offset": 0, "length": 1},
            "can't parse MessageEntity: Unsupported type specified",
        ),
        (
            {"type": "text_link", "offset": 0, "length": 1},
            "can't parse MessageEntity: Can't find field \"url\"",
        ),
        (
            {"type": "text_mention", "offset": 0, "length": 1},
            "can't parse MessageEntity: Can't find field \"user\"",
        ),
        (
            {"type": "bold", "offset": "x", "length": 1},
            "can't parse MessageEntity: Can't parse \"x\" as number",
        ),
        (
            {"type": "bold", "offset": 0, "length": 9},
            "entity beginning at UTF-16 offset 0 ends after the end of the text "
            "at UTF-16 offset 9",
        ),
        (
            {"type": "bold", "offset": 7, "length": 1},
            "entity begins after the end of the text at UTF-16 offset 7",
        ),
        (
            {"type": "bold", "offset": 1, "length": 1},
            "entity begins in a middle of a UTF-16 symbol at byte offset 4",
        ),
    ],
)
def test_explicit_entity_errors(entity: dict[str, object], error: str) -> None:
    """Malformed or misplaced entities are refused with the Bot API's texts."""
    assert refusal("😀ab", None, [entity]) == "Bad Request: " + error


def test_empty_explicit_entity_is_dropped() -> None:
    """A zero-length entity is dropped even where it would not fit the text."""
    assert parse_text("ab", None, [{"type": "bold", "offset": 9, "length": 0}]) == ("ab", [])


def test_entity_to_api_omits_missing_fields() -> None:
    """to_api gives MessageEntity JSON without empty fields, and a User for mentions."""
    assert Entity("bold", 1, 2).to_api() == {"type": "bold", "offset": 1, "length": 2}
    assert Entity("text_mention", 0, 1, user_id=5).to_api(
        {5: {"id": 5, "is_bot": False, "first_name": "Ann"}}
    ) == {
        "type": "text_mention",
        "offset": 0,
        "length": 1,
        "user": {"id": 5, "is_bot": False, "first_name": "Ann"},
    }


def test_entity_from_api_round_trips_to_api() -> None:
    """entity_from_api reads back what to_api writes."""
    entity = Entity("pre", 2, 3, language="python")
    assert entity_from_api(entity.to_api()) == entity


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("/start", [("bot_command", "/start")]),
        ("go /start@news_bot now", [("bot_command", "/start@news_bot")]),
        ("a/b", []),
        ("hi @reader", [("mention", "@reader")]),
        ("@abcd", [("mention", "@abcd")]),
        ("@ab", []),
        ("mail@reader.com", [("email", "mail@reader.com")]),
        ("#news and #2024", [("hashtag", "#news")]),
        ("$USD", [("cashtag", "$USD")]),
        ("see https://example.com/a?b=c.", [("url", "https://example.com/a?b=c")]),
        ("see example.com/path", [("url", "example.com/path")]),
        ("file.txt", []),
        ("news.bbc.co.uk", [("url", "news.bbc.co.uk")]),
        ("tg://resolve?domain=x", [("url", "tg://resolve?domain=x")]),
        ("😀 @reader", [("mention", "@reader")]),
    ],
)
def test_detect_entities(text: str, found: list[tuple[str, str]]) -> None:
    """Telegram finds commands, mentions, hashtags, links and e-mails in a user's text."""
    entities = detect_entities(text)
    assert [(e.type, entity_text(text, e)) for e in entities] == found


def test_detected_entities_join_parsed_ones() -> None:
    """Links Telegram detects appear beside the bot's formatting, splitting bold around them."""
    text, entities = parse_text("<b>see example.com</b>", "HTML", None)
    assert entities == [Entity("bold", 0, 4), Entity("url", 4, 11), Entity("bold", 4, 11)]
    assert entity_text(text, entities[1]) == "example.com"


def test_utf16_len_counts_surrogate_pairs() -> None:
    """utf16_len counts characters outside the BMP as two units."""
    assert utf16_len("a😀é") == 4


@pytest.mark.parametrize(
    "html",
    [
        "<b>bold</b> and <i>italic</i> &lt;tag&gt; &amp; more",
        '<b>a<i>b</i></b>c <a href="https://example.com/">link</a>',
        '😀 <u>under</u> <s>gone</s> <tg-spoiler>hidden</tg-spoiler> <a href="tg://user?id=7">Ann</a>',
        '<pre><code class="language-python">print(1 &lt; 2)</code></pre>',
        "<blockquote>quoted <b>bold</b></blockquote>\n<blockquote expandable>long</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> <code>x</code>',
    ],
)
def test_to_html_round_trips(html: str) -> None:
    """Rendering a parsed message and parsing it again gives the same text and entities."""
    parsed = parse_text(html, "HTML", None)
    assert parse_text(to_html(*parsed), "HTML", None) == parsed


def test_to_html_escapes_and_reopens_overlaps() -> None:
    """to_html escapes text and closes and reopens tags around partial overlaps."""
    rendered = to_html("a<b&c", [Entity("bold", 0, 3), Entity("italic", 2, 3)])
    assert rendered == "<b>a&lt;<i>b</i></b><i>&amp;c</i>"
