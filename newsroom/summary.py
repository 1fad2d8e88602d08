"""Key points and reading time: an extractive summary computed from the body, no model needed.

Scoring rule: each sentence scores the mean frequency of its content words (stop words dropped,
frequencies over the whole body, scaled to the most frequent word) times the square root of how
many content words it has, times a lead weight falling linearly from 1.5 for the first sentence to
1.0 for the last. The best `count` sentences win, ties going to the earlier one, and come back in
reading order. Headings and very short sentences only compete when too few others remain.
"""

import math
import re
from dataclasses import replace
from functools import lru_cache

from newsroom.article import ArticleDraft
from newsroom.plaintext import split_paragraphs

WORDS_PER_MINUTE = 230
DEFAULT_KEY_POINTS = 3
# A key point of a handful of words ("He agreed.") says little out of context.
MIN_KEY_POINT_WORDS = 6
LEAD_WEIGHT = 0.5

# Words that end in a period without ending a sentence when a capital follows ("Dr. Okafor").
_TITLES = frozenset(
    # A word list reads best as one string of words.
    "mr mrs ms mx dr prof sr jr st mt ft gen gov sen rep lt col capt sgt maj adm cmdr rev hon "  # noqa: SIM905
    "pres supt insp det vs jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# "No." abbreviates "number" only when a numeral follows ("No. 10 Downing Street").
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "vol", "p", "pp", "art", "fig"})
_DOTTED_ACRONYM = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")
_OPENING_MARKS = "\"'\u201c\u2018([\u00ab"
_CLOSING_MARKS = "\"'\u201d\u2019)]\u00bb"
_TERMINAL = ".!?\u2026:"
_WORD = re.compile(r"[^\W_]+(?:['\u2019.\-][^\W_]+)*")
_STOP_WORDS = frozenset(
    # A word list reads best as one string of words.
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own said same says she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    one two new year years time told may might must many much per via""".split()  # noqa: SIM905
)


def split_sentences(text: str) -> list[str]:
    """The sentences of `text` in order; paragraph breaks always end a sentence.

    A full stop, question mark, exclamation mark or ellipsis (with any closing quotes) ends a
    sentence when whitespace and a capital letter or digit follow, except after a title such as
    "Dr.", a dotted acronym such as "U.S." or a single initial, and "No." before a number.
    Decimals like "3.5" never split because no space follows the point.
    """
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        sentences.extend(_paragraph_sentences(paragraph))
    return sentences


def _paragraph_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph already on one line (see split_sentences)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        if _ends_sentence(paragraph, match):
            sentences.append(paragraph[start : match.end()].strip())
            start = match.end()
    if tail := paragraph[start:].strip():
        sentences.append(tail)
    return sentences


# Asked twice per page on its way in (extraction, then ingest), like key_points below.
@lru_cache(maxsize=32)
def reading_minutes(body: str) -> int:
    """Minutes to read the body at about 230 words a minute, rounded, at least one."""
    words = len(_WORD.findall(body))
    return max(1, math.floor(words / WORDS_PER_MINUTE + 0.5))


# A page is summarised up to three times on its way in (extraction, ingest, publishing).
@lru_cache(maxsize=32)
def key_points(body: str, *, count: int = DEFAULT_KEY_POINTS) -> tuple[str, ...]:
    """The `count` sentences that best summarise the body, in reading order (see module rule)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    sentences: list[str] = []
    eligible: list[int] = []
    words: list[list[str]] = []
    # Each distinct word's content form, worked out once per body: news prose repeats its words.
    forms: dict[str, str] = {}
    for paragraph in split_paragraphs(body):
        is_heading = paragraph.rstrip(_CLOSING_MARKS)[-1:] not in _TERMINAL
        for sentence in _paragraph_sentences(paragraph):
            found = _WORD.findall(sentence)
            if not is_heading and len(found) >= MIN_KEY_POINT_WORDS:
                eligible.append(len(sentences))
            sentences.append(sentence)
            words.append(_content_words(found, forms))
    if len(eligible) < count:
        eligible = list(range(len(sentences)))
    frequency: dict[str, int] = {}
    for sentence_words in words:
        for word in sentence_words:
            frequency[word] = frequency.get(word, 0) + 1
    top = max(frequency.values(), default=1)
    last = max(len(sentences) - 1, 1)

    def score(index: int) -> float:
        # Summed in the sentence's own word order so the float result never depends on hashing.
        distinct = list(dict.fromkeys(words[index]))
        if not distinct:
            return 0.0
        mean = sum(frequency[word] for word in distinct) / (top * len(distinct))
        lead = 1.0 + LEAD_WEIGHT * (1 - index / last)
        return mean * math.sqrt(len(distinct)) * lead

    chosen: list[int] = []
    seen: set[str] = set()
    for index in sorted(eligible, key=lambda index: (-score(index), index)):
        normalised = " ".join(words[index]) or sentences[index].casefold()
        if normalised in seen:
            continue
        seen.add(normalised)
        chosen.append(index)
        if len(chosen) == count:
            break
    return tuple(sentences[index] for index in sorted(chosen))


def summarised(draft: ArticleDraft, *, count: int = DEFAULT_KEY_POINTS) -> ArticleDraft:
    """The draft with reading time and key points filled, keeping key points the article gave."""
    points = draft.key_points if draft.summary_given else key_points(draft.body, count=count)
    minutes = reading_minutes(draft.body)
    if points == draft.key_points and minutes == draft.reading_minutes:
        # Already summarised (pages are, on their way in): skip re-validating the draft.
        return draft
    return replace(draft, key_points=points, reading_minutes=minutes)


def _ends_sentence(paragraph: str, match: re.Match[str]) -> bool:
    following = paragraph[match.end() :].lstrip(_OPENING_MARKS)[:1]
    if not (following.isupper() or following.isdigit()):
        return False
    punctuation = match.group().rstrip().rstrip(_CLOSING_MARKS)
    if punctuation != ".":
        return True
    before = paragraph[: match.start()].rsplit(maxsplit=1)
    word = before[-1].lstrip(_OPENING_MARKS) if before else ""
    lowered = word.casefold()
    if lowered in _TITLES or _DOTTED_ACRONYM.match(word):
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial, as in "J. Smith"
    return not (lowered in _NUMBER_ABBREVIATIONS and following.isdigit())


def _content_words(found: list[str], forms: dict[str, str]) -> list[str]:
    """The sentence's words (as `_WORD` found them) that carry content, in their compared form.

    `forms` remembers each word's form ("" for a stop word) across the sentences of a body.
    """
    content: list[str] = []
    for word in found:
        form = forms.get(word)
        if form is None:
            form = forms[word] = _content_form(word)
        if form:
            content.append(form)
    return content


def _content_form(word: str) -> str:
    """The word casefolded without a possessive 's, or "" for a stop word or a lone letter."""
    form = word.casefold()
    if form.endswith("'s"):
        form = form[:-2]
    if form.endswith("\u2019s"):
        form = form[:-2]
    return form if form not in _STOP_WORDS and (len(form) > 1 or form.isdigit()) else ""
