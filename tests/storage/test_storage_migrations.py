"""Migrations are the only way the schema is made: they must build exactly the models' schema,
and run both ways from inside the running event loop."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, col, select

from newsroom.engagement import ReactionCount, ReactionKind
from storage import engagement, seen_updates
from storage.chats import upsert_chat
from storage.engine import Database
from storage.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    migration_connection,
    migrations_folder,
    upgrade,
)
from storage.models import (
    Article,
    Broadcast,
    CardCopy,
    Chat,
    ChatKind,
    CopyChange,
    Correction,
    CorrectionAction,
    Delivery,
    DeliveryKind,
    DeliveryMode,
    SeenUpdate,
)
from storage.types import UTCDateTime

VERSION_TABLE = "alembic_version"
GROUP_ID = -4_000_001


@pytest.fixture(name="db")
async def fixture_db(empty_db: Database) -> Database:
    """A database migrated here to the newest schema by the migrations themselves (not a copy
    of the session's): what these tests check."""
    await upgrade(empty_db)
    return empty_db


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _schema_of_database(connection: Connection) -> dict[str, Any]:
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names()) - {VERSION_TABLE}
    return {
        "tables": tables,
        "columns": {
            (table, column["name"], column["nullable"])
            for table in tables
            for column in inspector.get_columns(table)
        },
        "indexes": {
            (table, index["name"], tuple(index["column_names"]), bool(index["unique"]))
            for table in tables
            for index in inspector.get_indexes(table)
            # PostgreSQL also lists the index behind each unique constraint.
            if not index.get("duplicates_constraint")
        },
        "uniques": {
            (table, unique["name"], tuple(unique["column_names"]))
            for table in tables
            for unique in inspector.get_unique_constraints(table)
        },
        "foreign_keys": {
            (
                table,
                key["name"],
                tuple(key["constrained_columns"]),
                key["referred_table"],
                key["options"].get("ondelete"),
                key["options"].get("onupdate"),
            )
            for table in tables
            for key in inspector.get_foreign_keys(table)
        },
    }


def _schema_of_models(metadata: sa.MetaData) -> dict[str, Any]:
    tables = metadata.tables.values()
    return {
        "tables": set(metadata.tables),
        "columns": {(table.name, c.name, bool(c.nullable)) for table in tables for c in table.c},
        "indexes": {
            (table.name, index.name, tuple(c.name for c in index.columns), bool(index.unique))
            for table in tables
            for index in table.indexes
        },
        "uniques": {
            (table.name, unique.name, tuple(c.name for c in unique.columns))
            for table in tables
            for unique in table.constraints
            if isinstance(unique, sa.UniqueConstraint)
        },
        "foreign_keys": {
            (
                table.name,
                key.name,
                tuple(key.column_keys),
                key.referred_table.name,
                key.ondelete,
                key.onupdate,
            )
            for table in tables
            for key in table.foreign_key_constraints
        },
    }


def _table_names(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) - {VERSION_TABLE}


async def test_upgrade_of_an_empty_database_yields_the_models_schema(empty_db: Database) -> None:
    """Alembic finds no difference between the migrated database and the SQLModel tables."""
    await upgrade(empty_db)
    async with empty_db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_migrated_tables_columns_indexes_and_constraints_match_the_models(
    db: Database,
) -> None:
    """Table, column, index, unique and foreign-key sets of the database equal the models'."""
    async with db.engine.connect() as connection:
        in_database = await connection.run_sync(_schema_of_database)
    in_models = _schema_of_models(SQLModel.metadata)
    for part in ("tables", "columns", "indexes", "uniques", "foreign_keys"):
        assert in_database[part] == in_models[part], part


async def test_upgrade_leaves_the_database_at_head(db: Database) -> None:
    """After upgrading, the database reports the newest revision the code knows."""
    assert head_revision() == "0005"
    assert await current_revision(db) == head_revision()


async def test_upgrade_when_nothing_is_pending_changes_nothing(db: Database) -> None:
    """Applying pending migrations on every start is safe when none are pending."""
    await upgrade(db)
    assert await current_revision(db) == head_revision()
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_downgrade_to_base_then_upgrade_again(db: Database) -> None:
    """Downgrading removes every table and a new upgrade rebuilds the same schema."""
    await downgrade(db, "base")
    assert await current_revision(db) is None
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_table_names) == set()

    await upgrade(db)
    assert await current_revision(db) == head_revision()
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_table_names) == set(SQLModel.metadata.tables)
        assert await connection.run_sync(_differences) == []


async def test_foreign_keys_are_back_on_after_a_migration(db: Database) -> None:
    """Migrations switch SQLite's foreign keys off while they run and on again afterwards."""
    if not db.is_sqlite:
        pytest.skip("foreign keys are a per-connection switch on SQLite only")
    async with db.engine.connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA foreign_keys")
        assert result.scalar_one() == 1


def test_alembic_config_is_built_in_code() -> None:
    """The configuration points at the package's migrations and keeps the URL's password."""
    config = alembic_config("postgresql+asyncpg://bot:p%40ss@db/news")
    assert config.get_main_option("script_location") == str(migrations_folder())
    assert (migrations_folder() / "env.py").is_file()
    assert config.get_main_option("sqlalchemy.url") == "postgresql+asyncpg://bot:p%40ss@db/news"


def _rebuild_chats_table(connection: Connection) -> None:
    operations = Operations(MigrationContext.configure(connection))
    # The copy-and-swap that SQLite batch mode performs for most column changes.
    with operations.batch_alter_table("chats", recreate="always") as batch:
        batch.alter_column("title", existing_type=sa.String(), nullable=True)


async def test_rebuilding_a_table_in_a_migration_keeps_the_rows_that_point_at_it(
    db: Database,
) -> None:
    """A batch rebuild of chats does not cascade-delete the deliveries that reference it."""
    if not db.is_sqlite:
        pytest.skip("only SQLite rebuilds tables to alter them")
    async with db.transaction() as session:
        await upsert_chat(session, chat_id=GROUP_ID, kind=ChatKind.GROUP, title="Readers")
        article = Article(canonical_url="https://news.example/a", title="A headline")
        session.add(article)
        await session.flush()
        session.add(Delivery(kind=DeliveryKind.ARTICLE, article_id=article.id, chat_id=GROUP_ID))

    async with migration_connection(db) as connection:
        await connection.run_sync(_rebuild_chats_table)

    async with db.transaction() as session:
        deliveries = (await session.exec(select(Delivery))).all()
    assert [delivery.chat_id for delivery in deliveries] == [GROUP_ID]


async def test_upgrade_to_0002_keeps_seen_updates_and_their_repeats(empty_db: Database) -> None:
    """Updates recorded by revision 0001 survive the upgrade (with no digest), and a
    redelivery of one of them is still a repeat, while a new id is new."""
    await upgrade(empty_db, "0001")
    seen_at = datetime.now(UTC) - timedelta(hours=1)
    # The table as revision 0001 made it, written the way the bot of that release wrote it.
    table_0001 = sa.table(
        "seen_updates", sa.column("update_id"), sa.column("seen_at", UTCDateTime)
    )
    async with empty_db.engine.begin() as connection:
        await connection.execute(
            table_0001.insert(),
            [{"update_id": update_id, "seen_at": seen_at} for update_id in (101, 102, 103)],
        )
    await upgrade(empty_db)
    async with empty_db.transaction() as session:
        rows = (await session.exec(select(SeenUpdate).order_by(col(SeenUpdate.update_id)))).all()
        assert [(row.update_id, row.digest) for row in rows] == [
            (101, None),
            (102, None),
            (103, None),
        ]
        assert all(abs(row.seen_at - seen_at) < timedelta(seconds=1) for row in rows)
        now = datetime.now(UTC)
        new = await seen_updates.record_new(
            session,
            updates={102: "c102", 104: "c104"},
            seen_at=now,
            forget_before=now - timedelta(days=1),
        )
    assert new == {104}


_AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
READER_ID = 1001
CHANNEL_ID = -1_001_000_000_001

# One or more rows in every table revision 0002 has, as the bot of that release wrote them.
ROWS_0002: dict[str, list[dict[str, Any]]] = {
    "chats": [
        {
            "id": chat_id,
            "kind": kind,
            "title": title,
            "subscribed": True,
            "active": True,
            "subscribed_at": _AT,
            "topics": ["harbour"],
            "settings": {"autocards": False},
            "created_at": _AT,
            "updated_at": _AT,
        }
        for chat_id, kind, title in (
            (READER_ID, "private", "Rita"),
            (CHANNEL_ID, "channel", "Harbour News"),
        )
    ],
    "users": [{"id": READER_ID, "first_name": "Rita", "created_at": _AT, "last_seen_at": _AT}],
    "articles": [
        {
            "id": 1,
            "canonical_url": "https://news.example/ferry",
            "title": "Night ferry extended",
            "key_points": ["Runs until 2 a.m."],
            "topics": ["harbour"],
            "related": [{"title": "Timetable", "url": "https://news.example/t"}],
            "status": "published",
            "pushed_at": _AT,
            "created_at": _AT,
            "updated_at": _AT,
        }
    ],
    "feeds": [{"id": 1, "url": "https://news.example/feed", "first_seen_at": _AT}],
    "feed_items_seen": [
        {
            "id": 1,
            "key": "guid-1",
            "feed_url": "https://news.example/feed",
            "article_id": 1,
            "seen_at": _AT,
        }
    ],
    "polls": [
        {
            "id": 1,
            "article_id": 1,
            "question": "Agree?",
            "is_closed": False,
            "results_visibility": "always",
            "created_at": _AT,
        }
    ],
    "poll_options": [
        {"id": 1, "poll_id": 1, "position": 0, "text": "Yes"},
        {"id": 2, "poll_id": 1, "position": 1, "text": "No"},
    ],
    "votes": [
        {
            "id": 1,
            "poll_id": 1,
            "user_id": READER_ID,
            "option_id": 1,
            "chat_id": READER_ID,
            "cast_at": _AT,
            "updated_at": _AT,
        }
    ],
    "poll_messages": [
        {
            "id": 1,
            "poll_id": 1,
            "chat_id": CHANNEL_ID,
            "message_id": 71,
            "dirty": False,
            "retired": False,
            "created_at": _AT,
        }
    ],
    "broadcasts": [
        {
            "id": 1,
            "author_id": READER_ID,
            "html": "Hello",
            "target_kinds": [],
            "target_topics": [],
            "status": "done",
            "total": 1,
            "sent": 1,
            "failed": 0,
            "blocked": 0,
            "cancelled": 0,
            "created_at": _AT,
        }
    ],
    "deliveries": [
        {
            "id": 1,
            "kind": "article",
            "article_id": 1,
            "chat_id": READER_ID,
            "status": "sent",
            "attempts": 1,
            "message_id": 50,
            "created_at": _AT,
            "updated_at": _AT,
            "sent_at": _AT,
        },
        {
            "id": 2,
            "kind": "article",
            "article_id": 1,
            "chat_id": CHANNEL_ID,
            "status": "sent",
            "attempts": 1,
            "message_id": 70,
            "created_at": _AT,
            "updated_at": _AT,
            "sent_at": _AT,
        },
        {
            "id": 3,
            "kind": "broadcast",
            "broadcast_id": 1,
            "chat_id": READER_ID,
            "status": "sent",
            "attempts": 1,
            "message_id": 60,
            "created_at": _AT,
            "updated_at": _AT,
            "sent_at": _AT,
        },
    ],
    "scheduled_actions": [
        {
            "id": 1,
            "kind": "publish",
            "due_at": _AT,
            "status": "done",
            "author_id": READER_ID,
            "chat_id": READER_ID,
            "url": "https://news.example/ferry",
            "created_at": _AT,
        }
    ],
    "leases": [{"name": "leader", "holder": "worker-1", "expires_at": _AT, "acknowledged": 3}],
    "worker_joins": [{"id": 1, "serial": 3}],
    "send_lanes": [{"lane": "bot", "next_free": 12.5}],
    "chat_pace": [{"chat": str(READER_ID), "next_free": 13.25}],
    "poll_changes": [{"poll_id": 1, "serial": 7}],
    "seen_updates": [{"update_id": 101, "seen_at": _AT, "digest": "c101"}],
}


def _tables_at(connection: Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    metadata.remove(metadata.tables[VERSION_TABLE])
    return metadata


def _fill(connection: Connection, metadata: sa.MetaData) -> None:
    for table in metadata.sorted_tables:
        for row in ROWS_0002[table.name]:
            connection.execute(table.insert().values(row))


def _every_row(connection: Connection, metadata: sa.MetaData) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: [
            tuple(row)
            for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
        ]
        for table in metadata.sorted_tables
    }


async def test_upgrade_to_0003_keeps_every_row_and_counts_the_copies_sent_before(
    empty_db: Database,
) -> None:
    """Every row of every table a 0002 database holds is still there, unchanged, after the
    upgrade; reactions on copies delivered before it count for their article, and chats
    subscribed before it count as subscribers throughout their history."""
    await upgrade(empty_db, "0002")
    async with empty_db.engine.begin() as connection:
        tables_0002 = await connection.run_sync(_tables_at)
        assert set(tables_0002.tables) == set(ROWS_0002)
        await connection.run_sync(_fill, tables_0002)
        before = await connection.run_sync(_every_row, tables_0002)

    await upgrade(empty_db)

    async with empty_db.engine.connect() as connection:
        after = await connection.run_sync(_every_row, tables_0002)
    assert after == before
    assert all(before[table] for table in ROWS_0002)
    async with empty_db.transaction() as session:
        on_card = await engagement.record_reaction_count(
            session,
            chat_id=CHANNEL_ID,
            message_id=70,
            reactions=[ReactionCount(ReactionKind.EMOJI, "👍", 4)],
        )
        on_poll = await engagement.record_user_reaction(
            session,
            chat_id=CHANNEL_ID,
            message_id=71,
            user_id=READER_ID,
            reactions=[(ReactionKind.EMOJI, "❤")],
        )
        on_broadcast = await engagement.record_reaction_count(
            session,
            chat_id=READER_ID,
            message_id=60,
            reactions=[ReactionCount(ReactionKind.EMOJI, "👍", 1)],
        )
        report = await engagement.article_engagement(session, article_id=1, clicks_tracked=False)
        history = await engagement.subscriber_history(session, days=3, now=datetime.now(UTC))
    assert (on_card, on_poll, on_broadcast) == (True, True, False)
    assert report is not None
    assert (report.reached, report.voters, report.option_counts) == (2, 1, (1, 0))
    assert report.reaction_total == 5
    assert [day.by_kind["private"] for day in history] == [1, 1, 1]
    assert [day.by_kind["channel"] for day in history] == [1, 1, 1]


# The tables revision 0003 added, one or more rows each, as the bot of that release wrote them.
ROWS_0003_NEW: dict[str, list[dict[str, Any]]] = {
    "reaction_counts": [
        {
            "chat_id": CHANNEL_ID,
            "message_id": 70,
            "kind": "emoji",
            "key": "👍",
            "count": 4,
            "article_id": 1,
            "updated_at": _AT,
        }
    ],
    "user_reactions": [
        {
            "chat_id": READER_ID,
            "message_id": 60,
            "user_id": READER_ID,
            "kind": "emoji",
            "key": "❤",
            "article_id": 1,
            "updated_at": _AT,
        }
    ],
    "article_events": [{"id": 1, "article_id": 1, "kind": "share", "at": _AT}],
    "subscription_events": [
        {"id": 1, "chat_id": READER_ID, "chat_kind": "private", "subscribed": True, "at": _AT}
    ],
    "link_codes": [{"code": "k3x9", "article_id": 1, "chat_kind": "group", "created_at": _AT}],
}


def _fill_0003(connection: Connection, metadata: sa.MetaData) -> None:
    rows = {**ROWS_0002, **ROWS_0003_NEW}
    for table in metadata.sorted_tables:
        for row in rows[table.name]:
            connection.execute(table.insert().values(row))


async def test_upgrade_to_0004_keeps_every_row_and_gives_chats_the_default_choices(
    empty_db: Database,
) -> None:
    """Every row a 0003 database holds survives the upgrade unchanged; its chats get instant
    delivery in the bot's time zone with no quiet hours, its deliveries go to the chat itself
    (topic 0), and the same article may now reach a second topic of one chat."""
    await upgrade(empty_db, "0003")
    async with empty_db.engine.begin() as connection:
        tables_0003 = await connection.run_sync(_tables_at)
        assert set(tables_0003.tables) == set(ROWS_0002) | set(ROWS_0003_NEW)
        await connection.run_sync(_fill_0003, tables_0003)
        before = await connection.run_sync(_every_row, tables_0003)

    await upgrade(empty_db)

    async with empty_db.engine.connect() as connection:
        after = await connection.run_sync(_every_row, tables_0003)
    assert after == before
    assert all(before[table] for table in before)
    async with empty_db.transaction() as session:
        chats = (await session.exec(select(Chat).order_by(col(Chat.id)))).all()
        assert [(chat.delivery_mode, chat.quiet_from, chat.timezone) for chat in chats] == [
            (DeliveryMode.INSTANT, None, None)
        ] * 2
        assert [chat.subscribed for chat in chats] == [True, True]
        deliveries = (await session.exec(select(Delivery))).all()
        assert {delivery.thread_id for delivery in deliveries} == {0}
        assert (await session.exec(select(Broadcast))).one().urgent is False
        first = deliveries[0]
        session.add(
            Delivery(
                # The filled rows carry their own ids, which PostgreSQL's sequence never saw.
                id=100,
                kind=first.kind,
                article_id=first.article_id,
                broadcast_id=first.broadcast_id,
                chat_id=first.chat_id,
                thread_id=7,
            )
        )


# The tables revision 0004 added, a row each, as the bot of that release wrote them.
_ROWS_ADDED_BY_0004: dict[str, list[dict[str, Any]]] = {
    "forum_topics": [
        {
            "chat_id": CHANNEL_ID,
            "thread_id": 5,
            "title": "Harbour",
            "subscribed": True,
            "active": True,
            "subscribed_at": _AT,
            "created_at": _AT,
            "updated_at": _AT,
        }
    ],
    "digests": [
        {
            "id": 1,
            "chat_id": READER_ID,
            "thread_id": 0,
            "period": "2026-11-30",
            "window_start": _AT - timedelta(days=1),
            "window_end": _AT,
            "created_at": _AT,
        }
    ],
}


def _fill_0004(connection: Connection, metadata: sa.MetaData) -> None:
    rows = {**ROWS_0002, **ROWS_0003_NEW, **_ROWS_ADDED_BY_0004}
    for table in metadata.sorted_tables:
        for row in rows[table.name]:
            connection.execute(table.insert().values(row))


async def test_upgrade_to_0005_keeps_every_row_and_lets_old_copies_be_corrected(
    empty_db: Database,
) -> None:
    """Every row a 0004 database holds survives the upgrade unchanged; its articles start at
    revision 0 with no correction line, and a correction of an old article can list its old
    copies (a delivery, a poll message) once each."""
    await upgrade(empty_db, "0004")
    async with empty_db.engine.begin() as connection:
        tables_0004 = await connection.run_sync(_tables_at)
        assert set(tables_0004.tables) == (
            set(ROWS_0002) | set(ROWS_0003_NEW) | set(_ROWS_ADDED_BY_0004)
        )
        await connection.run_sync(_fill_0004, tables_0004)
        before = await connection.run_sync(_every_row, tables_0004)

    await upgrade(empty_db)

    async with empty_db.engine.connect() as connection:
        after = await connection.run_sync(_every_row, tables_0004)
    assert after == before
    assert all(before[table] for table in before)
    async with empty_db.transaction() as session:
        article = (await session.exec(select(Article))).one()
        assert (article.revision, article.correction) == (0, None)
        correction = Correction(
            article_id=1, action=CorrectionAction.UPDATE, author_id=READER_ID, based_on=0
        )
        session.add(correction)
        await session.flush()
        session.add_all(
            [
                CopyChange(correction_id=correction.id, chat_id=READER_ID, message_id=50),
                CopyChange(
                    correction_id=correction.id,
                    chat_id=CHANNEL_ID,
                    message_id=71,
                    poll_message_id=1,
                ),
                CardCopy(article_id=1, chat_id=CHANNEL_ID, message_id=70, photo_message_id=69),
            ]
        )
    with pytest.raises(sa.exc.IntegrityError):
        async with empty_db.transaction() as session:
            session.add(CopyChange(correction_id=correction.id, chat_id=READER_ID, message_id=50))
