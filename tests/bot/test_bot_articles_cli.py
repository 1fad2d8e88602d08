"""`python -m bot publish` and `python -m bot ingest` as an editor runs them: real subprocesses,
a page on 127.0.0.1, and the running bot's delivery engine sending what the command queued."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from bot_articles_support import (
    SEED_FACT,
    SEED_POLL,
    SEED_TITLE,
    NewsSite,
    cards,
    count_articles,
    run_bot,
    subscribe_audience,
)
from harness import BOT_TOKEN, run_bot_command

from emulator.simulation import Emulator


async def _cli(
    cwd: Path, database_url: str, *args: str, allow_private: bool = True
) -> tuple[int, str, str]:
    return await run_bot_command(
        cwd,
        *args,
        BOT_TOKEN=BOT_TOKEN,
        DATABASE_URL=database_url,
        PTB_TIMEDELTA="1",
        # The news site is on 127.0.0.1, which the commands read only when allowed.
        FETCH_ALLOW_PRIVATE="true" if allow_private else "false",
    )


async def test_cli_publish_is_sent_by_the_running_bot(
    emulator: Emulator, database_url: str, site: NewsSite, tmp_path: Path
) -> None:
    """`publish <url>` stores and queues the article and prints its id and count; the running
    bot's engine then delivers it to every subscriber; a second run sends nothing."""
    account = emulator.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emulator.create_user("Ada")
    async with run_bot(emulator, account, admin, database_url) as bot:
        audience = await subscribe_audience(emulator)

        code, out, err = await _cli(tmp_path, database_url, "publish", site.url("/story"))
        assert code == 0, err
        assert out.strip() == f"Published article 1: queued for 4 chats.\nHeadline: {SEED_TITLE}"
        for chat in audience.chats:
            await emulator.wait_for(partial(cards, emulator, chat), timeout=10)

        code, out, _ = await _cli(tmp_path, database_url, "publish", site.url("/story"))
        assert code == 0
        assert out.strip().startswith("Article 1 was already published on ")
        assert await count_articles(bot.db) == 1
    assert [len(cards(emulator, chat)) for chat in audience.chats] == [1, 1, 1, 1]


async def test_cli_publish_of_a_bad_source_fails_clearly(tmp_path: Path, site: NewsSite) -> None:
    """A page that is not an article gives one error line and exit code 1."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    code, out, err = await _cli(tmp_path, database_url, "publish", site.url("/report.pdf"))
    assert code == 1
    assert out == ""
    assert err.strip().splitlines()[-1] == (
        f"error: Could not publish: {site.url('/report.pdf')}: not a web page "
        "(its content type is application/pdf)"
    )


async def test_cli_ingest_previews_the_seed_page(tmp_path: Path, site: NewsSite) -> None:
    """`ingest <url>` prints title, standfirst, author, reading time, fact, poll and related
    links, and creates no database."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}"
    code, out, err = await _cli(tmp_path, database_url, "ingest", site.url("/story"))
    assert code == 0, err
    assert f"Title:        {SEED_TITLE}" in out
    assert "Standfirst:   Five harbour towns have pooled their budgets" in out
    assert "Author:       Riverside Desk" in out
    assert "Reading time: 3 min" in out
    assert f"Fact:         {SEED_FACT}" in out
    assert f"Poll:         {SEED_POLL}\n  - Yes\n  - No\n  - Not sure" in out
    assert "Key points:\n  • " in out
    assert "  • Marram Bay Volunteers Rebuild Dune Fencing After Winter Storms <" in out
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("command", ["ingest", "publish"])
async def test_cli_refuses_a_page_on_this_machine_unless_allowed(
    tmp_path: Path, site: NewsSite, command: str
) -> None:
    """Without FETCH_ALLOW_PRIVATE, a page on 127.0.0.1 is refused with one line saying why and
    what to set; nothing is fetched or stored."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    url = site.url("/story")

    code, out, err = await _cli(tmp_path, database_url, command, url, allow_private=False)

    assert (code, out) == (1, "")
    prefix = "error: " if command == "ingest" else "error: Could not publish: "
    assert err.strip().splitlines()[-1] == (
        f"{prefix}{url}: refused: 127.0.0.1 is a private or local address "
        "(set FETCH_ALLOW_PRIVATE=true to fetch from an intranet)"
    )
    assert site.requested("/story") == 0
