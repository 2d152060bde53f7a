"""The provider's rate shared through send_budgets: slots taken atomically, never more than a window holds,
never one already passed, and several takers together spaced as one (on both databases)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.db import create_engine, session_factory, transaction
from notify.models import SendBudget
from notify.send_budget import SharedRate, Windows, forget_past, take_slot

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


def test_windows_keep_a_margin_and_hold_a_slot_at_least() -> None:
    # A second stretched by the jitter allowed (0.2 s): 100 a second becomes 83 slots.
    assert Windows.for_rate(100.0) == Windows(window_seconds=1.0, slots=83)
    # Under one a second, a window grows to whole seconds until it holds one slot.
    assert Windows.for_rate(0.5) == Windows(window_seconds=3.0, slots=1)
    windows = Windows.for_rate(10.0)
    assert windows.earliest_slot(1000.0) == 1
    # 10 a second stretched rounds down to 8 slots a window, 1/8 s apart.
    assert windows.earliest_slot(1000.5) == 5
    assert windows.slot_start(1000, 5) == pytest.approx(1000.0 + 4 / 8)


async def test_a_window_gives_each_slot_once_and_no_more_than_it_holds(sessions: Sessions) -> None:
    windows = Windows(window_seconds=1.0, slots=3)
    taken = []
    for _ in range(4):
        async with transaction(sessions) as session:
            taken.append(await take_slot(session=session, channel="outbox", windows=windows, moment=5000.0))
    assert taken == [1, 2, 3, None]
    # Another channel has its own budget.
    async with transaction(sessions) as session:
        assert await take_slot(session=session, channel="whatsapp", windows=windows, moment=5000.0) == 1


async def test_slots_already_passed_are_never_given_so_an_idle_window_cannot_burst(sessions: Sessions) -> None:
    windows = Windows(window_seconds=1.0, slots=10)
    async with transaction(sessions) as session:
        # Late in the window: the slot under way is the 8th; the seven behind it are gone.
        assert await take_slot(session=session, channel="outbox", windows=windows, moment=7000.75) == 8
        assert await take_slot(session=session, channel="outbox", windows=windows, moment=7000.75) == 9
        assert await take_slot(session=session, channel="outbox", windows=windows, moment=7000.95) == 10
        assert await take_slot(session=session, channel="outbox", windows=windows, moment=7000.96) is None


async def test_past_windows_are_forgotten(sessions: Sessions) -> None:
    windows = Windows(window_seconds=1.0, slots=5)
    async with transaction(sessions) as session:
        for moment in (100.0, 101.0, 102.0, 103.0):
            await take_slot(session=session, channel="outbox", windows=windows, moment=moment)
        assert await forget_past(session=session, channel="outbox", windows=windows, moment=103.5) == 2
        left = await session.scalar(select(func.count()).select_from(SendBudget))
    assert left == 2


async def test_two_takers_together_stay_at_the_shared_rate(sessions: Sessions) -> None:
    rate = 40.0
    first = SharedRate(sessions=sessions, rate_per_second=rate)
    second = SharedRate(sessions=sessions, rate_per_second=rate)
    starts: list[float] = []

    async def take(limiter: SharedRate, count: int) -> None:
        for _ in range(count):
            await limiter.acquire()
            starts.append(time.monotonic())

    await asyncio.gather(take(first, 30), take(second, 30))
    starts.sort()
    # 60 sends at 33 a second take about 1.8 s; two takers each at the full rate would take 0.75 s.
    assert starts[-1] - starts[0] >= 59 / (rate / 1.2) - 0.1
    most = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert most <= rate
