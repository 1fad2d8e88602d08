"""Writes that survive a busy SQLite: a unit of work rerun when the database stayed locked.

The busy timeout (storage.engine) makes a writer wait for another; only when the other holds the
lock longer than that does SQLite answer "database is locked". Then the whole transaction is
rolled back and `write_retrying` runs it again, a few times, with a short pause between.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 5
PAUSE_SECONDS = 0.05


def is_locked(error: OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY, SQLITE_LOCKED)."""
    return "is locked" in str(error.orig)


async def write_retrying(
    db: Database,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    attempts: int = ATTEMPTS,
    pause: float = PAUSE_SECONDS,
) -> T:
    """Run `work` in one transaction; rerun it (all of it) while SQLite reports a lock."""
    for attempt in range(1, attempts + 1):
        try:
            async with db.transaction() as session:
                return await work(session)
        except OperationalError as error:
            if not is_locked(error) or attempt == attempts:
                raise
            log.warning("database locked (attempt %d of %d); retrying", attempt, attempts)
            await asyncio.sleep(pause * attempt)
    raise AssertionError("unreachable")  # the loop returns or raises
