"""Groups, supergroups and channels: membership updates, rights, migration, reads, commands."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ChatMemberAdministrator,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden

from emulator.simulation import BotAccount, Emulator, SimUser


@pytest.fixture(name="owner")
def owner_fixture(emu: Emulator) -> SimUser:
    """The user who owns the chats."""
    return emu.create_user("Olga", username="olga")


async def drain(bot: Bot) -> tuple[Update, ...]:
    """Every pending update, confirmed."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)
    return updates


async def test_adding_the_bot_sends_my_chat_member_and_a_service_message(
    emu: Emulator, bot: Bot, owner: SimUser, account: BotAccount
) -> None:
    """Being added to a group gives my_chat_member (left -> member) and new_chat_members."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    updates = await drain(bot)
    change = updates[0].my_chat_member
    assert change is not None
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert change.from_user.id == owner.id
    service = updates[1].message
    assert service is not None
    assert [u.id for u in service.new_chat_members] == [account.id]
    assert (await bot.send_message(group.id, "Hello, desk")).chat.id == group.id


async def test_admin_rights_are_reported_in_the_update_and_getchatmember(
    emu: Emulator, bot: Bot, owner: SimUser, account: BotAccount
) -> None:
    """Promotion to administrator carries the rights fields python-telegram-bot requires."""
    group = emu.create_group("Desk", creator=owner, supergroup=True)
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    change = (await drain(bot))[0].my_chat_member
    assert change is not None
    assert isinstance(change.new_chat_member, ChatMemberAdministrator)
    assert change.new_chat_member.can_delete_messages is True
    member = await bot.get_chat_member(group.id, account.id)
    assert isinstance(member, ChatMemberAdministrator)
    admins = await bot.get_chat_administrators(group.id)
    assert {m.user.id for m in admins} == {owner.id, account.id}


async def test_privacy_mode_shows_commands_but_not_chatter(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """In privacy mode the bot gets /commands and replies to it, not other group messages."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await drain(bot)
    await emu.send_message(owner, "just chatting", chat=group)
    await emu.send_message(owner, "/poll@desk_bot", chat=group)
    await emu.send_message(owner, "/other@someone_else_bot", chat=group)
    texts = [u.message.text for u in await drain(bot) if u.message]
    assert texts == ["/poll@desk_bot"]


async def test_kicked_bot_is_forbidden_with_the_chat_kind(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """After removal, sends get "bot was kicked from the group/supergroup/channel chat"."""
    group = emu.create_group("G", creator=owner)
    supergroup = emu.create_group("S", creator=owner, supergroup=True)
    channel = emu.create_channel("C", creator=owner)
    for chat, kind in ((group, "group"), (supergroup, "supergroup"), (channel, "channel")):
        await emu.add_bot_to_chat(chat, by=owner, admin=True)
        await emu.remove_bot_from_chat(chat, by=owner)
        with pytest.raises(Forbidden, match=rf"bot was kicked from the {kind} chat"):
            await bot.send_message(chat.id, "still here?")
    statuses = [
        u.my_chat_member.new_chat_member.status for u in await drain(bot) if u.my_chat_member
    ]
    assert statuses == ["administrator", "kicked"] * 3


async def test_left_bot_is_not_a_member(emu: Emulator, bot: Bot, owner: SimUser) -> None:
    """After leaveChat the bot is "not a member of the supergroup chat"."""
    supergroup = emu.create_group("S", creator=owner, supergroup=True)
    await emu.add_bot_to_chat(supergroup, by=owner)
    assert await bot.leave_chat(supergroup.id)
    with pytest.raises(Forbidden, match=r"bot is not a member of the supergroup chat"):
        await bot.send_message(supergroup.id, "hi")


async def test_channel_needs_admin_rights_to_post(emu: Emulator, bot: Bot, owner: SimUser) -> None:
    """A plain member cannot post in a channel; an admin with can_post_messages can."""
    channel = emu.create_channel("News", creator=owner, username="newschan")
    await emu.add_bot_to_chat(channel, by=owner)
    with pytest.raises(BadRequest, match=r"(?i)^need administrator rights in the channel chat$"):
        await bot.send_message(channel.id, "scoop")
    await emu.add_bot_to_chat(channel, by=owner, admin=True)
    posted = await bot.send_message("@newschan", "scoop")
    assert posted.sender_chat is not None
    assert posted.sender_chat.id == channel.id
    await drain(bot)
    await emu.post_in_channel(owner, channel, "from the editor")
    posts = [u.channel_post.text for u in await drain(bot) if u.channel_post]
    assert posts == ["from the editor"]


async def test_upgraded_group_answers_with_the_new_id(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """After the upgrade the old id gives ChatMigrated with the supergroup's id."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    await drain(bot)
    supergroup = await emu.upgrade_to_supergroup(group)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "hello?")
    assert caught.value.new_chat_id == supergroup.id
    assert (await bot.send_message(supergroup.id, "hello")).chat.type == "supergroup"
    services = [u.message for u in await drain(bot) if u.message]
    assert services[0].migrate_to_chat_id == supergroup.id
    assert services[1].migrate_from_chat_id == group.id


async def test_block_and_unblock_send_my_chat_member(emu: Emulator, bot: Bot) -> None:
    """Blocking gives my_chat_member kicked; unblocking gives member."""
    reader = emu.create_user("Rita")
    await emu.send_message(reader, "/start")
    await emu.block_bot(reader)
    await emu.unblock_bot(reader)
    changes = [u.my_chat_member for u in await drain(bot) if u.my_chat_member]
    assert [c.new_chat_member.status for c in changes] == ["kicked", "member"]
    assert all(c.chat.id == reader.id for c in changes)


async def test_get_chat_describes_the_chat(emu: Emulator, bot: Bot, owner: SimUser) -> None:
    """getChat returns a ChatFullInfo python-telegram-bot parses."""
    group = emu.create_group("Desk", creator=owner, supergroup=True, username="deskgroup")
    info = await bot.get_chat(group.id)
    assert (info.id, info.type, info.title, info.username) == (
        group.id,
        "supergroup",
        "Desk",
        "deskgroup",
    )


async def test_chat_the_bot_never_joined_is_not_found(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """A private group the bot was never in does not exist for it."""
    group = emu.create_group("Secret", creator=owner)
    with pytest.raises(BadRequest, match=r"(?i)^chat not found$"):
        await bot.get_chat(group.id)


async def test_commands_are_kept_per_scope(emu: Emulator, bot: Bot, owner: SimUser) -> None:
    """setMyCommands stores commands per scope and language; delete removes them."""
    private = [BotCommand("start", "Start"), BotCommand("latest", "Latest articles")]
    await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    await emu.send_message(owner, "/start")
    await bot.set_my_commands([BotCommand("poll", "Poll")], scope=BotCommandScopeChat(owner.id))
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == tuple(private)
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(owner.id))] == [
        "poll"
    ]
    assert await bot.get_my_commands() == ()
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()


async def test_invalid_command_is_refused(bot: Bot) -> None:
    """A command with capital letters is refused."""
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Start")])


async def test_privacy_mode_lets_replies_to_the_bot_through(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """A group reply to the bot's own message reaches a bot in privacy mode."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    sent = await bot.send_message(group.id, "Thoughts?")
    await drain(bot)
    bot_message = emu.bot_messages(group)[-1]
    assert bot_message.message_id == sent.message_id
    await emu.send_message(owner, "Agreed", chat=group, reply_to=bot_message)
    replies = [u.message for u in await drain(bot) if u.message]
    assert [m.text for m in replies] == ["Agreed"]
    assert replies[0].reply_to_message is not None
    assert replies[0].reply_to_message.message_id == sent.message_id


async def test_non_member_is_reported_as_left(emu: Emulator, bot: Bot, owner: SimUser) -> None:
    """getChatMember of a known user outside the group answers status left."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    outsider = emu.create_user("Otto")
    assert (await bot.get_chat_member(group.id, outsider.id)).status == "left"
    assert (await bot.get_chat_member(group.id, owner.id)).status == "creator"


async def test_deleting_others_messages_needs_the_right(
    emu: Emulator, bot: Bot, owner: SimUser
) -> None:
    """Without can_delete_messages the bot cannot delete a user's group message; with it can."""
    group = emu.create_group("Desk", creator=owner)
    await emu.add_bot_to_chat(group, by=owner)
    spam = await emu.send_message(owner, "/buy now", chat=group)
    with pytest.raises(BadRequest, match=r"(?i)^message can't be deleted$"):
        await bot.delete_message(group.id, spam.message_id)
    await emu.add_bot_to_chat(group, by=owner, admin=True)
    assert await bot.delete_message(group.id, spam.message_id)
    assert spam.deleted
