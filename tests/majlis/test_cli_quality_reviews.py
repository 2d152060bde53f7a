"""`majlis quality reviews | review | causes` on SQLite and PostgreSQL, through majlis.cli.main in the test's
process (a process of its own takes seconds to start): the overdue reviews and the day's queue printed, a review
refused in both languages with exit 2 and nothing saved, then recorded; the list of causes listed, added to,
retired. The commands run on the machine's clock, as in production."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.roles import Role
from majlis.cli import main
from majlis.clock import FrozenClock, SystemClock, riyadh
from majlis.db import create_engine, session_factory
from quality.models import RatingReview, ReviewCause
from tests.factories import make_staff
from tests.quality.test_review import rate


@dataclass(frozen=True)
class Rated:
    today_negative: int
    today_positive: int
    old_negative: int


async def _arrange(url: str) -> Rated:
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        clock = FrozenClock(SystemClock().now())
        desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
        await make_staff(sessions, clock, Role.MANAGER, "manager")
        now = clock.now()
        # Ten days ago is past the end of the next working day whatever today is.
        old = await rate(sessions, clock, 1, at=now - timedelta(days=10), staff_id=desk.id)
        happy = await rate(sessions, clock, 5, at=now - timedelta(seconds=2), staff_id=desk.id)
        angry = await rate(sessions, clock, 2, at=now - timedelta(seconds=1), staff_id=desk.id, comment="Slow")
        return Rated(today_negative=angry, today_positive=happy, old_negative=old)
    finally:
        await engine.dispose()


async def _reviewed(url: str) -> dict[int, str | None]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(select(RatingReview.rating_id, RatingReview.cause_code))
            return {rating_id: cause for rating_id, cause in rows}
    finally:
        await engine.dispose()


async def _active(url: str, code: str) -> bool | None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            found = await session.get(ReviewCause, code)
            return None if found is None else found.active
    finally:
        await engine.dispose()


@pytest.fixture
def rated(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Rated:
    for name in [k for k in os.environ if k.startswith("MAJLIS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MAJLIS_DATABASE_URL", database_url)
    return asyncio.run(_arrange(database_url))


def test_the_queue_and_a_review(rated: Rated, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Seconds ago may be yesterday in Riyadh just after midnight: ask for the day the ratings were given.
    day = riyadh(SystemClock().now() - timedelta(seconds=1)).date().isoformat()
    assert main(["quality", "reviews", "--day", day]) == 0
    out = capsys.readouterr().out
    assert "Overdue reviews (negative ratings not reviewed by the end of the next working day): 1" in out
    queue = out[out.index(f"Ratings of {day}: 2, 1 negative, 2 not reviewed") :]
    assert queue.index(f"rating {rated.today_negative} ") < queue.index(f"rating {rated.today_positive} ")
    assert 'comment: "Slow"' in queue and "served by Staff intake_desk" in queue
    assert main(["quality", "reviews", "--overdue"]) == 0
    out = capsys.readouterr().out
    assert f"rating {rated.old_negative} " in out and "working day(s) old" in out and "Ratings of" not in out

    assert main(["quality", "reviews", "--day", "2026-02-30"]) == 2
    assert "refused (day: invalid_day)" in capsys.readouterr().out

    refused = main(["quality", "review", str(rated.old_negative), "--note", "", "--cause", "nope", "--by", "manager"])
    err = capsys.readouterr().err
    assert refused == 2
    assert "refused (note: missing, cause: invalid_choice, action: missing)" in err
    assert "  ar: " in err and "  en: " in err
    assert main(["quality", "review", str(rated.old_negative), "--note", "n", "--by", "desk"]) == 2
    assert "reviewing a rating is for manager or administrator accounts" in capsys.readouterr().err
    with pytest.raises(SystemExit) as huge:  # past the 32-bit keys: argparse refuses it, the database never sees it
        main(["quality", "review", "999999999999", "--note", "n", "--by", "manager"])
    assert huge.value.code == 2 and "not a rating id: '999999999999'" in capsys.readouterr().err
    assert asyncio.run(_reviewed(database_url)) == {}

    done = main(
        [
            "quality",
            "review",
            str(rated.old_negative),
            *("--note", "The desk was short of staff that morning."),
            *("--cause", "long_wait", "--action", "process_change", "--by", "manager"),
        ]
    )
    out = capsys.readouterr().out
    assert done == 0 and f"reviewed rating {rated.old_negative}" in out
    assert "reviewed by Staff manager" in out and "cause long_wait; action process_change" in out
    assert main(["quality", "review", str(rated.today_positive), "--by", "manager"]) == 0
    capsys.readouterr()
    assert asyncio.run(_reviewed(database_url)) == {rated.old_negative: "long_wait", rated.today_positive: None}
    assert main(["quality", "reviews", "--overdue"]) == 0
    assert "not reviewed by the end of the next working day): 0" in capsys.readouterr().out


def test_the_list_of_causes(rated: Rated, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quality", "causes", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["long_wait", "active"] and len(lines) == 7

    assert main(["quality", "causes", "add", "parking", "--ar", "المواقف", "--en", "Parking", "--by", "manager"]) == 0
    assert "added cause parking: Parking / المواقف" in capsys.readouterr().out
    assert main(["quality", "causes", "add", "parking", "--ar", "x", "--en", "y", "--by", "manager"]) == 2
    assert "refused (code: taken)" in capsys.readouterr().err
    assert main(["quality", "causes", "retire", "parking", "--by", "manager"]) == 0
    assert "retired cause parking" in capsys.readouterr().out
    assert asyncio.run(_active(database_url, "parking")) is False
    assert main(["quality", "causes", "retire", "nothing", "--by", "manager"]) == 2
    assert "refused (cause_not_found)" in capsys.readouterr().err
    assert main(["quality", "causes", "list"]) == 0
    assert "parking                  RETIRED" in capsys.readouterr().out
