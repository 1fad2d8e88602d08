"""Reactions through the real client: message_reaction and message_reaction_count reach a bot
only when it asked for them and may hear them, in Telegram's shapes; counts replace, never add."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from telegram import (
    Bot,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    ReactionTypePaid,
    Update,
)
from telegram.error import BadRequest

from emulator.reactions import PAID, custom_emoji
from emulator.simulation import BotAccount, Emulator, SimChat, SimUser

REACTIONS = ["message", "message_reaction", "message_reaction_count"]


async def take_updates(bot: Bot, allowed: Sequence[str] | None = REACTIONS) -> tuple[Update, ...]:
    """Every pending update (confirmed, so the next call sees only newer ones)."""
    got = await bot.get_updates(timeout=0, allowed_updates=allowed)
    if got:
        await bot.get_updates(offset=got[-1].update_id + 1, timeout=0, allowed_updates=allowed)
    return got


async def group_with_card(
    emu: Emulator, bot: Bot, account: BotAccount, *, admin: bool
) -> tuple[SimChat, SimUser, int]:
    """A group where the bot (an admin or not) posted a card, and its creator, Ada."""
    ada = emu.create_user("Ada")
    group = emu.create_group("Harbour readers", creator=ada, supergroup=True)
    await emu.add_bot_to_chat(group, by=ada, admin=admin, bot=account)
    card = await bot.send_message(group.id, "Tide tables")
    await take_updates(bot)
    return group, ada, card.message_id


async def channel_with_post(emu: Emulator, bot: Bot, account: BotAccount) -> tuple[SimChat, int]:
    """A channel where the admin bot posted."""
    owner = emu.create_user("Owen")
    channel = emu.create_channel("Harbour Daily", creator=owner)
    await emu.add_bot_to_chat(channel, by=owner, admin=True, bot=account)
    post = await bot.send_message(channel.id, "Storm warning")
    await take_updates(bot)
    return channel, post.message_id


async def test_private_reaction_set_changed_and_removed_reaches_the_bot(
    emu: Emulator, bot: Bot, reader: SimUser
) -> None:
    """In a private chat each change comes as message_reaction: who, the old and new set."""
    await take_updates(bot)
    sent = await bot.send_message(reader.id, "Morning briefing")
    chat = emu.private_chat(reader)
    await emu.react(reader, chat, sent.message_id, ["👍"])
    await emu.react(reader, chat, sent.message_id, ["❤"])
    await emu.react(reader, chat, sent.message_id, [])
    changes = [update.message_reaction for update in await take_updates(bot)]
    assert all(change is not None for change in changes)
    seen = [
        (
            change.user.id if change.user else None,
            change.message_id,
            [r.emoji for r in change.old_reaction if isinstance(r, ReactionTypeEmoji)],
            [r.emoji for r in change.new_reaction if isinstance(r, ReactionTypeEmoji)],
        )
        for change in changes
        if change is not None
    ]
    assert seen == [
        (reader.id, sent.message_id, [], ["👍"]),
        (reader.id, sent.message_id, ["👍"], ["❤"]),
        (reader.id, sent.message_id, ["❤"], []),
    ]
    assert chat.messages[sent.message_id].reactions == {}


async def test_reactions_are_opt_in(emu: Emulator, bot: Bot, reader: SimUser) -> None:
    """A bot that never named message_reaction in allowed_updates hears nothing of reactions."""
    await take_updates(bot, allowed=None)
    sent = await bot.send_message(reader.id, "Morning briefing")
    await emu.react(reader, emu.private_chat(reader), sent.message_id, ["🔥"])
    assert await take_updates(bot, allowed=None) == ()
    # The reaction is kept on the message all the same.
    assert emu.private_chat(reader).messages[sent.message_id].reactions == {
        reader.id: ({"type": "emoji", "emoji": "🔥"},)
    }


@pytest.mark.parametrize(("admin", "heard"), [(False, 0), (True, 1)])
async def test_in_groups_only_an_admin_bot_hears_reactions(
    emu: Emulator, bot: Bot, account: BotAccount, *, admin: bool, heard: int
) -> None:
    """A group's reactions reach the bot as message_reaction only when it is an administrator."""
    group, ada, card = await group_with_card(emu, bot, account, admin=admin)
    await emu.react(ada, group, card, ["👏"])
    updates = await take_updates(bot)
    assert [u.message_reaction.chat.id for u in updates if u.message_reaction] == [
        group.id
    ] * heard
    assert all(u.message_reaction_count is None for u in updates)


async def test_channel_counts_replace_and_name_no_one(
    emu: Emulator, bot: Bot, account: BotAccount
) -> None:
    """In a channel each change brings message_reaction_count with the full current counts."""
    channel, post = await channel_with_post(emu, bot, account)
    rita, omar = emu.create_user("Rita"), emu.create_user("Omar")
    await emu.react(rita, channel, post, ["👍"])
    await emu.react(omar, channel, post, ["👍"])
    await emu.react(rita, channel, post, [])
    updates = await take_updates(bot)
    assert all(u.message_reaction is None for u in updates)
    counts = [
        [(r.type.emoji, r.total_count) for r in u.message_reaction_count.reactions]  # type: ignore[union-attr]
        for u in updates
        if u.message_reaction_count is not None
    ]
    assert counts == [[("👍", 1)], [("👍", 2)], [("👍", 1)]]


async def test_custom_and_paid_reactions_are_counted_as_their_own_kinds(
    emu: Emulator, bot: Bot, account: BotAccount
) -> None:
    """A custom emoji counts under its id and a paid star as "paid", beside standard emoji."""
    channel, post = await channel_with_post(emu, bot, account)
    rita, omar = emu.create_user("Rita"), emu.create_user("Omar")
    await emu.react(rita, channel, post, [custom_emoji("5368324170671202286"), PAID])
    await emu.react(omar, channel, post, [PAID, "🎉"])
    (*_, last) = await take_updates(bot)
    assert last.message_reaction_count is not None
    shown = {
        (type(r.type).__name__, getattr(r.type, "custom_emoji_id", None), r.total_count)
        for r in last.message_reaction_count.reactions
    }
    assert shown == {
        (ReactionTypePaid.__name__, None, 2),
        (ReactionTypeCustomEmoji.__name__, "5368324170671202286", 1),
        (ReactionTypeEmoji.__name__, None, 1),
    }


async def test_the_bot_is_not_told_of_its_own_reaction(
    emu: Emulator, bot: Bot, account: BotAccount
) -> None:
    """setMessageReaction sets the bot's reaction on the message, and no update comes of it."""
    group, ada, card = await group_with_card(emu, bot, account, admin=True)
    assert await bot.set_message_reaction(group.id, card, "👌") is True
    assert await take_updates(bot) == ()
    assert group.messages[card].reactions == {account.id: ({"type": "emoji", "emoji": "👌"},)}
    await emu.react(ada, group, card, ["👌"])
    (update,) = await take_updates(bot)
    assert update.message_reaction is not None
    assert update.message_reaction.user is not None
    assert update.message_reaction.user.id == ada.id


async def test_set_message_reaction_refuses_what_telegram_refuses(
    emu: Emulator, bot: Bot, account: BotAccount
) -> None:
    """An emoji outside Telegram's list, a paid reaction from a bot, a missing message."""
    group, _, card = await group_with_card(emu, bot, account, admin=True)
    with pytest.raises(BadRequest, match=r"(?i)^reaction_invalid$"):
        await bot.set_message_reaction(group.id, card, "🦖")
    with pytest.raises(BadRequest, match=r"(?i)^reaction_invalid$"):
        await bot.set_message_reaction(group.id, card, ReactionTypePaid())
    with pytest.raises(BadRequest, match=r"(?i)^message to react not found$"):
        await bot.set_message_reaction(group.id, 999, "👍")
    assert group.messages[card].reactions == {}


async def test_react_refuses_who_cannot_react(
    emu: Emulator, bot: Bot, account: BotAccount
) -> None:
    """A stranger to the group, an emoji Telegram lacks and a paid star outside channels."""
    group, ada, card = await group_with_card(emu, bot, account, admin=True)
    stranger = emu.create_user("Sam")
    with pytest.raises(ValueError, match="not a member"):
        await emu.react(stranger, group, card, ["👍"])
    with pytest.raises(ValueError, match="REACTION_INVALID"):
        await emu.react(ada, group, card, ["🦖"])
    with pytest.raises(ValueError, match="paid reactions are for channel posts"):
        await emu.react(ada, group, card, [PAID])
    assert await take_updates(bot) == ()
