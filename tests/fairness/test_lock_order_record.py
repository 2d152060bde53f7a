"""The scenario tests of the paths that lock rows and append to the fairness chain, run again on PostgreSQL
under the lock-order watch (tests/fairness/lock_order.py): each must take the chain's turn before any row
lock. The tests are the modules' own, collected here a second time with this module's fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.fairness import test_record, test_record_sources
from tests.fairness.lock_order import LockOrder
from tests.whatsapp_desk import test_repeats

# The fairness record's scenarios (triage, runs, moves, urgent arrivals with displacement, merges) and the
# WhatsApp desk's repeats cancelled and undone. The answers' and the calendar's: test_lock_order_scheduler.py.
WATCHED: tuple[ModuleType, ...] = (test_record, test_record_sources, test_repeats)


def _collected(module: ModuleType) -> dict[str, object]:
    """The module's tests and the fixtures they use from it."""
    return {
        name: value
        for name, value in vars(module).items()
        if (name.startswith("test_") and callable(value)) or type(value).__name__ == "FixtureFunctionDefinition"
    }


for _module in WATCHED:
    globals().update(_collected(_module))


@pytest.fixture
def backend() -> str:
    # The watch reads PostgreSQL's locks; SQLite takes its one write lock at BEGIN IMMEDIATE.
    return "postgresql"


@pytest.fixture(autouse=True)
def lock_order() -> Iterator[LockOrder]:
    watch = LockOrder()
    with watch.installed():
        yield watch
    watch.assert_kept()
