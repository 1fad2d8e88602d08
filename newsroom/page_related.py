"""The "Also read" and related-article links of a web page.

Rule: a block whose text starts with "Also read" (or "Read also", "See also") gives its links.
A label standing alone such as "Related Articles", "More stories" or "Read next" gives the links
in the blocks after it up to the next heading (moving up at most three levels when it stands
alone in its element). Any element whose class or id mentions "related" gives its links too.
Links to the article itself, links without words and "Read more" buttons are skipped; at most ten
are kept. Everything used leaves the body.
"""

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsroom.article import RelatedLink
from newsroom.errors import IngestError
from newsroom.page_nodes import (
    HEADINGS,
    class_and_id,
    climbable,
    element_of,
    following_siblings,
    is_element,
    is_inside,
    nearest_block,
    remove_all,
    text_nodes_matching,
    text_of,
    widest_with_same_text,
)
from newsroom.urls import resolve_url

MAX_RELATED = 10
# The phrases are searched in folded text (see text_nodes_matching): no re.IGNORECASE.
_ALSO_READ_PHRASE = re.compile(r"(?:also|see)\s+(?:read|also)|read\s+also")
_ALSO_READ = re.compile(
    r"^\s*(?:also\s+read|read\s+also|see\s+also)\b\s*[|:\-\u2013\u2014\u00bb>]*\s*",
    re.IGNORECASE,
)
_SECTION_PHRASE = re.compile(
    r"related|more\s|also\s+like|recommended|read\s+next|further\s+reading"
)
_SECTION_LABEL = re.compile(
    r"\s*(?:related(?:\s+(?:articles?|stories|posts|news|content|reading|coverage|reads))?"
    r"|more\s+(?:stories|news|on\s+this(?:\s+story)?|from\s+[\w\s]{1,40})"
    r"|you\s+(?:may|might)\s+also\s+like|recommended(?:\s+for\s+you|\s+reading)?"
    r"|read\s+next|further\s+reading)\s*:?\s*",
    re.IGNORECASE,
)
_NOT_TITLES = frozenset({"read more", "continue reading", "more", "see more", "view all", "next"})
_LEVELS = 3


def take_related(tree: LexborHTMLParser, *, base: str, own_url: str | None) -> list[RelatedLink]:
    """The page's related links in page order, removing their blocks from the tree."""
    if tree.body is None:
        return []
    anchors: list[LexborNode] = []
    used: list[LexborNode] = []
    for block in _also_read_blocks(tree.body):
        anchors.extend(block.css("a[href]"))
        used.append(block)
    for label, blocks in _labelled_sections(tree.body):
        anchors.extend(a for block in blocks for a in block.css("a[href]"))
        used.extend([label, *blocks])
    for section in _related_elements(tree.body):
        anchors.extend(section.css("a[href]"))
        used.append(section)
    links = _links(anchors, base=base, own_url=own_url)
    remove_all(used)
    return links


def _also_read_blocks(root: LexborNode) -> list[LexborNode]:
    blocks: list[LexborNode] = []
    for text_node in text_nodes_matching(root, _ALSO_READ_PHRASE):
        element = element_of(text_node)
        if element is None:
            continue
        block = nearest_block(element)
        if (
            _ALSO_READ.match(text_of(block))
            and block.css_first("a[href]") is not None
            and not any(block == seen for seen in blocks)
        ):
            blocks.append(block)
    return blocks


def _labelled_sections(root: LexborNode) -> list[tuple[LexborNode, list[LexborNode]]]:
    sections: list[tuple[LexborNode, list[LexborNode]]] = []
    for text_node in list(text_nodes_matching(root, _SECTION_PHRASE)):
        element = element_of(text_node)
        if element is None or not _SECTION_LABEL.fullmatch(text_of(element)):
            continue
        label = widest_with_same_text(element, _SECTION_LABEL)
        if blocks := _blocks_after(label):
            sections.append((label, blocks))
    return sections


def _blocks_after(label: LexborNode) -> list[LexborNode]:
    node: LexborNode | None = label
    for _ in range(_LEVELS):
        if node is None:
            break
        blocks: list[LexborNode] = []
        for sibling in following_siblings(node):
            if sibling.tag in HEADINGS:
                break
            if is_element(sibling) and sibling.css_first("a[href]") is not None:
                blocks.append(sibling)
        if blocks:
            return blocks
        node = climbable(node)
    return []


def _related_elements(root: LexborNode) -> list[LexborNode]:
    found: list[LexborNode] = []
    for node in root.css("[class], [id]"):
        if node == root or "related" not in class_and_id(node):
            continue
        if any(is_inside(node, seen) for seen in found) or node.css_first("h1") is not None:
            continue
        if node.css_first("a[href]") is not None:
            found.append(node)
    return found


def _links(anchors: list[LexborNode], *, base: str, own_url: str | None) -> list[RelatedLink]:
    links: dict[str, RelatedLink] = {}
    for anchor in anchors:
        url = resolve_url(anchor.attributes.get("href") or "", base=base)
        if url is None or url == own_url or url in links:
            continue
        title = _anchor_title(anchor)
        if title is None:
            continue
        try:
            links[url] = RelatedLink(title=title, url=url)
        except IngestError:
            continue
        if len(links) == MAX_RELATED:
            break
    return list(links.values())


def _anchor_title(anchor: LexborNode) -> str | None:
    text = _ALSO_READ.sub("", text_of(anchor))
    if not text:
        image = anchor.css_first("img[alt]")
        text = (image.attributes.get("alt") or "") if image else ""
        text = text or anchor.attributes.get("title") or ""
    text = text.strip()
    if len(text) < 3 or text.casefold() in _NOT_TITLES:
        return None
    return text
