"""/start, deep links, /help and the command menus, driven through the emulator."""

from __future__ import annotations

from harness import RunningBot
from polls_support import started_private_chat

from bot.start.handlers import UNKNOWN_LINK
from storage import chats, users


async def test_start_welcomes_and_records_the_reader(running_bot: RunningBot) -> None:
    """/start greets the reader and stores both the user and the private chat."""
    emu = running_bot.emulator
    reader = emu.create_user("Rui", username="rui", last_name="Costa")
    await emu.send_message(reader, "/start")
    reply = await emu.wait_for_bot_message(emu.private_chat(reader))
    assert "Welcome!" in reply.text
    assert "/subscribe" in reply.text
    async with running_bot.db.transaction() as session:
        stored_user = await users.get_user(session, user_id=reader.id)
        stored_chat = await chats.get_chat(session, chat_id=reader.id)
    assert stored_user is not None
    assert (stored_user.first_name, stored_user.last_name, stored_user.username) == (
        "Rui",
        "Costa",
        "rui",
    )
    assert stored_chat is not None
    assert not stored_chat.subscribed


async def test_start_with_an_unknown_payload_explains(running_bot: RunningBot) -> None:
    """A deep link the bot never handed out gets a clear answer and the help text."""
    emu = running_bot.emulator
    reader = emu.create_user("Mia")
    await emu.send_message(reader, "/start zz_forged")
    reply = await emu.wait_for_bot_message(emu.private_chat(reader))
    assert reply.text.startswith(UNKNOWN_LINK)
    assert "/unsubscribe" in reply.text


async def test_help_lists_the_reader_commands(running_bot: RunningBot) -> None:
    """/help names every reader command."""
    emu = running_bot.emulator
    reader = emu.create_user("Ola")
    await emu.send_message(reader, "/help")
    reply = await emu.wait_for_bot_message(emu.private_chat(reader))
    for command in ("/subscribe", "/unsubscribe", "/help"):
        assert command in reply.text


async def test_command_menus_are_published_for_readers_and_admins(
    running_bot: RunningBot,
) -> None:
    """On start the bot sets a default menu and a longer one scoped to each admin's chat."""
    emu = running_bot.emulator
    # Menus are set in the background once the bot runs (bot/runtime/niceties.py).
    requests = await emu.wait_for(
        lambda: len(emu.requests("setMyCommands")) >= 2 and emu.requests("setMyCommands")
    )
    scopes = {str(r.params.get("scope")): r for r in requests}
    assert any("default" in scope for scope in scopes)
    admin_scoped = [r for r in requests if str(running_bot.admin.id) in str(r.params.get("scope"))]
    assert len(admin_scoped) == 1
    default = next(r for r in requests if "default" in str(r.params.get("scope")))
    assert len(admin_scoped[0].params["commands"]) >= len(default.params["commands"])  # type: ignore[arg-type]
    assert all(r.status == 200 for r in requests)


ADMIN_ONLY_COMMANDS = ("/publish", "/broadcast", "/cancel", "/queue", "/stats", "/closepoll")


async def test_help_lists_admin_commands_to_admins_only_in_private(
    running_bot: RunningBot,
) -> None:
    """An admin's /help in private also lists the admin commands; a reader's /help, and an
    admin's /help in a group, list only the reader commands."""
    emu, admin = running_bot.emulator, running_bot.admin
    reader = emu.create_user("Ines")
    group = emu.create_group("Ferry talk", creator=admin)
    await emu.add_bot_to_chat(group, by=admin)

    sent = await emu.send_message(admin, "/help")
    admins_help = await emu.wait_for_bot_message(
        started_private_chat(emu, admin), after=sent.message_id
    )
    await emu.send_message(reader, "/help")
    readers_help = await emu.wait_for_bot_message(emu.private_chat(reader))
    sent = await emu.send_message(admin, "/help", chat=group)
    group_help = await emu.wait_for_bot_message(group, after=sent.message_id)

    for command in ("/latest", "/subscribe", "/help", *ADMIN_ONLY_COMMANDS):
        assert command in admins_help.text
    for shown in (readers_help, group_help):
        assert "/subscribe" in shown.text
        assert [c for c in ADMIN_ONLY_COMMANDS if c in shown.text] == []
