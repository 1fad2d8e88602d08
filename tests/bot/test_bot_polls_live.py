"""Live totals through the emulator: copies in many chats converge, admins close and count,
pending edits survive a restart."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from polls_support import (
    StartBot,
    create_article_poll,
    expected_content,
    post_poll_card,
    shows,
    started_private_chat,
)

from bot.admins import ADMIN_ONLY
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import SimMessage
from storage import polls, votes
from storage.votes import Choice, Voter


def _versions(message: SimMessage) -> list[tuple[object, ...]]:
    """Every version the message showed, oldest first."""
    shown = [(e.text, e.entities, e.reply_markup) for e in message.edits]
    return [*shown, (message.text, message.entities, message.reply_markup)]


async def test_copies_in_five_chats_converge(start_bot: StartBot) -> None:
    """After a burst of votes in five chats every copy shows the stored totals, with no 429 and
    no edit that left a message as it was."""
    async with start_bot() as bot:
        emu = bot.emulator
        owner = emu.create_user("Gus")
        readers = [emu.create_user(f"Reader {n}") for n in range(40)]
        group = emu.create_group("Club", creator=owner, members=readers)
        supergroup = emu.create_group("Town", creator=owner, members=readers, supergroup=True)
        channel = emu.create_channel("News", creator=owner)
        for chat in (group, supergroup):
            await emu.add_bot_to_chat(chat, by=owner)
        await emu.add_bot_to_chat(channel, by=owner, admin=True)
        poll_id = await create_article_poll(bot.db, options=("Yes", "No", "Maybe"))
        chats = [
            started_private_chat(emu, readers[0]),
            started_private_chat(emu, readers[1]),
            group,
            supergroup,
            channel,
        ]
        copies = [await post_poll_card(bot, chat, poll_id) for chat in chats]

        pick = random.Random(7)
        presses = [
            emu.press_button(
                reader,
                pick.choice(copies),
                data=encode(VoteTap(poll_id, pick.randrange(3))),
            )
            for reader in readers
            for _ in range(2)
        ]
        answers = await asyncio.gather(*presses)
        assert all(answer.text for answer in answers)

        expected = await expected_content(bot.db, poll_id)
        await emu.wait_for(
            lambda: all(shows(copy, expected) for copy in copies),
            timeout=15,
            what="every copy showing the stored totals",
        )
        assert emu.count_errors(429) == 0
        for copy in copies:
            versions = _versions(copy)
            assert all(a != b for a, b in itertools.pairwise(versions))
        not_modified = [
            r for r in emu.requests("editMessageText") if "not modified" in str(r.response)
        ]
        assert not_modified == []


@pytest.mark.quick_private_chats
async def test_admin_closes_poll_and_reads_results(start_bot: StartBot) -> None:
    """/closepoll closes every copy; /results shows counts, shares and chats; others are
    refused."""
    # The closed keyboard follows the vote's edit after POLL_EDIT_INTERVAL: the shortest here.
    async with start_bot(poll_edit_interval=0.5) as bot:
        emu = bot.emulator
        reader = emu.create_user("Ola")
        poll_id = await create_article_poll(bot.db)
        card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
        await emu.press_button(reader, card, data=encode(VoteTap(poll_id, 0)))

        await emu.send_message(reader, f"/closepoll {poll_id}")
        refusal = await emu.wait_for_bot_message(emu.private_chat(reader), after=card.message_id)
        assert refusal.text == ADMIN_ONLY

        admin_chat = emu.private_chat(bot.admin)
        await emu.send_message(bot.admin, f"/results {poll_id}")
        results = await emu.wait_for_bot_message(admin_chat)
        assert results.text is not None
        assert "Yes: 100% (1)" in results.text
        assert "Total votes: 1, from 1 chat" in results.text

        await emu.send_message(bot.admin, f"/closepoll {poll_id}")
        closing = await emu.wait_for_bot_message(admin_chat, after=results.message_id)
        assert closing.text is not None
        assert closing.text.startswith(f"Poll {poll_id} is closed.")
        await emu.wait_for(
            lambda: "🔒 Poll closed" in [b["text"] for row in card.buttons for b in row],
            timeout=8,
            what="the closed keyboard",
        )
        assert "Yes ▰▰▰▰▰▰▰▰▰▰ 100% · 1" in (card.text or "")


async def test_pending_edits_resume_after_restart(start_bot: StartBot) -> None:
    """Votes stored while the bot was down (messages marked dirty) reach the card on start."""
    async with start_bot() as bot:
        emu = bot.emulator
        reader = emu.create_user("Ivo")
        poll_id = await create_article_poll(bot.db)
        card = await post_poll_card(bot, started_private_chat(emu, reader), poll_id)
    # As if the bot stopped right after committing a vote, before editing the card.
    async with bot.db.transaction() as session:
        record = await polls.poll_record(session, poll_id=poll_id)
        assert record is not None
        await votes.upsert_voters(session, voters=[Voter(user_id=reader.id, first_name="Ivo")])
        await votes.save_choices(
            session,
            choices={(poll_id, reader.id): Choice(record.option_ids[1], reader.id)},
        )
        await polls.mark_messages_dirty(session, poll_ids=[poll_id])
    await bot.db.dispose()

    async with start_bot() as restarted:
        expected = await expected_content(restarted.db, poll_id)
        await emu.wait_for(lambda: shows(card, expected), timeout=8, what="the resumed edit")
        assert "No · 1" in [b["text"] for row in card.buttons for b in row]
