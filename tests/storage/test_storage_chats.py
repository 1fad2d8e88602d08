"""Chat queries: subscribing, stopping, the bot joining and leaving, and supergroup migration."""

import pytest
from sqlmodel import col, select

from storage.chats import (
    SubscribeResult,
    UnknownChatError,
    count_chats_by_kind,
    get_chat,
    mark_chat_stopped,
    migrate_chat,
    record_bot_membership,
    subscribe_chat,
    unsubscribe_chat,
    upsert_chat,
)
from storage.engine import Database
from storage.models import (
    Article,
    Chat,
    ChatKind,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Poll,
    PollMessage,
    PollOption,
    RetireReason,
    StopReason,
    Vote,
)
from storage.users import upsert_user

READER_ID = 1001
GROUP_ID = -4_000_001
SUPERGROUP_ID = -1_001_234_567_890


async def _chat(db: Database, chat_id: int) -> Chat:
    async with db.transaction() as session:
        chat = await get_chat(session, chat_id=chat_id)
    assert chat is not None
    return chat


async def test_a_new_chat_is_recorded_unsubscribed(db: Database) -> None:
    """Meeting a chat records it without starting pushes."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=READER_ID, kind=ChatKind.PRIVATE, title=None)
    chat = await _chat(db, READER_ID)
    assert (chat.kind, chat.subscribed, chat.active, chat.stop_reason) == (
        ChatKind.PRIVATE,
        False,
        False,
        None,
    )


async def test_upsert_chat_updates_the_title_and_keeps_the_subscription(db: Database) -> None:
    """A renamed group keeps its subscription and settings."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Readers")
        await subscribe_chat(session, chat_id=GROUP_ID)
        chat = await get_chat(session, chat_id=GROUP_ID)
        assert chat is not None
        chat.settings = {"autocards": True}
        session.add(chat)
    async with db.transaction() as session:
        renamed = await upsert_chat(
            session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Night readers", username="nr"
        )
    assert (renamed.title, renamed.username) == ("Night readers", "nr")
    assert (renamed.subscribed, renamed.active, renamed.settings) == (
        True,
        True,
        {"autocards": True},
    )


async def test_subscribe_and_unsubscribe_report_what_happened(db: Database) -> None:
    """Subscribing says new, already or again; unsubscribing says whether there was anything."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=READER_ID, kind=ChatKind.PRIVATE, title=None)
        outcomes = [
            await subscribe_chat(session, chat_id=READER_ID),
            await subscribe_chat(session, chat_id=READER_ID),
            await unsubscribe_chat(session, chat_id=READER_ID),
            await unsubscribe_chat(session, chat_id=READER_ID),
            await subscribe_chat(session, chat_id=READER_ID),
        ]
    assert outcomes == [
        SubscribeResult.SUBSCRIBED,
        SubscribeResult.ALREADY_SUBSCRIBED,
        True,
        False,
        SubscribeResult.RESUBSCRIBED,
    ]


async def test_unsubscribed_chat_keeps_why_it_stopped(db: Database) -> None:
    """After /stop the chat is neither subscribed nor active, with reason unsubscribed."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=READER_ID, kind=ChatKind.PRIVATE, title=None)
        await subscribe_chat(session, chat_id=READER_ID)
        await unsubscribe_chat(session, chat_id=READER_ID)
    chat = await _chat(db, READER_ID)
    assert (chat.subscribed, chat.active, chat.stop_reason) == (
        False,
        False,
        StopReason.UNSUBSCRIBED,
    )
    assert chat.stopped_at is not None


async def test_subscribing_an_unknown_chat_is_an_error(db: Database) -> None:
    """A chat must be recorded before it can subscribe; unsubscribing it is simply False."""
    async with db.transaction() as session:
        with pytest.raises(UnknownChatError):
            await subscribe_chat(session, chat_id=READER_ID)
        assert await unsubscribe_chat(session, chat_id=READER_ID) is False


async def test_a_stopped_chat_stays_subscribed_but_inactive(db: Database) -> None:
    """A reader who blocks the bot stops receiving pushes, keeps the subscribed flag, and is
    counted once."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=READER_ID, kind=ChatKind.PRIVATE, title=None)
        await subscribe_chat(session, chat_id=READER_ID)
        first = await mark_chat_stopped(session, chat_id=READER_ID, reason=StopReason.BLOCKED)
        second = await mark_chat_stopped(session, chat_id=READER_ID, reason=StopReason.BLOCKED)
    chat = await _chat(db, READER_ID)
    assert (first, second) == (True, False)
    assert (chat.subscribed, chat.active, chat.stop_reason) == (True, False, StopReason.BLOCKED)
    async with db.transaction() as session:
        assert await subscribe_chat(session, chat_id=READER_ID) is SubscribeResult.RESUBSCRIBED
    chat = await _chat(db, READER_ID)
    assert (chat.active, chat.stop_reason, chat.stopped_at) == (True, None, None)


async def test_bot_added_to_a_group_records_it_without_subscribing(db: Database) -> None:
    """Adding the bot to a group records the group; pushes wait for someone to subscribe."""
    async with db.transaction() as session:
        await record_bot_membership(
            session,
            chat_id=GROUP_ID,
            kind=ChatKind.GROUP,
            title="Readers",
            username=None,
            present=True,
        )
    chat = await _chat(db, GROUP_ID)
    assert (chat.title, chat.subscribed, chat.active) == ("Readers", False, False)


async def test_bot_kicked_and_added_back_is_not_resubscribed(db: Database) -> None:
    """A kicked bot that is added back records the chat but does not start pushes again."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Readers")
        await subscribe_chat(session, chat_id=GROUP_ID)
        await record_bot_membership(
            session,
            chat_id=GROUP_ID,
            kind=ChatKind.GROUP,
            title="Readers",
            username=None,
            present=False,
            reason=StopReason.KICKED,
        )
    kicked = await _chat(db, GROUP_ID)
    assert (kicked.active, kicked.stop_reason) == (False, StopReason.KICKED)

    async with db.transaction() as session:
        await record_bot_membership(
            session,
            chat_id=GROUP_ID,
            kind=ChatKind.GROUP,
            title="Readers again",
            username=None,
            present=True,
        )
    back = await _chat(db, GROUP_ID)
    assert (back.title, back.active, back.stop_reason) == (
        "Readers again",
        False,
        StopReason.KICKED,
    )


async def test_bot_leaving_without_a_reason_is_recorded_as_left(db: Database) -> None:
    """Removal without a stated reason stops pushes with reason left."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Readers")
        await subscribe_chat(session, chat_id=GROUP_ID)
        await record_bot_membership(
            session,
            chat_id=GROUP_ID,
            kind=ChatKind.GROUP,
            title="Readers",
            username=None,
            present=False,
        )
    chat = await _chat(db, GROUP_ID)
    assert (chat.active, chat.stop_reason) == (False, StopReason.LEFT)


async def _group_with_history(db: Database) -> tuple[int, int, int]:
    """A subscribed group with a sent and a pending article, a poll message and a vote there."""
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Readers")
        await subscribe_chat(session, chat_id=GROUP_ID)
        group = await get_chat(session, chat_id=GROUP_ID)
        assert group is not None
        group.settings = {"autocards": False}
        group.topics = ["science"]
        session.add(group)
        await upsert_user(session, user_id=READER_ID, first_name="Ada")
        sent = Article(canonical_url="https://news.example/sent", title="Sent")
        pending = Article(canonical_url="https://news.example/pending", title="Pending")
        session.add_all([sent, pending])
        await session.flush()
        assert sent.id is not None
        assert pending.id is not None
        poll = Poll(article_id=sent.id, question="Did you know?")
        session.add(poll)
        await session.flush()
        assert poll.id is not None
        option = PollOption(poll_id=poll.id, position=0, text="Yes")
        session.add(option)
        await session.flush()
        assert option.id is not None
        session.add_all(
            [
                Delivery(
                    kind=DeliveryKind.ARTICLE,
                    article_id=sent.id,
                    chat_id=GROUP_ID,
                    status=DeliveryStatus.SENT,
                    message_id=10,
                ),
                Delivery(kind=DeliveryKind.ARTICLE, article_id=pending.id, chat_id=GROUP_ID),
                PollMessage(poll_id=poll.id, chat_id=GROUP_ID, message_id=10),
                Vote(poll_id=poll.id, user_id=READER_ID, option_id=option.id, chat_id=GROUP_ID),
            ]
        )
        return sent.id, pending.id, poll.id


async def test_migrated_group_keeps_subscription_settings_and_history(db: Database) -> None:
    """The supergroup inherits the subscription, settings, deliveries and votes; the old
    group's poll messages are retired and its row points to the new id."""
    sent_id, pending_id, _ = await _group_with_history(db)
    async with db.transaction() as session:
        supergroup = await migrate_chat(session, old_id=GROUP_ID, new_id=SUPERGROUP_ID)
    assert (supergroup.id, supergroup.kind, supergroup.title) == (
        SUPERGROUP_ID,
        ChatKind.SUPERGROUP,
        "Readers",
    )
    assert (supergroup.subscribed, supergroup.active) == (True, True)
    assert (supergroup.settings, supergroup.topics) == ({"autocards": False}, ["science"])

    async with db.transaction() as session:
        deliveries = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
        vote = (await session.exec(select(Vote))).one()
        poll_message = (await session.exec(select(PollMessage))).one()
        old = await get_chat(session, chat_id=GROUP_ID)
    assert [(d.article_id, d.chat_id, d.status) for d in deliveries] == [
        (sent_id, SUPERGROUP_ID, DeliveryStatus.SENT),
        (pending_id, SUPERGROUP_ID, DeliveryStatus.PENDING),
    ]
    assert vote.chat_id == SUPERGROUP_ID
    assert (poll_message.chat_id, poll_message.retired, poll_message.retired_reason) == (
        GROUP_ID,
        True,
        RetireReason.CHAT_MIGRATED,
    )
    assert old is not None
    assert (old.active, old.stop_reason, old.migrated_to) == (
        False,
        StopReason.MIGRATED,
        SUPERGROUP_ID,
    )


async def test_migrating_twice_changes_nothing_more(db: Database) -> None:
    """Both service messages of a migration may arrive; the second call is a no-op."""
    await _group_with_history(db)
    async with db.transaction() as session:
        await migrate_chat(session, old_id=GROUP_ID, new_id=SUPERGROUP_ID)
    async with db.transaction() as session:
        again = await migrate_chat(session, old_id=GROUP_ID, new_id=SUPERGROUP_ID)
        chat_ids = (await session.exec(select(Delivery.chat_id))).all()
    assert (again.id, again.subscribed, again.active) == (SUPERGROUP_ID, True, True)
    assert set(chat_ids) == {SUPERGROUP_ID}


async def test_migration_onto_a_known_supergroup_keeps_its_own_deliveries(db: Database) -> None:
    """When the supergroup already had an article, the old group's copy of it is dropped."""
    sent_id, pending_id, _ = await _group_with_history(db)
    async with db.transaction() as session:
        await record_bot_membership(
            session,
            chat_id=SUPERGROUP_ID,
            kind=ChatKind.SUPERGROUP,
            title="Readers",
            username=None,
            present=True,
        )
        session.add(
            Delivery(
                kind=DeliveryKind.ARTICLE,
                article_id=sent_id,
                chat_id=SUPERGROUP_ID,
                status=DeliveryStatus.SENT,
                message_id=3,
            )
        )
    async with db.transaction() as session:
        supergroup = await migrate_chat(session, old_id=GROUP_ID, new_id=SUPERGROUP_ID)
        deliveries = (await session.exec(select(Delivery).order_by(col(Delivery.id)))).all()
    assert (supergroup.subscribed, supergroup.active) == (True, True)
    assert sorted((d.article_id, d.chat_id, d.message_id) for d in deliveries) == sorted(
        [(pending_id, SUPERGROUP_ID, None), (sent_id, SUPERGROUP_ID, 3)]
    )


async def test_migrating_an_unknown_group_records_the_supergroup(db: Database) -> None:
    """A migration from a group the bot never recorded still yields the supergroup's row."""
    async with db.transaction() as session:
        supergroup = await migrate_chat(session, old_id=GROUP_ID, new_id=SUPERGROUP_ID)
    stored = await _chat(db, SUPERGROUP_ID)
    assert (supergroup.kind, stored.kind, stored.subscribed) == (
        ChatKind.SUPERGROUP,
        ChatKind.SUPERGROUP,
        False,
    )


async def test_chats_are_counted_by_kind(db: Database) -> None:
    """Counts cover every kind; by default only chats receiving pushes are counted."""
    async with db.transaction() as session:
        for chat_id, kind in [
            (1, ChatKind.PRIVATE),
            (2, ChatKind.PRIVATE),
            (-3, ChatKind.GROUP),
            (-1004, ChatKind.CHANNEL),
        ]:
            await upsert_chat(session, chat_id=chat_id, kind=kind, title=None)
        for chat_id in (1, 2, -1004):
            await subscribe_chat(session, chat_id=chat_id)
        await mark_chat_stopped(session, chat_id=2, reason=StopReason.BLOCKED)
        receiving = await count_chats_by_kind(session)
        known = await count_chats_by_kind(session, active_only=False)
    assert receiving == {
        ChatKind.PRIVATE: 1,
        ChatKind.GROUP: 0,
        ChatKind.SUPERGROUP: 0,
        ChatKind.CHANNEL: 1,
    }
    assert known == {
        ChatKind.PRIVATE: 2,
        ChatKind.GROUP: 1,
        ChatKind.SUPERGROUP: 0,
        ChatKind.CHANNEL: 1,
    }
