"""upsert_user: one statement that records a user and keeps their details current."""

from sqlalchemy import func
from sqlmodel import select

from storage.engine import Database
from storage.models import User
from storage.users import get_user, upsert_user

READER_ID = 1001


async def test_upsert_user_twice_keeps_one_row_with_the_new_names(db: Database) -> None:
    """Seeing a user again updates their names and keeps when they were first seen."""
    async with db.transaction() as session:
        first = await upsert_user(
            session, user_id=READER_ID, first_name="Ada", last_name="Byron", username="ada"
        )
    async with db.transaction() as session:
        again = await upsert_user(
            session, user_id=READER_ID, first_name="Ada", last_name="Lovelace", username=None
        )
        rows = (await session.exec(select(func.count()).select_from(User))).one()
    assert rows == 1
    assert (again.first_name, again.last_name, again.username) == ("Ada", "Lovelace", None)
    assert again.created_at == first.created_at


async def test_upsert_user_is_idempotent(db: Database) -> None:
    """The same details twice leave the same single row."""
    async with db.transaction() as session:
        await upsert_user(session, user_id=READER_ID, first_name="Ada", language="en")
        await upsert_user(session, user_id=READER_ID, first_name="Ada", language="en")
    async with db.transaction() as session:
        users = (await session.exec(select(User))).all()
    assert [(u.id, u.first_name, u.language) for u in users] == [(READER_ID, "Ada", "en")]


async def test_a_missing_language_does_not_erase_the_known_one(db: Database) -> None:
    """Telegram omits language_code at times; the stored language stays."""
    async with db.transaction() as session:
        await upsert_user(session, user_id=READER_ID, first_name="Ada", language="de")
        await upsert_user(session, user_id=READER_ID, first_name="Ada", language=None)
    async with db.transaction() as session:
        user = await get_user(session, user_id=READER_ID)
    assert user is not None
    assert user.language == "de"


async def test_upsert_refreshes_a_user_already_in_the_session(db: Database) -> None:
    """An object loaded earlier in the same transaction shows the upserted names."""
    async with db.transaction() as session:
        await upsert_user(session, user_id=READER_ID, first_name="Ada")
        loaded = await get_user(session, user_id=READER_ID)
        await upsert_user(session, user_id=READER_ID, first_name="Augusta")
        assert loaded is not None
        assert loaded.first_name == "Augusta"
