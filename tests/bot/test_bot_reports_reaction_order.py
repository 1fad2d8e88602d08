"""Reaction updates about one copy are stored in the order Telegram sent them."""

from __future__ import annotations

import asyncio

import pytest

from bot.reports.reaction_order import ReactionOrder


async def test_an_older_update_arriving_late_is_passed_over() -> None:
    """The newest update stored stands; one sent before it, handled after it, is not stored."""
    order = ReactionOrder()
    async with order.turn(("chat", 1), (100, 7)) as newer:
        assert newer
    async with order.turn(("chat", 1), (100, 6)) as newer:
        assert not newer
    async with order.turn(("chat", 1), (101, 1)) as newer:
        assert newer
    async with order.turn(("chat", 2), (50, 1)) as newer:
        assert newer


async def test_updates_about_one_copy_take_turns() -> None:
    """A second update about the same copy waits until the first one's block has ended."""
    order = ReactionOrder()
    steps: list[str] = []
    first_inside = asyncio.Event()

    async def first() -> None:
        async with order.turn("copy", (1, 1)):
            first_inside.set()
            await asyncio.sleep(0.05)
            steps.append("first done")

    async def second() -> None:
        await first_inside.wait()
        async with order.turn("copy", (1, 2)) as newer:
            steps.append(f"second newer={newer}")

    await asyncio.gather(first(), second())
    assert steps == ["first done", "second newer=True"]


async def test_a_failed_store_does_not_count_as_stored() -> None:
    """An update whose block raised leaves the older version standing, so a retry is newer."""
    order = ReactionOrder()

    async def store_failing() -> None:
        async with order.turn("copy", (5, 5)) as newer:
            assert newer
            raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        await store_failing()
    async with order.turn("copy", (5, 4)) as newer:
        assert newer


async def test_only_so_many_things_are_remembered() -> None:
    """Past its bound the oldest thing is forgotten: an old version of it is taken again."""
    order = ReactionOrder(remembered=2)
    for key in ("a", "b", "c"):
        async with order.turn(key, (9, 9)):
            pass
    async with order.turn("a", (1, 1)) as newer:
        assert newer
    async with order.turn("c", (1, 1)) as newer:
        assert not newer
