"""/update through the emulator: a corrected article reaches every copy of its card in place
(private chats, a group, a channel, an inline copy), with its keyboard, its live totals and one
"Updated" line; nothing is edited when nothing changed; bad input gets one clear line."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from bot_articles_support import FeedEntry, NewsSite, cards, run_bot, subscribe_audience
from corrections_support import (
    STORY_URL,
    admin_chat,
    button_labels,
    confirm,
    delivered,
    publish_story,
    say,
    stored_article,
    story,
    updated_lines,
)
from delivery_world import subscribe_group, subscribe_readers
from harness import BOT_TOKEN, RunningBot, quicken_private_chats, stored_chat, wait_until
from polls_support import StartBot, expected_content
from sqlmodel import select

from bot.admins import ADMIN_ONLY
from bot.corrections import texts
from emulator.simulation import Emulator, SimChat, SimMessage
from storage import deliveries
from storage.models import ArticleStatus, CorrectionAction, Poll, PollMessage, StopReason

FIRST = "Night Ferry to Run All Year"
CORRECTED = "Night Ferry to Run All Year From March"


async def _delivered(running: RunningBot, chats: list[SimChat]) -> list[SimMessage]:
    return await delivered(running, chats)


async def _corrected_file(running: RunningBot, text: str) -> SimMessage:
    return await running.emulator.send_message(
        running.admin, "", document=("ferry.md", text.encode("utf-8"))
    )


@pytest.mark.quick_private_chats
async def test_update_edits_every_copy_in_place_with_one_updated_line(
    running_bot: RunningBot,
) -> None:
    """A corrected headline replaces the old one on each copy; each keeps its keyboard and gets
    one "Updated HH:MM: note" line; the preview said what changes and where, then became the
    report."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 2)
    group = await subscribe_group(emu, running_bot.db, readers[0], "Harbour watchers")
    chats = [*(emu.private_chat(reader) for reader in readers), group]
    article_id = await publish_story(running_bot, story(FIRST, poll=True))
    before = await _delivered(running_bot, chats)
    labels = [button_labels(card) for card in before]

    upload = await _corrected_file(running_bot, story(CORRECTED, poll=True))
    preview = await say(
        running_bot,
        f"/update {article_id} Corrected the start date",
        reply_to=upload,
        contains="Update article",
    )
    assert f"Title: “{FIRST}” → “{CORRECTED}”" in (preview.text or "")
    assert "3 copies will be edited in place" in (preview.text or "")
    report = await confirm(running_bot, preview, until=f"Article {article_id} corrected")

    assert (report.text or "").startswith(f"Article {article_id} corrected: 3 copies in ")
    assert "Edited: 3 · Failed: 0" in (report.text or "")
    for card, old_labels in zip(before, labels, strict=True):
        text = card.text or ""
        assert text.startswith(CORRECTED)
        assert updated_lines(card) == 1
        assert "Updated " in text
        assert text.rstrip().count(": Corrected the start date") == 1
        assert button_labels(card) == old_labels
        assert len(card.edits) == 1
    article = await stored_article(running_bot.db, article_id)
    assert (article.title, article.revision, article.status) == (
        CORRECTED,
        1,
        ArticleStatus.PUBLISHED,
    )
    assert article.canonical_url == STORY_URL
    assert admin_chat(running_bot).messages[preview.message_id] is preview


@pytest.mark.quick_private_chats
async def test_nothing_changed_edits_nothing(running_bot: RunningBot) -> None:
    """The same article read again says "Nothing changed" and no copy is edited."""
    emu = running_bot.emulator
    readers = await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story(FIRST))
    (card,) = await _delivered(running_bot, [emu.private_chat(readers[0])])
    upload = await _corrected_file(running_bot, story(FIRST))

    answer = await say(
        running_bot, f"/update {article_id}", reply_to=upload, contains="Nothing changed"
    )

    assert answer.text == texts.NOTHING_CHANGED.format(id=article_id)
    assert card.edits == []
    assert (await stored_article(running_bot.db, article_id)).revision == 0


async def test_update_from_the_page_edits_photo_captions_inline_copies_and_keeps_totals(
    emulator: Emulator, database_url: str, site: NewsSite
) -> None:
    """The page's new headline reaches the caption of each photo, the card message under it
    (keyboard and vote counts kept) and a copy shared inline, in private chats, a group and a
    channel."""
    emu = emulator
    account = emu.add_bot(BOT_TOKEN, username="newsdesk_bot")
    admin = emu.create_user("Ada", username="ada_editor")
    entry = FeedEntry("ferry-1", FIRST, "/own/ferry", datetime(2026, 12, 1, tzinfo=UTC))
    site.entries.append(entry)
    async with run_bot(emu, account, admin, database_url) as running:
        quicken_private_chats(running)
        audience = await subscribe_audience(emu)
        await say(running, f"/publish {site.url('/own/ferry')}", contains="Published article 1")
        for chat in audience.chats:
            await emu.wait_for(partial(cards, emu, chat), timeout=10, what="the card")
        reader = audience.readers[0]
        (voted,) = cards(emu, audience.chats[0])
        await emu.press_button(reader, voted, text=voted.buttons[0][0]["text"])
        await emu.wait_for(lambda: "Yes · 1" in button_labels(voted), what="the new total")
        answer = await emu.inline_query(reader, "a_1")
        inline = await emu.choose_inline_result(
            reader, answer, answer.results[0]["id"], chat=audience.chats[2]
        )
        await emu.wait_for(lambda: "Yes · 1" in button_labels(inline), what="the inline total")
        entry.title = CORRECTED

        preview = await say(running, "/update 1 Headline corrected", contains="Update article")
        assert "5 copies will be edited in place" in (preview.text or "")
        report = await confirm(running, preview, until="Article 1 corrected")

        assert "Edited: 5 · Failed: 0" in (report.text or "")
        for chat in audience.chats:
            photo = next(m for m in emu.bot_messages(chat) if m.photo)
            (card,) = cards(emu, chat)
            assert (photo.caption or "").startswith(CORRECTED)
            assert updated_lines(card) == 1
            assert "Headline corrected" in (card.text or "")
            assert button_labels(card)[:3] == ["Yes · 1", "No · 0", "Not sure · 0"]
        assert (inline.text or "").startswith(CORRECTED)
        assert updated_lines(inline) == 1
        assert button_labels(inline)[:3] == ["Yes · 1", "No · 0", "Not sure · 0"]


@pytest.mark.quick_private_chats
@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/update", texts.UPDATE_USAGE),
        ("/update twelve", texts.UPDATE_USAGE),
        ("/update 99 Fixed", texts.NO_SUCH_ARTICLE.format(id=99)),
        ("/update 1 " + "x" * 201, texts.NOTE_TOO_LONG.format(what="note", length=201, limit=200)),
        ("/retract", texts.RETRACT_USAGE),
        ("/retract 99 Wrong", texts.NO_SUCH_ARTICLE.format(id=99)),
    ],
)
async def test_bad_commands_get_one_clear_line(
    running_bot: RunningBot, command: str, expected: str
) -> None:
    """A missing or unknown id, or a note too long for the cards, gets one line."""
    answer = await say(running_bot, command)
    assert answer.text == expected


@pytest.mark.quick_private_chats
async def test_a_reader_may_not_update_retract_or_confirm(running_bot: RunningBot) -> None:
    """/update, /retract and the Confirm button are for admins: anyone else is refused."""
    emu = running_bot.emulator
    (reader,) = await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story(FIRST))
    (card,) = await _delivered(running_bot, [emu.private_chat(reader)])
    preview = await say(running_bot, f"/retract {article_id}", contains="Withdraw")

    refusals = [
        (await say(running_bot, f"/update {article_id}", user=reader)).text,
        (await say(running_bot, f"/retract {article_id}", user=reader)).text,
        (await emu.press_button(reader, preview, text="Confirm")).text,
    ]

    assert refusals == [ADMIN_ONLY] * 3
    assert (await stored_article(running_bot.db, article_id)).status is ArticleStatus.PUBLISHED
    assert card.edits == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.txt", b"plain", "notes.txt is not a Markdown (.md) file."),
        ("broken.md", b"---\ntitle: [unclosed\n---\nBody.\n", "broken.md: "),
        (
            "other.md",
            story(CORRECTED, url="https://harbour-courier.example/another-story").encode(),
            "it names https://harbour-courier.example/another-story as its address, not "
            f"this article's {STORY_URL}.",
        ),
    ],
)
@pytest.mark.quick_private_chats
async def test_a_corrected_file_that_cannot_replace_the_article_changes_nothing(
    running_bot: RunningBot, name: str, data: bytes, reason: str
) -> None:
    """A file that is not Markdown, does not parse, or is another article (another address)
    is refused with the reason; the article and its copies stay as they were."""
    emu = running_bot.emulator
    (reader,) = await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story(FIRST))
    (card,) = await _delivered(running_bot, [emu.private_chat(reader)])
    upload = await emu.send_message(running_bot.admin, "", document=(name, data))

    answer = await say(
        running_bot, f"/update {article_id}", reply_to=upload, contains="Nothing was changed"
    )

    text = answer.text or ""
    assert text.startswith(f"Could not read article {article_id} again: ")
    assert reason in text
    assert text.endswith(" Nothing was changed.")
    assert (await stored_article(running_bot.db, article_id)).title == FIRST
    assert card.edits == []


@pytest.mark.quick_private_chats
async def test_an_address_that_no_longer_loads_changes_nothing(running_bot: RunningBot) -> None:
    """Read again from an address the bot may not fetch, the update is refused with why."""
    emu = running_bot.emulator
    (reader,) = await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story(FIRST))
    (card,) = await _delivered(running_bot, [emu.private_chat(reader)])

    answer = await say(running_bot, f"/update {article_id}", contains="Nothing was changed")

    assert (answer.text or "").startswith(f"Could not read article {article_id} again: ")
    assert (await stored_article(running_bot.db, article_id)).revision == 0
    assert card.edits == []


@pytest.mark.quick_private_chats
async def test_cancel_leaves_the_article_and_its_copies_alone(running_bot: RunningBot) -> None:
    """Cancel under the preview says so; the article keeps its text and no copy changes."""
    emu = running_bot.emulator
    (reader,) = await subscribe_readers(emu, running_bot.db, 1)
    article_id = await publish_story(running_bot, story(FIRST))
    (card,) = await _delivered(running_bot, [emu.private_chat(reader)])
    upload = await _corrected_file(running_bot, story(CORRECTED))
    preview = await say(
        running_bot, f"/update {article_id}", reply_to=upload, contains="Update article"
    )

    answer = await emu.press_button(running_bot.admin, preview, text="Cancel")

    assert answer.text == "Cancelled."
    await emu.wait_for(lambda: "cancelled" in (preview.text or ""), what="the edited preview")
    assert preview.text == texts.cancelled(CorrectionAction.UPDATE, article_id)
    assert (await stored_article(running_bot.db, article_id)).title == FIRST
    assert card.edits == []


@pytest.mark.quick_private_chats
async def test_copies_in_chats_that_blocked_the_bot_or_moved_are_handled_as_deliveries(
    running_bot: RunningBot,
) -> None:
    """A reader who blocked the bot since (unbeknown to it): the edit is refused and the chat
    stops receiving pushes. A group that became a supergroup: the copy stays in the old group
    and is not tried. Both are in the report; the other copy is corrected."""
    emu, db = running_bot.emulator, running_bot.db
    readers = await subscribe_readers(emu, db, 2)
    group = await subscribe_group(emu, db, readers[0], "Harbour watchers")
    chats = [emu.private_chat(readers[0]), emu.private_chat(readers[1]), group]
    article_id = await publish_story(running_bot, story(FIRST))
    fine, blocked, moved = await _delivered(running_bot, chats)
    # Blocked without the bot hearing of it (an update lost): the edit is what finds out.
    emu.private_chat(readers[1]).blocked = True
    supergroup = await emu.upgrade_to_supergroup(group)
    await wait_until(partial(_moved, running_bot, group.id), what="the group's move")
    upload = await _corrected_file(running_bot, story(CORRECTED))
    preview = await say(
        running_bot, f"/update {article_id}", reply_to=upload, contains="Update article"
    )
    assert "1 copy is in chats that no longer have me" in (preview.text or "")

    report = await confirm(running_bot, preview, until=f"Article {article_id} corrected")

    assert "Edited: 1 · Failed: 2 (blocked me: 1, chat no longer has me: 1)" in (report.text or "")
    assert (fine.text or "").startswith(CORRECTED)
    assert (blocked.edits, moved.edits) == ([], [])
    reader = await stored_chat(running_bot, readers[1].id)
    assert reader is not None
    assert (reader.active, reader.stop_reason) == (False, StopReason.BLOCKED)
    assert await stored_chat(running_bot, supergroup.id) is not None


async def _moved(running: RunningBot, chat_id: int) -> bool:
    chat = await stored_chat(running, chat_id)
    return chat is not None and chat.migrated_to is not None


@pytest.mark.quick_private_chats
async def test_cards_still_queued_go_out_corrected(running_bot: RunningBot) -> None:
    """Confirmed while some cards still wait in the ledger (the engine stopped, as between two
    runs): the copies already out are edited once, the queued ones go out corrected and are
    never edited, and every reader ends with the new headline and one "Updated" line."""
    emu, db = running_bot.emulator, running_bot.db
    services = running_bot.application.bot_data
    early = await subscribe_readers(emu, db, 3)
    article_id = await publish_story(running_bot, story(FIRST))
    sent = await _delivered(running_bot, [emu.private_chat(reader) for reader in early])
    await services.delivery.stop()
    late = await subscribe_readers(emu, db, 3)
    async with db.transaction() as session:
        assert await deliveries.queue_article(session, article_id=article_id) == 3
    upload = await _corrected_file(running_bot, story(CORRECTED))
    preview = await say(
        running_bot, f"/update {article_id} Start date", reply_to=upload, contains="Update"
    )
    assert "3 copies will be edited" in (preview.text or "")
    await confirm(running_bot, preview, until=f"Article {article_id} corrected")

    await services.delivery.start()
    queued = await _delivered(running_bot, [emu.private_chat(reader) for reader in late])

    for copy in sent + queued:
        assert (copy.text or "").startswith(CORRECTED)
        assert updated_lines(copy) == 1
    assert [len(copy.edits) for copy in sent + queued] == [1, 1, 1, 0, 0, 0]


async def test_a_pending_totals_edit_and_the_correction_are_one_edit(
    start_bot: StartBot,
) -> None:
    """A vote whose totals edit still waits for the copy's next turn, then a correction: each
    copy gets one edit carrying both the new headline and the new totals, and what the live
    totals editor knows it shows is that content, so it has nothing left to send."""
    async with start_bot(poll_edit_interval=30.0) as running:
        emu, db = running.emulator, running.db
        readers = await subscribe_readers(emu, db, 2)
        chats = [emu.private_chat(reader) for reader in readers]
        article_id = await publish_story(running, story(FIRST, poll=True))
        cards = await _delivered(running, chats)
        await emu.press_button(readers[0], cards[0], text=cards[0].buttons[0][0]["text"])
        await emu.wait_for(
            lambda: all("Total votes: 1" in (card.text or "") for card in cards),
            what="the first vote on both copies",
        )
        # The copies were just edited: this vote's edit waits for their next turn.
        await emu.press_button(readers[1], cards[1], text=cards[1].buttons[0][0]["text"])
        upload = await _corrected_file(running, story(CORRECTED, poll=True))
        preview = await say(
            running, f"/update {article_id}", reply_to=upload, contains="Update article"
        )
        await confirm(running, preview, until=f"Article {article_id} corrected")
        async with db.transaction() as session:
            poll = (await session.exec(select(Poll))).one()
            messages = (await session.exec(select(PollMessage))).all()
        expected = await expected_content(db, poll.id or 0)
        editor = running.application.bot_data.live_totals
        known = [editor.showing(poll.id or 0, message.id or 0) for message in messages]

    for card in cards:
        text = card.text or ""
        assert text.startswith(CORRECTED)
        assert "Total votes: 2" in text
        assert updated_lines(card) == 1
        assert len(card.edits) == 2
    assert [message.shown_hash for message in messages] == [expected.fingerprint] * 2
    assert known == [expected.fingerprint] * 2
