"""The single entry point: each kind of source becomes a finished draft, or a clear error."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from newsroom_site import LocalSite

from newsroom.errors import IngestError
from newsroom.feeds import FeedItem
from newsroom.ingest import ingest, ingest_feed_item

EXAMPLES = Path(__file__).parents[2] / "examples" / "articles"


async def test_markdown_file_becomes_a_finished_draft() -> None:
    """A .md file gives a draft with key points and reading time filled."""
    draft = await ingest(str(EXAMPLES / "kestrel-coast-night-ferry.md"))

    assert draft.title == "Kestrel Coast Night Ferry to Run All Year After Summer Trial"
    assert len(draft.key_points) == 3
    assert draft.reading_minutes == 1


async def test_saved_html_page_becomes_a_draft(fixtures_dir: Path) -> None:
    """A saved .html page is extracted like a fetched one."""
    draft = await ingest(str(fixtures_dir / "seed_shaped.html"))

    assert draft.author == "Riverside Desk"
    assert draft.reading_minutes == 3


async def test_web_address_is_fetched_with_the_given_client(
    site: LocalSite, http: httpx.AsyncClient
) -> None:
    """An http(s) address is fetched and extracted, with as many key points as asked."""
    draft = await ingest(site.url("/article"), client=http, summary_sentences=2)

    assert draft.title == "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"
    assert len(draft.key_points) == 2


async def test_given_key_points_survive_the_summary_count() -> None:
    """An article's own key points are kept whatever count is asked."""
    draft = await ingest(str(EXAMPLES / "eastfield-allotments.md"), summary_sentences=1)

    assert draft.summary_given
    assert len(draft.key_points) == 3


async def test_feed_item_article_remembers_its_key(
    site: LocalSite, http: httpx.AsyncClient
) -> None:
    """An article ingested from a feed item keeps the item's key as its source guid."""
    item = FeedItem(
        guid="tag:feed,2025:1",
        url=site.url("/article"),
        title="Feed title",
        published_at=datetime(2025, 6, 1, tzinfo=UTC),
    )

    draft = await ingest_feed_item(item, client=http)

    assert draft.source_guid == "tag:feed,2025:1"
    assert draft.published_at is not None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("notes.txt", "not an article source"),
        ("", "not an article source"),
        ("missing-article.md", "no such file"),
        ("missing-page.html", "no such file"),
    ],
)
async def test_unusable_sources_give_clear_errors(source: str, message: str) -> None:
    """Unknown kinds of source and missing files give an IngestError naming the problem."""
    with pytest.raises(IngestError, match=message):
        await ingest(source)


async def test_markdown_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """A Markdown file in another encoding is refused rather than garbled."""
    path = tmp_path / "latin.md"
    path.write_bytes(
        "---\ntitle: Caf\xe9\nurl: https://x.example/\n---\nText.\n".encode("latin-1")
    )

    with pytest.raises(IngestError, match="not UTF-8 text"):
        await ingest(str(path))
