"""The article text of a web page, as plain paragraphs with section headings kept.

Rule: the container is, of all elements matching [itemprop=articleBody], article, main,
[role=main] or a common CMS content class, the one holding the most paragraph (<p>) text; while
a container nested inside it holds at least 70% of that text, the nested one wins (the story sits
inside main, next to teasers). No container: the whole body. Inside it, navigation, figures,
forms, asides, headers, footers and elements whose class or id names sharing, comments, ads,
bylines or captions are dropped; every block element then gives one paragraph, headings
(h2-h6) included and the h1 (the title) left out.
"""

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsroom.page_nodes import INLINE_TAGS, TEXT, class_and_id, is_inside, remove_all, text_of
from newsroom.plaintext import one_line

_CONTAINERS = (
    '[itemprop="articleBody"], article, main, [role="main"], .entry-content, .post-content, '
    ".article-body, .article-content, .story-body"
)
_NESTED_SHARE = 0.7
_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "form",
        "button",
        "nav",
        "aside",
        "header",
        "footer",
        "figure",
        "figcaption",
        "picture",
        "img",
        "svg",
        "video",
        "audio",
        "canvas",
        "object",
        "embed",
        "select",
        "input",
        "label",
        "textarea",
        "dialog",
        "menu",
        "h1",
    }
)
# Matched at the start of a class or id token: "comments-area", "author-box", "wp-caption".
_BOILERPLATE = re.compile(
    r"(?:^|\s)(?:[\w-]*caption|share|sharing|social|newsletter|subscribe|advert|ads?(?:$|[\s_-])"
    r"|ad-|promo|comment|byline|author|breadcrumb|tags(?:$|[\s_-])|read-?time|reading-?time"
    r"|post-meta|entry-meta|meta(?:$|[\s_-])|cookie|paywall|sponsor)"
)


def article_paragraphs(tree: LexborHTMLParser) -> list[str]:
    """The paragraphs of the article text in reading order (see the module rule)."""
    root = tree.body
    if root is None:
        return []
    container = _container(root)
    remove_all(
        [
            node
            for node in container.css("[class], [id], [hidden], [aria-hidden='true']")
            if node != container and _is_boilerplate(node)
        ]
    )
    paragraphs: list[str] = []
    _walk(container, paragraphs, [])
    return paragraphs


def _container(root: LexborNode) -> LexborNode:
    candidates = [(node, _paragraph_chars(node)) for node in root.css(_CONTAINERS)]
    if not candidates:
        return root
    best, best_chars = max(candidates, key=lambda pair: pair[1])  # max keeps the first of ties
    if best_chars == 0:
        return root
    while True:
        nested = [
            (node, chars)
            for node, chars in candidates
            if chars >= _NESTED_SHARE * best_chars and is_inside(node, best)
        ]
        if not nested:
            return best
        best, best_chars = max(nested, key=lambda pair: pair[1])


def _paragraph_chars(node: LexborNode) -> int:
    return sum(len(text_of(paragraph)) for paragraph in node.css("p"))


def _is_boilerplate(node: LexborNode) -> bool:
    attributes = node.attributes
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    return bool(_BOILERPLATE.search(class_and_id(node)))


def _walk(node: LexborNode, paragraphs: list[str], line: list[str]) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == TEXT:
            line.append(child.text(deep=False) or "")
        elif tag is None or tag.startswith("-") or tag in _SKIP_TAGS:
            continue
        elif tag == "br":
            line.append(" ")
        elif tag in INLINE_TAGS:
            _walk(child, paragraphs, line)
        else:
            _flush(paragraphs, line)
            _walk(child, paragraphs, line)
            _flush(paragraphs, line)


def _flush(paragraphs: list[str], line: list[str]) -> None:
    if text := one_line("".join(line)):
        paragraphs.append(text)
    line.clear()
