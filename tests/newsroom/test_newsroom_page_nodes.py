"""Finding labels such as "Also read" in a page's text nodes whatever their case."""

import re
import sys

from newsroom.article import RelatedLink
from newsroom.page_nodes import folded
from newsroom.webpage import extract_article


def _positions(pattern: str, text: str, flags: int = 0) -> set[int]:
    return {match.start() for match in re.finditer(pattern, text, flags)}


def test_folding_maps_exactly_the_characters_ignorecase_takes_for_ascii_letters() -> None:
    """Every character re.IGNORECASE matches to an ASCII letter folds to it; no other one does."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    folded_everything = folded(everything)

    assert len(folded_everything) == len(everything)
    letters = _positions("[a-z]", everything, re.IGNORECASE)
    assert _positions("[a-z]", folded_everything) == letters
    assert all(
        re.fullmatch(folded_everything[index], everything[index], re.IGNORECASE)
        for index in letters
    )
    assert _positions(r"\s", folded_everything) == _positions(r"\s", everything)


def test_labels_in_any_case_give_their_links() -> None:
    """Upper-case labels, the long s and the dotted capital I still mark related links."""
    html = """<html><head><title>Ferry</title>
    <link rel="canonical" href="https://news.example/ferry"></head><body><article>
    <h1>Ferry returns</h1><p>The harbour ferry runs again from Monday.</p>
    <p>Tickets cost the same as last winter, the council said.</p>
    <p>ALSO READ: <a href="/bridge">Bridge repairs finish early</a></p>
    <p>\u017fee al\u017fo <a href="/market">Market moves to the quay</a></p>
    <h2>MORE STOR\u0130ES</h2><ul><li><a href="/library">Library opens late</a></li></ul>
    </article></body></html>"""

    draft = extract_article(html, url="https://news.example/ferry")

    assert draft.related == (
        RelatedLink(title="Bridge repairs finish early", url="https://news.example/bridge"),
        RelatedLink(title="Market moves to the quay", url="https://news.example/market"),
        RelatedLink(title="Library opens late", url="https://news.example/library"),
    )
    assert draft.paragraphs == (
        "The harbour ferry runs again from Monday.",
        "Tickets cost the same as last winter, the council said.",
    )
