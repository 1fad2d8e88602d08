"""Web addresses as the domain compares them: canonical forms, hosts and listed sites."""

import pytest

from newsroom.urls import canonical_url, on_sites, same_host


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("https://[2001:DB8::1]/a#top", "https://[2001:db8::1]/a"),
        ("http://[2001:db8::1]:80/", "http://[2001:db8::1]/"),
    ],
)
def test_an_ipv6_host_keeps_its_brackets(address: str, canonical: str) -> None:
    """An IPv6 address stays in brackets, so its last group never reads as a port."""
    assert canonical_url(address) == canonical


@pytest.mark.parametrize(
    ("address", "listed"),
    [
        ("https://news.example/a", True),
        ("https://NEWS.example/a", True),
        ("https://live.news.example/a", True),
        ("https://fakenews.example/a", False),
        ("https://news.example.evil.example/a", False),
        ("https://evil.example/?u=news.example", False),
        ("not an address", False),
    ],
)
def test_on_sites_takes_the_site_and_its_subdomains(address: str, *, listed: bool) -> None:
    """An address is on a listed site when its host is the site or a subdomain of it."""
    assert on_sites(address, ("news.example", "other.example", "")) is listed


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("https://news.example/a", "http://news.example:8080/b", True),
        ("https://www.news.example/a", "https://news.example/b", True),
        ("https://live.news.example/a", "https://news.example/b", False),
        ("https://news.example/a", "https://evil.example/a", False),
        ("https://news.example/a", "file:///tmp/page.html", False),
    ],
)
def test_same_host_sets_only_a_leading_www_aside(first: str, second: str, *, same: bool) -> None:
    """Two addresses are on one host when their hosts match, "www." aside; ports do not count."""
    assert same_host(first, second) is same
