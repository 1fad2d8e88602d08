"""Turns at SQLite (storage/turns.py): one holder at a time, urgent waiters first, and a
waiter cancelled as it is handed the turn passes it on."""

from __future__ import annotations

import asyncio

import pytest

from storage.turns import Turns


async def _hold(turns: Turns, name: str, order: list[str], *, urgent: bool = False) -> None:
    async with turns.turn(urgent=urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_an_urgent_waiter_goes_before_the_others_and_the_rest_keep_their_order() -> None:
    turns = Turns()
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with turns.turn():
            order.append("first")
            await release.wait()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(_hold(turns, "round 1", order)),
        asyncio.create_task(_hold(turns, "round 2", order)),
        asyncio.create_task(_hold(turns, "tap", order, urgent=True)),
    ]
    await asyncio.sleep(0)
    assert turns.waiting == 3
    release.set()
    await asyncio.gather(holder, *waiting)
    assert order == ["first", "tap", "round 1", "round 2"]
    assert turns.waiting == 0


async def test_one_holder_at_a_time() -> None:
    turns = Turns()
    inside = 0
    most = 0

    async def work(urgent: bool) -> None:
        nonlocal inside, most
        async with turns.turn(urgent=urgent):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.001)
            inside -= 1

    await asyncio.gather(*(work(n % 3 == 0) for n in range(30)))
    assert most == 1


async def test_a_waiter_cancelled_when_handed_the_turn_passes_it_on() -> None:
    turns = Turns()
    order: list[str] = []
    release = asyncio.Event()
    tasks: dict[str, asyncio.Task[None]] = {}

    async def first() -> None:
        async with turns.turn():
            await release.wait()
        # The turn was just handed to "doomed", which has not run yet: cancelled now.
        tasks["doomed"].cancel()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    tasks["doomed"] = asyncio.create_task(_hold(turns, "doomed", order))
    later = asyncio.create_task(_hold(turns, "later", order))
    await asyncio.sleep(0)
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await tasks["doomed"]
    await asyncio.wait_for(later, timeout=1)
    assert order == ["later"]


async def test_a_waiter_cancelled_while_waiting_leaves_the_queue() -> None:
    turns = Turns()
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with turns.turn():
            await release.wait()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    gone = asyncio.create_task(_hold(turns, "gone", order, urgent=True))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert turns.waiting == 0
    release.set()
    await holder
    await _hold(turns, "next", order)
    assert order == ["next"]
