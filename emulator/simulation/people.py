"""Who is in the emulated Telegram: bots registered by token, users, and the groups and channels
they create with their members and admins; a user's private chat with a bot.
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.simulation.base import EmulatorBase
from emulator.state import ADMIN_RIGHTS, BotAccount, Chat, Member, User

FIRST_USER_ID = 7_000_000_000
USER_ADMIN_RIGHTS = dict.fromkeys(ADMIN_RIGHTS, True) | {"can_pin_messages": True}


class People(EmulatorBase):
    """Bots, users, groups and channels, made the way Telegram's users make them."""

    def add_bot(
        self,
        token: str,
        *,
        username: str = "newsdesk_bot",
        first_name: str = "Newsdesk",
        privacy_mode: bool = True,
    ) -> BotAccount:
        prefix, _, secret = token.partition(":")
        if not prefix.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '123456:ABC-DEF', not {token!r}")
        bot_id = int(prefix)
        user = User(id=bot_id, first_name=first_name, username=username, is_bot=True)
        bot = BotAccount(
            id=bot_id,
            token=token,
            username=username,
            first_name=first_name,
            user=user,
            privacy_mode=privacy_mode,
        )
        self.world.users[bot_id] = user
        self.world.bots[bot_id] = bot
        self.world.bots_by_token[token] = bot
        return bot

    def create_user(
        self,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        self._users += 1
        user = User(
            id=FIRST_USER_ID + self._users,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.world.users[user.id] = user
        return user

    def create_group(
        self,
        title: str,
        *,
        creator: User,
        members: Sequence[User] = (),
        admins: Sequence[User] = (),
        supergroup: bool = False,
        username: str | None = None,
    ) -> Chat:
        chat = Chat(
            id=self._next_chat_id(supergroup=supergroup),
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
        )
        for user in members:
            chat.members[user.id] = Member(user, "member")
        for user in admins:
            chat.members[user.id] = Member(user, "administrator", dict(USER_ADMIN_RIGHTS))
        chat.members[creator.id] = Member(creator, "creator")
        return self._register(chat)

    def create_channel(
        self,
        title: str,
        *,
        creator: User,
        username: str | None = None,
        admins: Sequence[User] = (),
    ) -> Chat:
        chat = Chat(
            id=self._next_chat_id(supergroup=True), type="channel", title=title, username=username
        )
        for user in admins:
            rights = dict(USER_ADMIN_RIGHTS) | {"can_post_messages": True}
            chat.members[user.id] = Member(user, "administrator", rights)
        chat.members[creator.id] = Member(creator, "creator")
        return self._register(chat)

    def private_chat(self, user: User, *, bot: BotAccount | None = None) -> Chat:
        """The user's private chat with the bot; its id is the user's id, as in Telegram."""
        return self.world.private_chat(self._the_bot(bot), user)
