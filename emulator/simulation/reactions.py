"""What people feel about a message: they react, change their reactions and take them back.

Each change goes through emulator.reactions, which keeps it on the message (the web view shows the
counts) and sends bots message_reaction or message_reaction_count as Telegram would.
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.errors import ApiError
from emulator.reactions import set_reactions
from emulator.simulation.base import EmulatorBase
from emulator.state import Chat, JsonObject, User


class Reactions(EmulatorBase):
    """People reacting to messages in the chats they can read."""

    async def react(
        self, user: User, chat: Chat, message_id: int, reactions: Sequence[str | JsonObject]
    ) -> bool:
        """The user's reactions on the message become `reactions` (standard emoji as strings,
        or ReactionType objects; empty removes them); False when nothing changed."""
        if user.is_bot:
            raise ValueError("bots react with setMessageReaction")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise LookupError(f"no message {message_id} in {chat.id}")
        self._may_react(user, chat)
        if chat.type != "channel" and any(
            isinstance(r, dict) and r.get("type") == "paid" for r in reactions
        ):
            raise ValueError("paid reactions are for channel posts")
        try:
            return set_reactions(self.world, message, user, reactions)
        except ApiError as error:
            raise ValueError(f"{error.description}: {list(reactions)!r}") from None

    def _may_react(self, user: User, chat: Chat) -> None:
        if chat.type == "private":
            if chat.user is not user:
                raise ValueError(f"{user.first_name} is not in this private chat")
            return
        if chat.type == "channel":
            # Channel readers are not members in the emulator: anyone may react there.
            return
        member = chat.member(user.id)
        if member is None or not member.present:
            raise ValueError(f"{user.first_name} is not a member of {chat.title!r}")
        if member.status == "restricted" and not member.rights.get("can_react_to_messages"):
            raise ValueError(f"{user.first_name} may not react in {chat.title!r}")
