"""RSS and Atom feeds: items, dedupe keys, hostile titles and conditional fetching over HTTP."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from newsroom_site import FEED_ETAG, FEED_MODIFIED, LocalSite

from newsroom.errors import IngestError
from newsroom.feeds import FeedItem, fetch_feed, parse_feed
from newsroom.web_client import WebClient

FEED_URL = "https://feeds.example/news.xml"


def test_rss_items_carry_guid_link_title_and_date(fixtures_dir: Path) -> None:
    """RSS 2.0 items give guid, canonical link, title and UTC date; linkless items are dropped."""
    items = parse_feed((fixtures_dir / "rss2.xml").read_bytes(), url=FEED_URL)

    assert items == (
        FeedItem(
            guid="https://millbrook-courier.example/?p=4812",
            url="https://millbrook-courier.example/2025/10/night-bus-pilot-extended/",
            title="Night Bus Pilot Extended Through Winter",
            published_at=datetime(2025, 10, 3, 18, 20, tzinfo=UTC),
        ),
        FeedItem(
            guid=None,
            url="https://millbrook-courier.example/2025/10/library-hours/",
            title="Library Extends Saturday Hours",
            published_at=datetime(2025, 10, 2, 8, 0, tzinfo=UTC),
        ),
    )


def test_item_categories_are_kept_as_the_feed_wrote_them() -> None:
    """RSS <category> and Atom category terms come with the item; blank ones are dropped."""
    rss = b"""<rss version="2.0"><channel><title>N</title><item>
      <title>Ferry</title><link>https://news.example/ferry</link>
      <category>World  News</category><category> </category><category>Sport</category>
    </item></channel></rss>"""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>N</title><entry>
      <title>Ferry</title><link href="https://news.example/ferry"/><id>tag:n,1</id>
      <category term="Harbour"/></entry></feed>"""

    assert parse_feed(rss, url=FEED_URL)[0].categories == ("World  News", "Sport")
    assert parse_feed(atom, url=FEED_URL)[0].categories == ("Harbour",)


def test_dedupe_key_is_guid_else_canonical_address(fixtures_dir: Path) -> None:
    """The key is the guid when there is one, else the canonical link (so #update repeats drop)."""
    first, second = parse_feed((fixtures_dir / "rss2.xml").read_bytes(), url=FEED_URL)

    assert first.key == "https://millbrook-courier.example/?p=4812"
    assert second.key == "https://millbrook-courier.example/2025/10/library-hours/"


def test_atom_entries_resolve_links_and_fall_back_to_updated(fixtures_dir: Path) -> None:
    """Atom relative links resolve against the feed; an entry without published uses updated."""
    first, second = parse_feed((fixtures_dir / "atom.xml").read_bytes(), url=FEED_URL)

    assert first.url == "https://feeds.example/news/allotment-waiting-list-falls"
    assert first.title == "Allotment Waiting List Falls as Three New Sites Open"
    assert first.guid == "tag:eastfield-gazette.example,2025:news/1187"
    assert first.published_at == datetime(2025, 4, 22, 5, 0, tzinfo=UTC)
    assert second.published_at == datetime(2025, 4, 21, 16, 5, tzinfo=UTC)


def test_hostile_titles_lose_scripts_and_markup(fixtures_dir: Path) -> None:
    """Script tags (escaped or in CDATA) and other markup vanish from titles; bad links drop."""
    items = parse_feed((fixtures_dir / "hostile_rss.xml").read_bytes(), url=FEED_URL)

    assert [item.title for item in items] == ["Council Sets Budget", "Bridge Reopens"]
    assert all("alert" not in item.title and "<" not in item.title for item in items)
    assert [item.key for item in items] == ["hostile-1", "hostile-2"]


@pytest.mark.parametrize("content", [b"<html><body>Hello</body></html>", b"not xml {"])
def test_a_document_that_is_no_feed_is_refused(content: bytes) -> None:
    """Something that is not RSS or Atom gives an error naming the feed address."""
    with pytest.raises(IngestError, match=r"^https://feeds\.example/news\.xml: not a readable"):
        parse_feed(content, url=FEED_URL)


async def test_first_fetch_returns_items_and_validators(site: LocalSite, http: WebClient) -> None:
    """An unconditional fetch returns the items with the server's ETag and Last-Modified."""
    fetched = await fetch_feed(http, site.url("/feed.xml"), None, None)

    assert not fetched.not_modified
    assert [item.title for item in fetched.items] == [
        "Night Bus Pilot Extended Through Winter",
        "Library Extends Saturday Hours",
    ]
    assert (fetched.etag, fetched.modified) == (FEED_ETAG, FEED_MODIFIED)


async def test_fetch_with_etag_gets_not_modified(site: LocalSite, http: WebClient) -> None:
    """Sending the ETag back gets a 304: no items, not_modified set, validators kept."""
    fetched = await fetch_feed(http, site.url("/feed.xml"), FEED_ETAG, None)

    assert fetched.not_modified
    assert fetched.items == ()
    assert (fetched.etag, fetched.modified) == (FEED_ETAG, FEED_MODIFIED)
    assert site.feed_requests[-1]["If-None-Match"] == FEED_ETAG


async def test_fetch_with_last_modified_gets_not_modified(
    site: LocalSite, http: WebClient
) -> None:
    """Sending Last-Modified back as If-Modified-Since also gets a 304."""
    fetched = await fetch_feed(http, site.url("/feed.xml"), None, FEED_MODIFIED)

    assert fetched.not_modified
    assert site.feed_requests[-1]["If-Modified-Since"] == FEED_MODIFIED


async def test_feed_served_as_html_is_refused(site: LocalSite, http: WebClient) -> None:
    """A feed address answering with a web page gives a clear error."""
    with pytest.raises(
        IngestError, match=r"not an RSS or Atom feed \(its content type is text/html\)"
    ):
        await fetch_feed(http, site.url("/feed.html"))


async def test_feed_that_times_out_is_reported(site: LocalSite, http: WebClient) -> None:
    """A feed slower than the deadline gives a timeout error."""
    with pytest.raises(IngestError, match=r"no complete answer within 0\.2 seconds"):
        await fetch_feed(http, site.url("/slow"), timeout=0.2)


async def test_feed_that_redirects_forever_is_reported(site: LocalSite, http: WebClient) -> None:
    """A feed stuck in a redirect loop gives a loop error."""
    with pytest.raises(IngestError, match="redirects in a loop"):
        await fetch_feed(http, site.url("/loop"))
