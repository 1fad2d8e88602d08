"""Leases: jobs only one bot process may do at a time, and each process's heartbeat.

A lease is a row (name, holder, expires_at). Taking it succeeds when nobody holds it, its holder
lets it expire, or the taker already holds it (a renewal); all three are one INSERT ... ON
CONFLICT DO UPDATE ... WHERE, so two processes racing for it cannot both win. A process's
heartbeat is a lease named ``worker:<id>`` that only it ever takes: the live workers are the
unexpired heartbeats.

A worker joining the others bumps the one ``worker_joins`` serial in the same transaction as its
first heartbeat; each heartbeat records the newest serial its worker has acknowledged. The
serial's row lock orders the joins: whoever reads a serial afterwards also sees the heartbeats
of every worker that joined up to it.

Every function takes the caller's session and never commits.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Lease, WorkerJoins
from storage.types import utcnow

WORKER_PREFIX = "worker:"


async def take(
    session: AsyncSession, *, name: str, holder: str, ttl: timedelta, acknowledged: int = 0
) -> bool:
    """Take or renew the lease `name` for `ttl`; False while another holder's is unexpired."""
    now = utcnow()
    values = {
        "name": name,
        "holder": holder,
        "expires_at": now + ttl,
        "acknowledged": acknowledged,
    }
    statement: sqlite.Insert | postgresql.Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(Lease).values(values)
    else:
        statement = sqlite.insert(Lease).values(values)
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": new.holder,
            "expires_at": new.expires_at,
            "acknowledged": new.acknowledged,
        },
        where=sa.or_(col(Lease.holder) == holder, col(Lease.expires_at) <= now),
    )
    result = await session.exec(statement.returning(col(Lease.holder)))
    # No row comes back when the WHERE kept another holder's lease.
    return result.first() is not None


async def give_up(session: AsyncSession, *, name: str, holder: str) -> None:
    """Release the lease at once if `holder` has it (on a clean stop), so others need not wait."""
    await session.exec(
        sa.delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
    )


async def holder_of(session: AsyncSession, *, name: str) -> str | None:
    """Who holds the lease now (None when free or expired)."""
    statement = select(col(Lease.holder)).where(
        col(Lease.name) == name, col(Lease.expires_at) > utcnow()
    )
    return (await session.exec(statement)).first()


async def beat(
    session: AsyncSession, *, worker: str, ttl: timedelta, acknowledged: int = 0
) -> None:
    """Renew this worker's heartbeat, recording the newest join serial it has acknowledged."""
    await take(
        session, name=WORKER_PREFIX + worker, holder=worker, ttl=ttl, acknowledged=acknowledged
    )


async def join(session: AsyncSession, *, worker: str, ttl: timedelta) -> int:
    """Count this worker in: bump the join serial and renew its heartbeat with that serial
    acknowledged (its own join). Returns the serial."""
    statement: sqlite.Insert | postgresql.Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(WorkerJoins).values(id=1, serial=1)
    else:
        statement = sqlite.insert(WorkerJoins).values(id=1, serial=1)
    statement = statement.on_conflict_do_update(
        index_elements=["id"], set_={"serial": col(WorkerJoins.serial) + 1}
    )
    result = await session.exec(statement.returning(col(WorkerJoins.serial)))
    serial = int(result.scalar_one())
    await beat(session, worker=worker, ttl=ttl, acknowledged=serial)
    return serial


async def joins(session: AsyncSession) -> int:
    """The newest join serial (0 before any worker joined)."""
    serial = (await session.exec(select(col(WorkerJoins.serial)))).first()
    return serial or 0


async def acknowledgements(session: AsyncSession) -> dict[str, int]:
    """Each live worker and the newest join serial it has acknowledged."""
    statement = select(col(Lease.holder), col(Lease.acknowledged)).where(
        col(Lease.name).startswith(WORKER_PREFIX), col(Lease.expires_at) > utcnow()
    )
    return dict((await session.exec(statement)).all())


async def sweep_workers(session: AsyncSession) -> None:
    """Forget the heartbeats that expired (workers that died without saying goodbye)."""
    await session.exec(
        sa.delete(Lease).where(
            col(Lease.name).startswith(WORKER_PREFIX), col(Lease.expires_at) <= utcnow()
        )
    )


async def live_workers(session: AsyncSession) -> list[str]:
    """The workers whose heartbeat has not expired, sorted."""
    now = utcnow()
    statement = select(col(Lease.holder)).where(
        col(Lease.name).startswith(WORKER_PREFIX), col(Lease.expires_at) > now
    )
    return sorted(await session.exec(statement))
