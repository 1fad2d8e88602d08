"""What an update changes: whether the card readers have would change at all, and the fields
that differ, one short line each, for the admin's preview."""

from __future__ import annotations

from dataclasses import replace

from bot.articles.card import CardArticle, render_card
from bot.articles.loader import card_article
from bot.telegram.command_input import echo
from storage.models import Article

SHOWN = 60  # characters of an old or new value the preview quotes


def _plain(article: Article) -> CardArticle:
    """The card's fields alone: not the correction line, which every update changes."""
    return replace(card_article(article), revision=0, correction=None)


def same_card(stored: Article, corrected: Article) -> bool:
    """Whether the corrected article renders the very card the stored one does."""
    return render_card(_plain(stored)) == render_card(_plain(corrected))


def _quote(value: str | None) -> str:
    return f"“{echo(value, SHOWN)}”" if value else "(none)"


def _change(name: str, old: str | None, new: str | None) -> str | None:
    if (old or None) == (new or None):
        return None
    return f"{name}: {_quote(old)} → {_quote(new)}"


def _list_change(name: str, old: tuple[str, ...], new: tuple[str, ...]) -> list[str]:
    if old == new:
        return []
    lines = []
    for number in range(max(len(old), len(new))):
        before = old[number] if number < len(old) else None
        after = new[number] if number < len(new) else None
        if (line := _change(f"{name} {number + 1}", before, after)) is not None:
            lines.append(line)
    return lines


def changed_fields(stored: Article, corrected: Article) -> list[str]:
    """One line per field of the card that differs, in the order the card shows them."""
    old, new = _plain(stored), _plain(corrected)
    lines = [
        _change("Title", old.title, new.title),
        _change("Standfirst", old.standfirst, new.standfirst),
        _change("Author", old.author, new.author),
        _change("Reading time", f"{old.reading_minutes} min", f"{new.reading_minutes} min"),
        _change("Fact", old.fact, new.fact),
        _change("Image", old.image_url, new.image_url),
    ]
    found = [line for line in lines[:3] if line is not None]
    found += _list_change("Key point", old.key_points, new.key_points)
    found += [line for line in lines[3:] if line is not None]
    related_old = tuple(f"{title} <{url}>" for title, url in old.related)
    related_new = tuple(f"{title} <{url}>" for title, url in new.related)
    found += _list_change("Also read", related_old, related_new)
    if new.image_url and old.image_url != new.image_url:
        found.append("(A photo already sent keeps its picture: only its caption is edited.)")
    return found
