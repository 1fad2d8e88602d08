"""Batched vote writes: voters, the current choices of a batch's readers, and their new choices.

Each function is one statement for the whole batch (executemany or one SELECT), so a group
commit of hundreds of taps costs a handful of round trips. Every function takes the caller's
session and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import User, Vote
from storage.types import utcnow

# (poll id, user id): one reader's place in one poll.
VoterKey = tuple[int, int]


@dataclass(frozen=True)
class Voter:
    """A reader as the tap's update shows them."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Choice:
    """The option a reader holds now, and the chat they chose it in (None: an inline copy)."""

    option_id: int
    chat_id: int | None


# Statements by (purpose, dialect), built on first use: building one costs more than running it.
_STATEMENTS: dict[tuple[str, str], sa.Executable] = {}


def _insert(dialect: str, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    if dialect == "sqlite":
        return sqlite.insert(table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"no upsert for the {dialect} dialect")


def _voters_upsert(dialect: str) -> sa.Executable:
    table: sa.Table = User.__table__  # type: ignore[attr-defined]
    statement = _insert(dialect, table)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "first_name": new.first_name,
            "last_name": new.last_name,
            "username": new.username,
            # Telegram leaves language_code out of some updates; that does not mean it changed.
            "language": sa.func.coalesce(new.language, table.c.language),
            "last_seen_at": new.last_seen_at,
        },
    )


def _votes_upsert(dialect: str) -> sa.Executable:
    statement = _insert(dialect, Vote.__table__)  # type: ignore[attr-defined]
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["poll_id", "user_id"],
        set_={"option_id": new.option_id, "chat_id": new.chat_id, "updated_at": new.updated_at},
    )


def _votes_delete(dialect: str) -> sa.Executable:
    del dialect
    table: sa.Table = Vote.__table__  # type: ignore[attr-defined]
    return sa.delete(table).where(
        table.c.poll_id == sa.bindparam("p"), table.c.user_id == sa.bindparam("u")
    )


async def _run_many(
    session: AsyncSession,
    purpose: str,
    build: Callable[[str], sa.Executable],
    rows: list[dict[str, Any]],
) -> None:
    """Run a cached statement once per row (executemany) on the session's connection."""
    connection = await session.connection()
    dialect = connection.dialect.name
    statement = _STATEMENTS.get((purpose, dialect))
    if statement is None:
        statement = _STATEMENTS[purpose, dialect] = build(dialect)
    # Core, not the ORM: these rows need no identity map, and the ORM's bulk path costs more.
    await connection.execute(statement, rows)


async def upsert_voters(session: AsyncSession, *, voters: Sequence[Voter]) -> None:
    """Record every voter (votes reference users) in one executemany upsert."""
    if not voters:
        return
    now = utcnow()
    rows = [
        {
            "id": voter.user_id,
            "first_name": voter.first_name,
            "last_name": voter.last_name,
            "username": voter.username,
            "language": voter.language,
            "created_at": now,
            "last_seen_at": now,
        }
        for voter in voters
    ]
    await _run_many(session, "voters", _voters_upsert, rows)


async def current_choices(
    session: AsyncSession, *, keys: Collection[VoterKey]
) -> dict[VoterKey, int]:
    """The option id each of these readers holds now in that poll (absent: no vote)."""
    if not keys:
        return {}
    connection = await session.connection()
    statement = _STATEMENTS.get(("choices", ""))
    if statement is None:
        statement = _STATEMENTS["choices", ""] = select(
            Vote.poll_id, Vote.user_id, Vote.option_id
        ).where(
            sa.tuple_(col(Vote.poll_id), col(Vote.user_id)).in_(
                sa.bindparam("keys", expanding=True)
            )
        )
    rows = await connection.execute(statement, {"keys": list(keys)})
    return {(poll_id, user_id): option_id for poll_id, user_id, option_id in rows}


async def save_choices(
    session: AsyncSession, *, choices: Mapping[VoterKey, Choice | None]
) -> None:
    """Store the new choices (one upsert for all) and drop withdrawn votes (one delete)."""
    now = utcnow()
    kept = [
        {
            "poll_id": poll_id,
            "user_id": user_id,
            "option_id": choice.option_id,
            "chat_id": choice.chat_id,
            "cast_at": now,
            "updated_at": now,
        }
        for (poll_id, user_id), choice in choices.items()
        if choice is not None
    ]
    if kept:
        await _run_many(session, "votes", _votes_upsert, kept)
    withdrawn = [
        {"p": poll_id, "u": user_id}
        for (poll_id, user_id), choice in choices.items()
        if choice is None
    ]
    if withdrawn:
        await _run_many(session, "withdraw", _votes_delete, withdrawn)
