"""The single entry point: each kind of source becomes a finished draft, or a clear error."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from newsroom_site import LocalSite

from newsroom.errors import IngestError
from newsroom.feeds import FeedItem
from newsroom.ingest import ingest, ingest_feed_item
from newsroom.web_client import WebClient

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
    site: LocalSite, http: WebClient
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


async def test_feed_item_article_remembers_its_key(site: LocalSite, http: WebClient) -> None:
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


async def test_feed_item_categories_join_the_article_topics(
    site: LocalSite, http: WebClient
) -> None:
    """The feed's categories are added to the page's own topics, normalised, each once."""
    page = await ingest(site.url("/article"), client=http)
    item = FeedItem(
        guid="tag:feed,2025:2",
        url=site.url("/article"),
        title="Feed title",
        published_at=None,
        categories=("World  NEWS", *(topic.upper() for topic in page.topics)),
    )

    draft = await ingest_feed_item(item, client=http)

    assert draft.topics == (*page.topics, "world news")


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


async def test_listed_sites_hold_for_every_redirect(site: LocalSite, http: WebClient) -> None:
    """Confined to listed sites, a page redirecting off them is refused at that hop: the page
    it points to is never requested."""
    target = site.url("/article").replace("127.0.0.1", "localhost")
    start = site.url(f"/redirect?to={target}")

    with pytest.raises(IngestError) as refused:
        await ingest(start, client=http, sites=("127.0.0.1",))

    assert str(refused.value) == f"{start}: redirects off the listed sites (to {target})"
    assert [path for path, _ in site.requests] == ["/redirect"]


async def test_listed_sites_let_redirects_on_them_through(
    site: LocalSite, http: WebClient
) -> None:
    """Redirects that stay on a listed site are followed as usual."""
    draft = await ingest(site.url("/hop/2"), client=http, sites=("news.example", "127.0.0.1"))

    assert draft.title == "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("http://127.0.0.1:9/article", "not on the listed sites"),
        ("latest.md", "not an http(s) address"),
    ],
)
async def test_a_source_off_the_listed_sites_is_not_read(
    http: WebClient, source: str, reason: str
) -> None:
    """Confined to listed sites, an address elsewhere (or a file) is refused without a fetch."""
    with pytest.raises(IngestError) as refused:
        await ingest(source, client=http, sites=("news.example",))

    assert str(refused.value) == f"{source}: {reason}"
