"""Who belongs where, as users change it: a reader blocking and unblocking the bot, the bot added
to a chat (or promoted) and removed, anyone's standing changed, a group becoming a supergroup.

Each change reaches bots as Telegram sends it: my_chat_member or chat_member, with the service
message (new_chat_members, left_chat_member, migrate_to_chat_id) groups show.
"""

from __future__ import annotations

from emulator.events import member_change
from emulator.simulation.base import EmulatorBase
from emulator.simulation.people import USER_ADMIN_RIGHTS
from emulator.state import BotAccount, Chat, Member, User


def _bot_admin_rights(chat: Chat, *, can_post_messages: bool) -> dict[str, bool]:
    rights = {
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    }
    if chat.type == "channel":
        rights |= {"can_post_messages": can_post_messages, "can_edit_messages": True}
    else:
        rights |= {"can_pin_messages": True}
    return rights


class Membership(EmulatorBase):
    """Blocking, adding and removing the bot, standings changed, groups upgraded."""

    async def block_bot(self, user: User, *, bot: BotAccount | None = None) -> None:
        self._set_blocked(user, bot, blocked=True)

    async def unblock_bot(self, user: User, *, bot: BotAccount | None = None) -> None:
        self._set_blocked(user, bot, blocked=False)

    def _set_blocked(self, user: User, bot: BotAccount | None, *, blocked: bool) -> None:
        """The user blocks or unblocks the bot: my_chat_member, once per real change."""
        target = self._the_bot(bot)
        chat = self.world.private_chat(target, user)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        if not blocked:
            # Unblocking restarts the chat, as Telegram's Restart button does.
            chat.started = True
        before, after = ("member", "kicked") if blocked else ("kicked", "member")
        member_change(
            self.world,
            chat,
            actor=user,
            old=Member(target.user, before),
            new=Member(target.user, after),
        )

    async def add_bot_to_chat(
        self,
        chat: Chat,
        *,
        by: User,
        admin: bool = False,
        can_post_messages: bool = True,
        bot: BotAccount | None = None,
    ) -> None:
        """A user adds (or promotes) the bot: my_chat_member, and new_chat_members in groups."""
        target = self._the_bot(bot)
        old = chat.members.get(target.id) or Member(target.user, "left")
        new = (
            Member(
                target.user,
                "administrator",
                _bot_admin_rights(chat, can_post_messages=can_post_messages),
            )
            if admin
            else Member(target.user, "member")
        )
        chat.members[target.id] = new
        member_change(self.world, chat, actor=by, old=old, new=new)
        if chat.type != "channel" and not old.present:
            self._service_message(chat, by, {"new_chat_members": [target.user.to_api()]})

    async def remove_bot_from_chat(
        self, chat: Chat, *, by: User, bot: BotAccount | None = None
    ) -> None:
        """A user removes the bot: my_chat_member with status kicked."""
        target = self._the_bot(bot)
        old = chat.members.get(target.id) or Member(target.user, "left")
        new = Member(target.user, "kicked")
        chat.members[target.id] = new
        member_change(self.world, chat, actor=by, old=old, new=new)
        if chat.type != "channel":
            self._service_message(chat, by, {"left_chat_member": target.user.to_api()})

    async def set_member_status(
        self,
        chat: Chat,
        user: User | BotAccount,
        status: str,
        *,
        by: User | None = None,
        rights: dict[str, bool] | None = None,
    ) -> None:
        """Change someone's standing; admin bots get chat_member (if they asked for it)."""
        subject = user.user if isinstance(user, BotAccount) else user
        old = chat.members.get(subject.id) or Member(subject, "left")
        if rights is None and status == "administrator":
            rights = (
                _bot_admin_rights(chat, can_post_messages=True)
                if subject.is_bot
                else dict(USER_ADMIN_RIGHTS)
            )
        new = Member(subject, status, rights or {})
        chat.members[subject.id] = new
        actor = by or next(
            (m.user for m in chat.members.values() if m.status == "creator"), subject
        )
        member_change(self.world, chat, actor=actor, old=old, new=new)

    async def upgrade_to_supergroup(self, chat: Chat) -> Chat:
        """The group becomes a supergroup with a new id; the old id answers migrate_to_chat_id."""
        if chat.type != "group":
            raise ValueError("only basic groups are upgraded")
        creator = next(m.user for m in chat.members.values() if m.status == "creator")
        supergroup = Chat(
            id=self._next_chat_id(supergroup=True),
            type="supergroup",
            title=chat.title,
            username=chat.username,
        )
        for user_id, member in chat.members.items():
            supergroup.members[user_id] = Member(member.user, member.status, dict(member.rights))
        self._register(supergroup)
        self._service_message(chat, creator, {"migrate_to_chat_id": supergroup.id})
        chat.migrated_to = supergroup.id
        self._service_message(supergroup, creator, {"migrate_from_chat_id": chat.id})
        self.world.signal.notify()
        return supergroup
