"""The reader poll of a web page: a poll widget's question and options, or a bare question.

Rule: a widget is the outermost element whose class or id mentions "poll" (or Crowdsignal's
"pds-box"), holding no <h1> or <article>. Its options are the labels of its radio or check
boxes, else the texts of its "answer" / "option" / "choice" elements; its question is the first
legend, "question" or "title" element, heading or paragraph that is not an option, preferring
one ending in "?". Without a widget, a line such as "Total votes: 166" marks a question: the
nearest text before it, if it ends in "?". A question without options gets Yes / No / Not sure.
The poll leaves the body either way; a poll Telegram could not show is dropped.
"""

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from newsroom.article import DEFAULT_POLL_OPTIONS, MAX_POLL_QUESTION_CHARS, PollDraft
from newsroom.errors import IngestError
from newsroom.page_nodes import (
    class_and_id,
    climbable,
    element_of,
    is_inside,
    preceding_siblings,
    remove_all,
    text_nodes_matching,
    text_of,
    widest_with_same_text,
)

_WIDGET = re.compile(r"poll|pds-box|pdi_container")
_MAX_WIDGET_CHARS = 3000
_TOTAL_PHRASE = re.compile(r"total\s+vot")  # searched in folded text, see text_nodes_matching
_TOTAL_LINE = re.compile(r"\s*total\s+vot(?:es|ers)\s*:?\s*[\d,.\s]*", re.IGNORECASE)
# Buttons and links every poll plugin prints next to the answers.
_CONTROLS = frozenset(
    {"vote", "submit", "view results", "results", "show results", "see results", "back to vote"}
)
_QUESTION_SELECTORS = (
    'legend, [class*="question"], [class*="title"], h2, h3, h4, h5, h6, strong, b, p'
)
_OPTION_SELECTORS = '[class*="answer"], [class*="option"], [class*="choice"]'
_LEVELS = 3


def take_poll(tree: LexborHTMLParser) -> PollDraft | None:
    """The page's reader poll, removing it from the tree; None if there is none."""
    if tree.body is None:
        return None
    widgets = _widgets(tree.body)
    for widget in widgets:
        options = _options(widget)
        question = _question(widget, set(options))
        if question is not None:
            # Plugins print spinners and result panes beside the form: all of it leaves the body.
            remove_all(widgets)
            return _poll(question, tuple(options) or DEFAULT_POLL_OPTIONS)
    return _question_before_total(tree.body)


def _widgets(root: LexborNode) -> list[LexborNode]:
    widgets: list[LexborNode] = []
    for node in root.css("[class], [id]"):
        if node == root or not _WIDGET.search(class_and_id(node)):
            continue
        if any(is_inside(node, widget) for widget in widgets):
            continue
        if node.css_first("h1, article") is None and len(text_of(node)) <= _MAX_WIDGET_CHARS:
            widgets.append(node)
    return widgets


def _options(widget: LexborNode) -> list[str]:
    labels = {
        label.attributes.get("for"): label for label in widget.css("label[for]") if label != widget
    }
    found: list[str] = []
    for box in widget.css('input[type="radio"], input[type="checkbox"]'):
        label = labels.get(box.attributes.get("id")) or _enclosing_label(box, widget)
        holder = label or box.parent
        if holder is not None:
            found.append(text_of(holder))
    if not found:
        for node in widget.css(_OPTION_SELECTORS):
            nested = [inner for inner in node.css(_OPTION_SELECTORS) if inner != node]
            if node != widget and not nested:
                found.append(text_of(node))
    options: list[str] = []
    for text in found:
        if text and text.casefold() not in _CONTROLS and text not in options:
            options.append(text)
    return options


def _enclosing_label(box: LexborNode, widget: LexborNode) -> LexborNode | None:
    node = box.parent
    while node is not None and node != widget:
        if node.tag == "label":
            return node
        node = node.parent
    return None


def _question(widget: LexborNode, options: set[str]) -> str | None:
    candidates: list[str] = []
    for node in widget.css(_QUESTION_SELECTORS):
        if node == widget or node.css_first("input, label") is not None:
            continue
        text = text_of(node)
        if (
            text
            and text not in options
            and text.casefold() not in _CONTROLS
            and not _TOTAL_LINE.fullmatch(text)
            and len(text) <= MAX_POLL_QUESTION_CHARS
        ):
            candidates.append(text)
    questions = [text for text in candidates if text.endswith("?")]
    chosen = questions or candidates
    return chosen[0] if chosen else None


def _question_before_total(root: LexborNode) -> PollDraft | None:
    for text_node in list(text_nodes_matching(root, _TOTAL_PHRASE)):
        element = element_of(text_node)
        if element is None or not _TOTAL_LINE.fullmatch(text_of(element)):
            continue
        total = widest_with_same_text(element, _TOTAL_LINE)
        question = _nearest_text_before(total)
        if question is not None and text_of(question).endswith("?"):
            text = text_of(question)
            remove_all([question, total])
            return _poll(text, DEFAULT_POLL_OPTIONS)
    return None


def _nearest_text_before(node: LexborNode) -> LexborNode | None:
    current: LexborNode | None = node
    for _ in range(_LEVELS):
        if current is None:
            return None
        for sibling in preceding_siblings(current):
            if text_of(sibling):
                return sibling
        current = climbable(current)
    return None


def _poll(question: str, options: tuple[str, ...]) -> PollDraft | None:
    try:
        return PollDraft(question=question, options=options)
    except IngestError:
        return None  # a poll Telegram could not show; the article is still worth a card
