"""Small questions asked of a parsed HTML tree: a node's text, block, siblings and ancestors."""

import re
from collections.abc import Iterator

from selectolax.lexbor import LexborNode

from newsroom.plaintext import one_line

TEXT = "-text"
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    }
)
_STOP_CLIMBING = frozenset({"body", "html", "-document"})
# The only characters besides I/i, K/k and S/s that re.IGNORECASE matches to i, k or s.
_ASCII_LOOKALIKES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})


def text_of(node: LexborNode) -> str:
    """The node's visible text on one line."""
    if node.tag == TEXT:
        return one_line(node.text(deep=False) or "")
    return one_line(node.text(deep=True, separator=" ") or "")


def is_element(node: LexborNode) -> bool:
    """True for element nodes, false for text and comment nodes."""
    return not (node.tag or "-").startswith("-")


def folded(text: str) -> str:
    """The text in lower case, with the few letters re.IGNORECASE also takes for i, k and s."""
    if text.isascii():
        return text.lower()
    return text.translate(_ASCII_LOOKALIKES).lower()


def text_nodes_matching(root: LexborNode, phrase: re.Pattern[str]) -> Iterator[LexborNode]:
    """Text nodes under `root` in which `phrase` occurs, whatever the case, in document order.

    `phrase` is lower-case words and whitespace (\\s), compiled without re.IGNORECASE: it is
    searched in the folded text, which finds exactly what re.IGNORECASE would, several times
    faster (this runs over every text node of every page ingested).
    """
    for node in root.traverse(include_text=True):
        if node.tag == TEXT and phrase.search(folded(node.text(deep=False) or "")):
            yield node


def element_of(node: LexborNode) -> LexborNode | None:
    """The node itself if it is an element, else the element holding it."""
    return node if is_element(node) else node.parent


def widest_with_same_text(node: LexborNode, pattern: re.Pattern[str]) -> LexborNode:
    """The outermost ancestor (or the node) whose whole text still matches `pattern` in full."""
    while (parent := node.parent) is not None and parent.tag not in _STOP_CLIMBING:
        if not pattern.fullmatch(text_of(parent)):
            break
        node = parent
    return node


def nearest_block(node: LexborNode) -> LexborNode:
    """The closest ancestor-or-self that is not an inline element."""
    while node.tag in INLINE_TAGS or node.tag == TEXT:
        parent = node.parent
        if parent is None or parent.tag in _STOP_CLIMBING:
            break
        node = parent
    return node


def climbable(node: LexborNode) -> LexborNode | None:
    """The node's parent, unless that is the body or above."""
    parent = node.parent
    return None if parent is None or parent.tag in _STOP_CLIMBING else parent


def following_siblings(node: LexborNode) -> Iterator[LexborNode]:
    """Siblings after the node, text nodes included, in order."""
    sibling = node.next
    while sibling is not None:
        yield sibling
        sibling = sibling.next


def preceding_siblings(node: LexborNode) -> Iterator[LexborNode]:
    """Siblings before the node, text nodes included, nearest first."""
    sibling = node.prev
    while sibling is not None:
        yield sibling
        sibling = sibling.prev


def is_inside(node: LexborNode, ancestor: LexborNode) -> bool:
    """True when `ancestor` is a strict ancestor of `node`."""
    parent = node.parent
    while parent is not None:
        if parent == ancestor:
            return True
        parent = parent.parent
    return False


def class_and_id(node: LexborNode) -> str:
    """The node's class and id attributes as one lower-case string."""
    attributes = node.attributes
    return f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()


def remove_all(nodes: list[LexborNode]) -> None:
    """Detach the nodes from the tree, each subtree once even when the list nests them."""
    # Decided before the first removal: a detached subtree must not be touched again.
    outermost: list[LexborNode] = []
    for node in nodes:
        if not any(node == other or is_inside(node, other) for other in outermost):
            outermost = [other for other in outermost if not is_inside(other, node)]
            outermost.append(node)
    for node in outermost:
        node.decompose()
