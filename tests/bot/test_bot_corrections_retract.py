"""/retract through the emulator, on a clock the test moves: copies sent less than 48 hours ago
are deleted, older ones and inline copies say the article was withdrawn; the article leaves
/latest and inline search, its poll closes and its votes stay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import pytest
from corrections_support import card_copies, confirm, delivered, publish_story, say, story
from delivery_world import subscribe_group, subscribe_readers
from harness import RunningBot, wait_until
from sqlmodel import func, select

from bot.articles.handlers import NOTHING_YET
from bot.corrections import texts
from emulator.clock import ManualClock
from emulator.limits import RateLimits
from emulator.simulation import Emulator
from storage.engine import Database
from storage.models import Article, ArticleStatus, Poll, Vote

HOURS = 3600.0
REASON = "The interview was not authorised"
NOTICE = f"This article was withdrawn: {REASON}"
# Conversations with the admin, about what each copy ends up showing, not about their pace.
pytestmark = pytest.mark.quick_private_chats


@pytest.fixture(name="emulator")
async def emulator_fixture() -> AsyncIterator[Emulator]:
    """The emulator on a clock that moves only when the test says so (no flood limits: on a
    clock that stands still every rate would be exceeded)."""
    async with Emulator(clock=ManualClock(), limits=RateLimits.unlimited()) as running:
        yield running


async def _card_copies(db: Database, count: int) -> bool:
    return await card_copies(db) == count


def _clock(emu: Emulator) -> ManualClock:
    clock = emu.world.clock
    assert isinstance(clock, ManualClock)
    return clock


async def test_retract_deletes_fresh_copies_and_replaces_old_ones(
    running_bot: RunningBot,
) -> None:
    """Copies delivered 49 hours ago (two readers, a group) and an inline copy become the
    notice; a card a reader asked for since is deleted. Then the article is withdrawn, its
    poll closed with its vote kept, and /latest and inline search no longer offer it."""
    emu, db = running_bot.emulator, running_bot.db
    readers = await subscribe_readers(emu, db, 2)
    group = await subscribe_group(emu, db, readers[0], "Harbour watchers")
    old_chats = [*(emu.private_chat(reader) for reader in readers), group]
    article_id = await publish_story(running_bot, story("Night Ferry to Run All Year", poll=True))
    old_cards = await delivered(running_bot, old_chats)
    await emu.press_button(readers[0], old_cards[0], text=old_cards[0].buttons[0][0]["text"])
    _clock(emu).advance(49 * HOURS)
    latecomer = emu.create_user("Lou")
    asked = await say(running_bot, "/latest", user=latecomer)
    answer = await emu.inline_query(readers[1], f"a_{article_id}")
    inline = await emu.choose_inline_result(
        readers[1], answer, answer.results[0]["id"], chat=group
    )
    # Both are recorded just after they are posted.
    await wait_until(partial(_card_copies, db, 2), what="the two copies recorded")

    preview = await say(running_bot, f"/retract {article_id} {REASON}", contains="Withdraw")
    assert "5 copies" in (preview.text or "")
    assert f"Readers see: “{NOTICE}”" in (preview.text or "")
    report = await confirm(running_bot, preview, until=f"Article {article_id} withdrawn")

    assert "Deleted: 1 · Replaced with a notice: 4 · Failed: 0" in (report.text or "")
    for card in old_cards:
        assert (card.text, card.buttons, card.deleted) == (NOTICE, [], False)
    assert (inline.text, inline.buttons) == (NOTICE, [])
    assert asked.deleted
    async with db.transaction() as session:
        article = await session.get(Article, article_id)
        poll = (await session.exec(select(Poll))).one()
        votes = (await session.exec(select(func.count()).select_from(Vote))).one()
    assert article is not None
    assert article.status is ArticleStatus.WITHDRAWN
    assert (poll.is_closed, votes) == (True, 1)
    latest = await say(running_bot, "/latest", user=readers[1])
    assert latest.text == NOTHING_YET
    assert (await emu.inline_query(readers[1], f"a_{article_id}")).results == []


async def test_retracted_article_is_not_updated_or_retracted_again(
    running_bot: RunningBot,
) -> None:
    """/update and /retract of a withdrawn article each answer one line and change nothing."""
    emu = running_bot.emulator
    await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story("Night Ferry to Run All Year"))
    preview = await say(running_bot, f"/retract {article_id}", contains="Withdraw")
    await confirm(running_bot, preview, until=f"Article {article_id} withdrawn")

    again = await say(running_bot, f"/retract {article_id}")
    update = await say(running_bot, f"/update {article_id}")

    assert again.text == texts.ALREADY_WITHDRAWN.format(id=article_id)
    assert update.text == texts.WITHDRAWN_NOT_UPDATED.format(id=article_id)
