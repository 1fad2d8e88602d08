"""The "Did you know?" box of a web page: the label, and the text right after it.

Rule: find the label "Did you know?" standing alone (a heading, a <strong>, a <div> ...). The
fact is the inline text that follows it in the same element, else the next sibling block with
text; when the label is alone in its element, the search moves one level up (at most three).
A paragraph that starts with "Did you know?" and goes on counts too. The box leaves the body.
"""

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsroom.page_nodes import (
    HEADINGS,
    INLINE_TAGS,
    TEXT,
    climbable,
    element_of,
    following_siblings,
    nearest_block,
    remove_all,
    text_nodes_matching,
    text_of,
    widest_with_same_text,
)
from newsroom.plaintext import one_line

_PHRASE = re.compile(r"did\s+you\s+know")  # searched in folded text, see text_nodes_matching
_LABEL = re.compile(r"\s*did\s+you\s+know\s*[?:.!\u2026]*\s*", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*did\s+you\s+know\s*[?:\u2026!]+\s*", re.IGNORECASE)
_LEVELS = 3


def take_fact(tree: LexborHTMLParser) -> str | None:
    """The page's "Did you know?" fact, removing its box from the tree; None if there is none."""
    if tree.body is None:
        return None
    for text_node in list(text_nodes_matching(tree.body, _PHRASE)):
        element = element_of(text_node)
        if element is None:
            continue
        if _LABEL.fullmatch(text_of(element)):
            label = widest_with_same_text(element, _LABEL)
            found = _text_after(label)
            if found is not None:
                fact, consumed = found
                remove_all([label, *consumed])
                return fact
            continue
        block = nearest_block(element)
        text = text_of(block)
        if (prefix := _PREFIX.match(text)) and (fact := text[prefix.end() :].strip()):
            remove_all([block])
            return fact
    return None


def _text_after(label: LexborNode) -> tuple[str, list[LexborNode]] | None:
    node: LexborNode | None = label
    for _ in range(_LEVELS):
        if node is None:
            return None
        inline: list[LexborNode] = []
        for sibling in following_siblings(node):
            if sibling.tag == TEXT or sibling.tag in INLINE_TAGS:
                inline.append(sibling)
                continue
            if text := one_line(" ".join(text_of(part) for part in inline)):
                return text, inline
            if sibling.tag in HEADINGS:
                return None  # the next section starts: this label has no fact
            if text := text_of(sibling):
                return text, [sibling]
        if text := one_line(" ".join(text_of(part) for part in inline)):
            return text, inline
        node = climbable(node)
    return None
