"""Inline mode through the emulator: matching articles in pages of 50, the Share button's query,
and cards posted inline whose votes update every other copy of the poll."""

from __future__ import annotations

from functools import partial

from harness import RunningBot, wait_until
from polls_support import expected_content, shows
from sharing_support import POLL_QUESTION, cards_in, inline_copies, publish
from sqlmodel import col, select

from bot.sharing.inline_search import CACHE_SECONDS
from bot.telegram.callback_data import VoteTap, encode
from emulator.simulation import SimMessage
from storage import polls
from storage.models import Vote


async def test_inline_query_lists_matches_newest_first_in_pages(running_bot: RunningBot) -> None:
    """Words match title or standfirst, newest first, 50 a page with next_offset; an empty query
    lists the newest articles; each result has title, standfirst and thumbnail."""
    bot = running_bot
    emu = bot.emulator
    for n in range(53):
        await publish(bot, f"tide-{n}", f"Tide table {n}", "Low water at the harbour mouth.")
    other = await publish(
        bot,
        "gulls",
        "Gulls nest on the old pier",
        "Wardens count the harbour colony.",
        image="https://harbour-herald.example/img/gulls.jpg",
    )
    reader = emu.create_user("Ines")

    first = await emu.inline_query(reader, "harbour")
    assert len(first.results) == 50
    assert first.next_offset == "50"
    assert first.results[0]["id"] == f"a{other}"
    assert first.results[1]["title"] == "Tide table 52"
    second = await emu.inline_query(reader, "harbour", offset=first.next_offset)
    assert [r["title"] for r in second.results] == [f"Tide table {n}" for n in (3, 2, 1, 0)]
    assert second.next_offset == ""

    gulls = first.results[0]
    assert gulls["title"] == "Gulls nest on the old pier"
    assert gulls["description"] == "Wardens count the harbour colony."
    assert gulls["thumbnail_url"] == "https://harbour-herald.example/img/gulls.jpg"
    assert (first.cache_time, first.is_personal) == (CACHE_SECONDS, False)

    colony = await emu.inline_query(reader, "COLONY wardens")
    assert [r["id"] for r in colony.results] == [f"a{other}"]
    newest = await emu.inline_query(reader, "")
    assert [r["title"] for r in newest.results[:2]] == [
        "Gulls nest on the old pier",
        "Tide table 52",
    ]
    nothing = await emu.inline_query(reader, "volcano")
    assert (nothing.results, nothing.next_offset) == ([], "")


async def test_share_button_query_finds_exactly_its_article(running_bot: RunningBot) -> None:
    """The query the card's Share button types finds that article alone; with the id removed its
    headline words still find it; a result carries the card's text, poll buttons and links."""
    bot = running_bot
    emu = bot.emulator
    wanted = await publish(bot, "ferry", "Night ferry trial extended")
    await publish(bot, "ferry-fares", "Night ferry fares to rise")
    reader = emu.create_user("Ola")
    await emu.send_message(reader, f"/start a_{wanted}")
    card = (await emu.wait_for(lambda: cards_in(bot, emu.private_chat(reader)), what="card"))[0]
    share = next(b for row in card.buttons for b in row if "switch_inline_query" in b)
    assert share["switch_inline_query"] == f"a_{wanted} Night ferry trial extended"

    exact = await emu.inline_query(reader, share["switch_inline_query"])
    assert [r["id"] for r in exact.results] == [f"a{wanted}"]
    result = exact.results[0]
    text = result["input_message_content"]["message_text"]
    assert "<b>Night ferry trial extended</b>" in text
    assert POLL_QUESTION in text
    labels = [b["text"] for row in result["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:2] == ["Yes · 0", "No · 0"]
    assert "Read the full article" in labels

    by_words = await emu.inline_query(reader, "trial extended")
    assert [r["id"] for r in by_words.results] == [f"a{wanted}"]


async def test_a_vote_in_an_inline_copy_updates_every_copy(running_bot: RunningBot) -> None:
    """Five copies of a card (private chat, group, channel, two inline copies in other chats):
    choosing a result registers its inline message, and a vote in one inline copy counts in the
    poll and shows the new totals in all five."""
    bot = running_bot
    emu = bot.emulator
    owner = emu.create_user("Gus")
    group = emu.create_group("Harbour watchers", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await emu.send_message(owner, "/subscribe", chat=group)
    channel = emu.create_channel("Coast brief", creator=owner)
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    await emu.post_in_channel(owner, channel, "/subscribe")
    for chat in (group, channel):
        await emu.wait_for(partial(emu.bot_messages, chat), what="the subscription reply")

    article_id = await publish(bot, "ferry", "Night ferry trial extended")
    reader = emu.create_user("Ines")
    await emu.send_message(reader, f"/start a_{article_id}")
    copies: list[SimMessage] = []
    for chat in (emu.private_chat(reader), group, channel):
        copies += await emu.wait_for(partial(cards_in, bot, chat), what=f"a card in {chat.id}")

    sharers = [emu.create_user("Lea"), emu.create_user("Tom")]
    elsewhere = [
        emu.create_group("Book club", creator=sharers[0]),
        emu.create_group("Sailing club", creator=sharers[1]),
    ]
    for sharer, chat in zip(sharers, elsewhere, strict=True):
        answer = await emu.inline_query(sharer, f"a_{article_id}", chat_type="group")
        copies.append(await emu.choose_inline_result(sharer, answer, f"a{article_id}", chat=chat))
    registered = await inline_copies(bot, 2)
    assert sorted(registered) == sorted(str(copy.inline_message_id) for copy in copies[3:])

    async with bot.db.transaction() as session:
        poll = await polls.poll_for_article(session, article_id=article_id)
    assert poll is not None
    assert poll.id is not None
    voter = emu.create_user("Vic")
    toast = await emu.press_button(voter, copies[3], data=encode(VoteTap(poll.id, 0)))
    assert toast.text == "You voted: Yes"

    expected = await expected_content(bot.db, poll.id)
    assert "Total votes: 1" in expected.text_html
    await emu.wait_for(
        lambda: all(shows(copy, expected) for copy in copies),
        timeout=15,
        what="every copy showing the vote",
    )

    async def inline_vote() -> list[int | None] | None:
        async with bot.db.transaction() as session:
            rows = await session.exec(select(Vote.chat_id).where(col(Vote.poll_id) == poll.id))
            return list(rows) or None

    assert await wait_until(inline_vote, what="the stored vote") == [None]


async def test_inline_copy_of_an_image_card_keeps_its_headline_when_totals_change(
    running_bot: RunningBot,
) -> None:
    """An image card's inline copy is one message (headline and poll); live totals keep it whole
    while the chat copy, whose poll follows the photo, gets only its second half edited."""
    bot = running_bot
    emu = bot.emulator
    article_id = await publish(
        bot, "gulls", "Gull colony returns to the pier", image="https://harbour.example/g.jpg"
    )
    reader = emu.create_user("Ada")
    await emu.send_message(reader, f"/start a_{article_id}")
    (chat_copy,) = await emu.wait_for(
        partial(cards_in, bot, emu.private_chat(reader)), what="the card"
    )
    sharer = emu.create_user("Bo")
    answer = await emu.inline_query(sharer, f"a_{article_id}", chat_type="group")
    inline_copy = await emu.choose_inline_result(
        sharer, answer, f"a{article_id}", chat=emu.create_group("Pier club", creator=sharer)
    )
    assert "Gull colony returns to the pier" in inline_copy.text
    await inline_copies(bot, 1)

    async with bot.db.transaction() as session:
        poll = await polls.poll_for_article(session, article_id=article_id)
    assert poll is not None
    assert poll.id is not None
    await emu.press_button(emu.create_user("Cy"), chat_copy, data=encode(VoteTap(poll.id, 0)))

    def updated(message: SimMessage) -> SimMessage | None:
        current = (
            emu.inline_message(message.inline_message_id) if message.inline_message_id else None
        )
        shown = current or next(
            m for m in emu.bot_messages(message.chat) if m.message_id == message.message_id
        )  # type: ignore[arg-type]
        return shown if "Total votes: 1" in shown.text else None

    inline_now = await emu.wait_for(lambda: updated(inline_copy), timeout=15, what="inline copy")
    chat_now = await emu.wait_for(lambda: updated(chat_copy), timeout=15, what="chat copy")
    assert "Gull colony returns to the pier" in inline_now.text
    assert "Gull colony returns to the pier" not in chat_now.text
