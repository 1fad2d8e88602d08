"""Pytest fixtures giving each test a running emulator on a free loopback port.

Registered as the `emulator` pytest11 entry point. Nothing about the project's bot lives here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from emulator.clock import ManualClock
from emulator.simulation import Emulator


@pytest_asyncio.fixture(name="emulator")
async def emulator_fixture() -> AsyncIterator[Emulator]:
    """A started emulator with Telegram's default limits and the system clock."""
    async with Emulator() as running:
        yield running


@pytest_asyncio.fixture(name="manual_clock_emulator")
async def manual_clock_emulator_fixture() -> AsyncIterator[Emulator]:
    """A started emulator whose clock only moves when the test calls `emulator.clock.advance`."""
    async with Emulator(clock=ManualClock()) as running:
        yield running
