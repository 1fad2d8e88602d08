"""Ingest: pages per second for extraction plus summary of a 2,000-word article.

A news page is generated (headline, byline, standfirst, navigation and footer boilerplate,
``words`` words of body in paragraphs, related links) and saved as .html files; the measured
step is what `/publish` does with a page: `newsroom.ingest` (read, extract, key points and
reading time). No network: a download's time is not part of the figure.

    python -m benchmarks.ingest --pages 300 --words 2000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from html import escape
from pathlib import Path

from benchmarks.harness import print_json
from newsroom.ingest import ingest

# Word lists read best as one string of words.
_VOCABULARY = (  # noqa: SIM905
    "council harbour ferry residents budget repair volunteers allotment coast weather road "
    "school bus market library river bridge tenants mayor report plan vote winter summer "
    "transport energy housing museum festival station night service cafe garden water"
).split()
_GLUE = "the a of to and in on for with by from that this".split()  # noqa: SIM905


def _sentence(pick: random.Random) -> str:
    length = pick.randint(12, 24)
    words = [pick.choice(_VOCABULARY if n % 2 else _GLUE) for n in range(length)]
    return " ".join(words).capitalize() + "."


def article_page(words: int, *, seed: int) -> str:
    """A news page with about `words` words of body text, boilerplate around it."""
    pick = random.Random(seed)
    paragraphs: list[str] = []
    count = 0
    while count < words:
        paragraph = " ".join(_sentence(pick) for _ in range(pick.randint(3, 6)))
        count += len(paragraph.split())
        paragraphs.append(f"<p>{escape(paragraph)}</p>")
    body = "\n".join(paragraphs)
    related = "".join(
        f'<li><a href="/news/story-{seed}-{n}">Related story {n}</a></li>' for n in range(5)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour ferry returns for the winter {seed} | The Coast Courier</title>
<meta property="og:title" content="Harbour ferry returns for the winter {seed}">
<meta property="og:site_name" content="The Coast Courier">
<meta name="author" content="Sam Reporter">
<link rel="canonical" href="https://news.example/2026/ferry-{seed}">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Harbour ferry returns for the winter {seed}</h1>
<p class="byline">By Sam Reporter</p>
<time datetime="2026-11-02T08:00:00Z">2 November 2026</time>
{body}
<aside><h2>Also read</h2><ul>{related}</ul></aside>
</article>
<footer><p>Copyright The Coast Courier. All rights reserved.</p></footer>
</body></html>"""


async def measure(*, pages: int, words: int) -> dict[str, float]:
    """Ingest `pages` distinct saved pages (no cache can help); pages per second."""
    with tempfile.TemporaryDirectory() as folder:
        sources = [Path(folder) / f"page-{seed}.html" for seed in range(pages + 1)]
        for seed, path in enumerate(sources):
            path.write_text(article_page(words, seed=seed), encoding="utf-8")
        body_words = len((await ingest(str(sources[-1]))).body.split())
        started = time.perf_counter()
        for source in sources[:pages]:
            await ingest(str(source))
        elapsed = time.perf_counter() - started
    return {
        "pages": pages,
        "words": body_words,
        "seconds": elapsed,
        "pages_per_second": pages / elapsed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--words", type=int, default=2000)
    options = parser.parse_args(argv)
    print_json(asyncio.run(measure(pages=options.pages, words=options.words)))


if __name__ == "__main__":
    main()
