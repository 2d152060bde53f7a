"""The provider's rate, shared by every dispatcher on every process and machine (the send_budgets table).

A provider limits sends per account and second, not per process: two dispatchers that each paced
themselves at the full rate would together send twice as much and be refused. Each send therefore
takes a *slot* in the database first. Time is cut into windows of `window_seconds`; a window holds
`slots` slots, `spacing` seconds apart: the provider's rate stretched by JITTER_SECONDS, so that sends
delayed on the way (a busy event loop, a slow connection) by up to that much behind others still arrive
within the provider's limit in any one of its seconds. Slot n of window k starts at k * window_seconds +
(n - 1) * spacing; the dispatcher that took it waits until then and sends.

Taking a slot is one atomic statement on both databases:

    INSERT … ON CONFLICT (channel, window_index) DO UPDATE SET used = … WHERE … <= slots RETURNING used

A window's row counts its slots taken *or passed*: a taker never gets a slot whose time is already
behind it (the earliest is the one now under way), so a dispatcher idle until late in a window
cannot release a burst of the window's unused slots at its end. Sends from all dispatchers are
therefore spaced evenly, which keeps any sliding second (the provider's view) under the rate, not
only the windows.

The clock is the machine's wall clock (time.time()), not the domain's injected clock: this paces
real requests to a provider in real time, and every machine must agree on where a window starts.
Machines keep their clocks with NTP; a skew of a few milliseconds shifts some sends by as much, well
inside JITTER_SECONDS.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from sqlalchemy import delete, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import case

from majlis.db import transaction
from notify.models import SendBudget

# How much later than its slot one send may reach the provider than another without the two pushing the
# provider's second over its limit: the rate is paced as if each second lasted this much longer (at 100 a second,
# 83 slots). A taker woken more than half of it after its slot's start takes another slot instead. The 5 % margin
# tried first was too little for two processes on the shared 2-core test machine: a process's first sends, while
# its HTTP client connects, reached the fake provider up to about 0.15 s behind their slots.
JITTER_SECONDS = 0.2


@dataclass(frozen=True)
class Windows:
    """How one rate is cut into windows of slots."""

    window_seconds: float
    slots: int

    @classmethod
    def for_rate(cls, rate_per_second: float) -> Windows:
        """One-second windows, or longer ones for rates under about one a second (a window holds a slot at least)."""
        if rate_per_second <= 0:
            raise ValueError("the rate must be positive")
        stretch = 1 + JITTER_SECONDS
        seconds = max(1.0, float(math.ceil(stretch / rate_per_second)))
        return cls(window_seconds=seconds, slots=max(1, math.floor(rate_per_second * seconds / stretch)))

    @property
    def spacing(self) -> float:
        return self.window_seconds / self.slots

    def index(self, moment: float) -> int:
        return math.floor(moment / self.window_seconds)

    def earliest_slot(self, moment: float) -> int:
        """The slot under way at `moment` (1-based): earlier ones have passed and are never given out."""
        elapsed = moment - self.index(moment) * self.window_seconds
        return min(self.slots, math.floor(elapsed / self.spacing) + 1)

    def slot_start(self, window_index: int, slot: int) -> float:
        return window_index * self.window_seconds + (slot - 1) * self.spacing


async def take_slot(*, session: AsyncSession, channel: str, windows: Windows, moment: float) -> int | None:
    """The slot taken in the window of `moment` (its number), or None when the window has none left."""
    window_index = windows.index(moment)
    earliest = windows.earliest_slot(moment)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(SendBudget) if dialect == "postgresql" else sqlite.insert(SendBudget)
    following = case(
        (SendBudget.used + 1 > literal(earliest), SendBudget.used + 1),
        else_=literal(earliest),
    )
    statement = (
        insert.values(channel=channel, window_index=window_index, used=earliest)
        .on_conflict_do_update(
            index_elements=[SendBudget.channel, SendBudget.window_index],
            set_={"used": following},
            where=following <= windows.slots,
        )
        .returning(SendBudget.used)
    )
    taken = (await session.execute(statement)).scalar_one_or_none()
    await session.flush()
    return taken


async def forget_past(*, session: AsyncSession, channel: str, windows: Windows, moment: float) -> int:
    """Deletes the rows of windows that have ended (nothing reads them again); returns how many."""
    result = await session.execute(
        delete(SendBudget).where(SendBudget.channel == channel, SendBudget.window_index < windows.index(moment) - 1)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class SharedRate:
    """Waits for this process's turn within the provider's rate, shared through send_budgets by every dispatcher."""

    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], rate_per_second: float, channel: str = "outbox"
    ) -> None:
        self._sessions = sessions
        self._channel = channel
        self.windows = Windows.for_rate(rate_per_second)
        # Sends of one process take their slots in the order they asked (asyncio.Lock is first come, first
        # served): two messages to one applicant (a cancellation, then the new invitation) leave in the order
        # they were written, as they did before the rate was shared.
        self._turns = asyncio.Lock()

    async def acquire(self) -> None:
        """Returns at the start of a slot of the shared rate (taking it in its own short transaction)."""
        async with self._turns:
            await self._take_turn()

    async def _take_turn(self) -> None:
        while True:
            now = time.time()
            async with transaction(self._sessions) as session:
                slot = await take_slot(session=session, channel=self._channel, windows=self.windows, moment=now)
            window_index = self.windows.index(now)
            if slot is None:
                # The window is full: try again when the next one opens.
                await asyncio.sleep(max(0.0, self.windows.slot_start(window_index + 1, 1) - time.time()))
                continue
            start = self.windows.slot_start(window_index, slot)
            if start > time.time():
                await asyncio.sleep(start - time.time())
            if time.time() - start <= JITTER_SECONDS / 2:
                return
            # Woken too late (a busy event loop): sending now could bunch with the slots after this one. The slot
            # is left unused and another taken.

    async def tidy(self) -> None:
        """Deletes the rows of past windows (the dispatcher calls this once a run)."""
        async with transaction(self._sessions) as session:
            await forget_past(session=session, channel=self._channel, windows=self.windows, moment=time.time())
