"""A correction reaching 300 copies through the emulator with Telegram's limits as they are:
private chats, groups, channels and inline copies, every one edited once, and never a 429."""

from __future__ import annotations

from functools import partial

import pytest
from corrections_support import (
    card_copies,
    confirm,
    publish_story,
    say,
    share_inline,
    story,
    subscribe_channel,
    updated_lines,
)
from delivery_world import rows_left, subscribe_group, subscribe_readers
from harness import wait_until
from polls_support import StartBot

from emulator.simulation import SimMessage
from storage.engine import Database

FIRST = "Night Ferry to Run All Year"
CORRECTED = "Night Ferry to Run All Year From March"
PRIVATE, GROUPS, CHANNELS, INLINE = 260, 15, 15, 10


async def _all_recorded(db: Database) -> bool:
    return await rows_left(db) == 0


async def _inline_recorded(db: Database) -> bool:
    return await card_copies(db) == INLINE


@pytest.mark.slow
async def test_a_correction_reaches_300_copies_within_the_limits(start_bot: StartBot) -> None:
    """260 private chats, 15 groups, 15 channels and 10 inline copies: the report says 300
    edited, each copy shows the new headline with one "Updated" line after one edit, and the
    emulator never had to answer 429."""
    # Paid broadcasts fan the copies out quickly; edits are never paid and keep 30 a second.
    async with start_bot(allow_paid_broadcast=True, send_rate_per_second=30) as running:
        emu, db = running.emulator, running.db
        readers = await subscribe_readers(emu, db, PRIVATE)
        owner = emu.create_user("Gus")
        chats = [emu.private_chat(reader) for reader in readers]
        chats += [await subscribe_group(emu, db, owner, f"Club {n}") for n in range(GROUPS)]
        chats += [await subscribe_channel(emu, db, owner, f"Brief {n}") for n in range(CHANNELS)]
        article_id = await publish_story(running, story(FIRST))
        await emu.wait_for(
            lambda: all(emu.bot_messages(chat) for chat in chats), timeout=30, what="the fan-out"
        )
        # Sends are recorded in batches, just after the copies show.
        await wait_until(lambda: _all_recorded(db), what="every delivery recorded")
        inline = [
            await share_inline(emu, readers[n], article_id, chats[PRIVATE]) for n in range(INLINE)
        ]
        # Inline copies are recorded just after they are posted.
        await wait_until(partial(_inline_recorded, db), what="the inline copies recorded")
        copies: list[SimMessage] = [emu.bot_messages(chat)[0] for chat in chats] + inline
        upload = await emu.send_message(
            running.admin, "", document=("ferry.md", story(CORRECTED).encode())
        )

        preview = await say(
            running, f"/update {article_id} Start date corrected", reply_to=upload, contains="300"
        )
        report = await confirm(running, preview, until=f"Article {article_id} corrected")

        assert "Edited: 300 · Failed: 0" in (report.text or "")
        assert all((copy.text or "").startswith(CORRECTED) for copy in copies)
        assert {(updated_lines(copy), len(copy.edits)) for copy in copies} == {(1, 1)}
        assert emu.count_errors(429) == 0
