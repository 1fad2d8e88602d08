"""Forum supergroups as their people run them: a forum made, topics opened, closed, reopened and
deleted by a member with the right to, and what each topic shows.

Each change posts the service message Telegram posts (forum_topic_created, forum_topic_closed,
forum_topic_reopened) and reaches the bots that see it; a deleted topic takes its messages with
it. Users write in a topic with ``send_message(..., topic=...)`` (simulation/writing.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.forums import ICON_COLORS, open_topic, remove_topic, set_topic_closed
from emulator.simulation.base import EmulatorBase
from emulator.simulation.people import USER_ADMIN_RIGHTS
from emulator.state import Chat, ForumTopic, Member, Message, User

# A forum's admins manage its topics, as Telegram's default admin rights let them.
FORUM_ADMIN_RIGHTS = USER_ADMIN_RIGHTS | {"can_manage_topics": True}


def _may_manage(chat: Chat, user: User) -> bool:
    member = chat.member(user.id)
    return member is not None and member.right("can_manage_topics")


class Forums(EmulatorBase):
    """Forums and their topics, changed by the people in them."""

    def create_forum(
        self,
        title: str,
        *,
        creator: User,
        members: Sequence[User] = (),
        admins: Sequence[User] = (),
        username: str | None = None,
    ) -> Chat:
        """A supergroup with topics switched on; its admins may manage topics."""
        chat = Chat(
            id=self._next_chat_id(supergroup=True),
            type="supergroup",
            title=title,
            username=username,
            is_forum=True,
        )
        for user in members:
            chat.members[user.id] = Member(user, "member")
        for user in admins:
            chat.members[user.id] = Member(user, "administrator", dict(FORUM_ADMIN_RIGHTS))
        chat.members[creator.id] = Member(creator, "creator")
        return self._register(chat)

    def create_topic(
        self, chat: Chat, name: str, *, by: User, icon_color: int = ICON_COLORS[0]
    ) -> ForumTopic:
        """Someone who may manage topics opens one: forum_topic_created reaches the bots."""
        if not chat.is_forum:
            raise ValueError(f"{chat.title!r} is not a forum")
        if not _may_manage(chat, by):
            raise ValueError(f"{by.first_name} may not manage topics in {chat.title!r}")
        return open_topic(self.world, chat, name=name, creator=by, icon_color=icon_color)

    def close_topic(self, chat: Chat, topic: ForumTopic, *, by: User) -> None:
        """The topic is closed: only those who may manage topics write in it now."""
        self._change(chat, topic, by, closed=True)

    def reopen_topic(self, chat: Chat, topic: ForumTopic, *, by: User) -> None:
        self._change(chat, topic, by, closed=False)

    def _change(self, chat: Chat, topic: ForumTopic, by: User, *, closed: bool) -> None:
        if chat.topics.get(topic.thread_id) is not topic:
            raise LookupError(f"topic {topic.name!r} is not in {chat.title!r}")
        if not _may_manage(chat, by) and topic.creator is not by:
            raise ValueError(f"{by.first_name} may not close or reopen {topic.name!r}")
        if topic.closed == closed:
            return
        set_topic_closed(self.world, chat, topic, closed=closed, actor=by)

    def delete_topic(self, chat: Chat, topic: ForumTopic, *, by: User) -> None:
        """The topic and every message in it are gone; sends to it find no thread."""
        member = chat.member(by.id)
        if member is None or not member.right("can_delete_messages"):
            raise ValueError(f"{by.first_name} may not delete topics in {chat.title!r}")
        remove_topic(self.world, chat, topic)

    def topic_messages(self, chat: Chat, topic: ForumTopic | None) -> list[Message]:
        """What one topic shows, oldest first (None: the General topic)."""
        thread_id = topic.thread_id if topic is not None else None
        return [m for m in chat.messages.values() if not m.deleted and m.thread_id == thread_id]
