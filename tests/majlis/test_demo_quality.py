"""Service quality's demo: rated visits of four weeks, negative ones reviewed, one overdue, today's in the queue,
a tablet paired with the desk; run again, it adds nothing but the tablets' new tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.models import StaffUser
from audience_day.models import Arrival, HallAudience
from majlis import demo, demo_quality
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from quality.models import NEGATIVE_AT_MOST, DeskTablet, Rating, RatingInvite, RatingReview, Visit
from rooms.models import Room, RoomKind

URL = "http://127.0.0.1:8080/status"


async def staff_and_hall(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> None:
    """The demo's staff quality needs and the Riyadh hall, as the rest of the demo makes them."""
    async with transaction(sessions) as session:
        for person in demo.DEMO_STAFF:
            if person.username in demo_quality.STAFF:
                await accounts.create_user(
                    session=session, clock=clock, username=person.username, full_name=person.full_name,
                    role=person.role, gender=person.gender, password=demo.DEMO_PASSWORD,
                )  # fmt: skip
        session.add(
            Room(branch_code="riyadh", name="hall", kind=RoomKind.AUDIENCE_HALL, capacity=30, created_at=clock.now())
        )


async def load(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock) -> demo_quality.QualityShown:
    async with transaction(sessions) as session:
        shown = await demo_quality.load(session=session, clock=clock, status_url=URL)
    assert shown is not None
    return shown


async def figures(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[str, Any]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with sessions() as session:
        ratings = list(await session.scalars(select(Rating)))
        reviewed = set(await session.scalars(select(RatingReview.rating_id)))
        reviews = list(await session.scalars(select(RatingReview)))
        live = list(await session.scalars(select(DeskTablet).where(DeskTablet.revoked_at.is_(None))))
        desk = await session.scalar(select(StaffUser).where(StaffUser.username == "desk"))
        manager = await session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        served = await session.scalar(
            select(func.count())
            .select_from(Arrival)
            .join(HallAudience, HallAudience.appointment_id == Arrival.appointment_id)
            .where(HallAudience.ended_at.is_not(None))
        )
        waiting = await session.scalar(
            select(func.count())
            .select_from(RatingInvite)
            .where(RatingInvite.tablet_id.is_not(None), RatingInvite.used_at.is_(None))
            .where(RatingInvite.withdrawn_at.is_(None), RatingInvite.expires_at > now)
        )
    assert desk is not None and manager is not None
    negative = [r for r in ratings if r.score <= NEGATIVE_AT_MOST]
    return {
        "ratings": len(ratings),
        "visits": {r.visit for r in ratings},
        "staff": len({r.staff_id for r in ratings}),
        "branches": {r.branch_code for r in ratings},
        "negative": len(negative),
        "reviewed": len(reviewed),
        "complete_reviews": all(r.note and r.cause_code and r.action for r in reviews),
        "overdue": sum(1 for r in negative if r.id not in reviewed and r.rated_at < now - timedelta(days=5)),
        "negative_today": sum(1 for r in negative if r.id not in reviewed and r.rated_at >= midnight),
        "paired": [t.branch_code for t in live if t.staff_id == desk.id],
        "live_tablets": sorted(t.branch_code for t in live),
        "waiting_on_a_tablet": waiting,
        "served": served,
        "manager_email": manager.email,
    }


async def test_the_demo_rates_reviews_and_pairs_once(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    now = datetime(2026, 12, 7, 11, 30, tzinfo=RIYADH)  # a Monday
    clock.set(now)
    await staff_and_hall(sessions, clock)
    first = await load(sessions, clock)
    made = await figures(sessions, now)
    assert made["ratings"] >= 35
    assert made["visits"] == set(Visit)
    assert made["staff"] >= 3 and made["branches"] == {"riyadh", "jeddah"}
    assert made["negative"] >= 6 and made["reviewed"] >= 3 and made["complete_reviews"]
    assert made["overdue"] >= 1 and made["negative_today"] == 2
    assert made["paired"] == ["riyadh"] and made["live_tablets"] == ["jeddah", "riyadh"]
    assert made["waiting_on_a_tablet"] == 1
    assert made["served"] >= 10
    assert made["manager_email"] == demo_quality.MANAGER_EMAIL
    assert (first.ratings, first.negative_today, first.overdue) == (made["ratings"], 2, made["overdue"])

    clock.set(now + timedelta(minutes=20))  # again: nothing new but the tablets, enrolled afresh
    again = await load(sessions, clock)
    assert set(again.tablet_tokens.values()).isdisjoint(first.tablet_tokens.values())
    assert await figures(sessions, now) == made
