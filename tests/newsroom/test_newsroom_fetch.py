"""Fetching pages over real HTTP on 127.0.0.1: normal pages and each way a server misbehaves."""

from pathlib import Path

import pytest
from newsroom_site import HUGE_BYTES, LocalSite

from newsroom.errors import IngestError
from newsroom.web_client import WebClient
from newsroom.webpage import fetch_page, load_page


async def test_fetch_page_returns_the_html(site: LocalSite, http: WebClient) -> None:
    """A normal text/html answer comes back as the page's text."""
    html = await fetch_page(http, site.url("/article"))

    assert "<h1>Kestrel Coast Towns Join Forces to Replant Seagrass Meadows</h1>" in html


async def test_load_page_by_address_gives_the_article(site: LocalSite, http: WebClient) -> None:
    """Loading an address extracts the article and takes its canonical address on that host."""
    draft = await load_page(site.url("/own-canonical?utm_source=feed"), client=http)

    assert draft.title == "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"
    assert draft.url == site.url("/seagrass")


async def test_a_canonical_address_on_another_host_is_passed_over(
    site: LocalSite, http: WebClient
) -> None:
    """A page on one host naming its canonical address on another host cannot claim that
    site's article: it is stored under the address it was fetched from."""
    draft = await load_page(site.url("/article"), client=http)

    assert draft.title == "Kestrel Coast Towns Join Forces to Replant Seagrass Meadows"
    assert draft.url == site.url("/article")


async def test_non_html_content_type_is_refused(site: LocalSite, http: WebClient) -> None:
    """A PDF is not read as a page; the error names the content type."""
    with pytest.raises(
        IngestError, match=r"not a web page \(its content type is application/pdf\)"
    ):
        await fetch_page(http, site.url("/report.pdf"))


async def test_streamed_body_past_the_cap_is_abandoned(site: LocalSite, http: WebClient) -> None:
    """A 50 MB streamed page stops at the size cap, long before the server has sent it all."""
    with pytest.raises(IngestError, match="larger than the 1,000,000 byte limit"):
        await fetch_page(http, site.url("/huge"), max_bytes=1_000_000)

    assert site.huge_bytes_sent[0] < HUGE_BYTES


async def test_declared_length_past_the_cap_is_refused(site: LocalSite, http: WebClient) -> None:
    """A Content-Length over the cap is refused before any of the body is read."""
    with pytest.raises(IngestError, match=r"52,428,800 bytes is over the 1,000,000 limit"):
        await fetch_page(http, site.url("/declared-huge"), max_bytes=1_000_000)


async def test_redirect_loop_is_reported(site: LocalSite, http: WebClient) -> None:
    """A page redirecting to itself gives a clear loop error instead of spinning."""
    with pytest.raises(IngestError, match="redirects in a loop"):
        await fetch_page(http, site.url("/loop"))


async def test_five_redirects_are_followed(site: LocalSite, http: WebClient) -> None:
    """Five redirects in a row still reach the page."""
    html = await fetch_page(http, site.url("/hop/5"))

    assert "Did you know?" in html


async def test_sixth_redirect_is_refused(site: LocalSite, http: WebClient) -> None:
    """A sixth redirect stops the fetch with the limit in the message."""
    with pytest.raises(IngestError, match="more than 5 redirects"):
        await fetch_page(http, site.url("/hop/6"))


async def test_redirect_off_the_web_is_refused(site: LocalSite, http: WebClient) -> None:
    """A redirect to a non-http(s) address is not followed."""
    with pytest.raises(IngestError, match="not an http\\(s\\) address"):
        await fetch_page(http, site.url("/to-ftp"))


async def test_slow_server_times_out(site: LocalSite, http: WebClient) -> None:
    """A server slower than the deadline gives a timeout error naming the deadline."""
    with pytest.raises(IngestError, match=r"no complete answer within 0\.2 seconds"):
        await fetch_page(http, site.url("/slow"), timeout=0.2)


async def test_missing_page_reports_the_status(site: LocalSite, http: WebClient) -> None:
    """A 404 answer becomes an error with the status."""
    with pytest.raises(IngestError, match="the server answered HTTP 404 Not Found"):
        await fetch_page(http, site.url("/gone"))


async def test_unreachable_server_is_reported(http: WebClient) -> None:
    """A refused connection becomes an error saying the page could not be fetched."""
    with pytest.raises(IngestError, match=r"^http://127\.0\.0\.1:9/x: could not be fetched"):
        await fetch_page(http, "http://127.0.0.1:9/x")


async def test_non_web_address_is_refused(http: WebClient) -> None:
    """Only http(s) addresses are fetched."""
    with pytest.raises(IngestError, match="not an http\\(s\\) address"):
        await fetch_page(http, "file:///etc/hostname")


async def test_load_page_reads_a_saved_file(fixtures_dir: Path) -> None:
    """A saved page is read from disk in its declared charset and keeps its canonical address."""
    draft = await load_page(str(fixtures_dir / "no_fact_no_poll.html"))

    assert draft.url == "https://westport-weekly.example/community/harbour-swim-returns"
    assert "\u201cWe have had calls" in draft.body


async def test_load_page_reports_a_missing_file(tmp_path: Path) -> None:
    """A path that does not exist gives an error naming it."""
    missing = tmp_path / "nowhere.html"

    with pytest.raises(IngestError, match="no such file"):
        await load_page(str(missing))


async def test_load_page_refuses_an_oversized_file(tmp_path: Path) -> None:
    """A saved file over the size cap is not read."""
    big = tmp_path / "big.html"
    big.write_text("<html><body>" + "<p>word</p>" * 2000 + "</body></html>")

    with pytest.raises(IngestError, match="over the 1,000 limit"):
        await load_page(str(big), max_bytes=1_000)
