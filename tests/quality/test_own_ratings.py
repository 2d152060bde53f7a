"""One's own ratings' comments on SQLite and PostgreSQL: given by calendar month, without day or visit, in no order
of time, and only for a month in which at least five ratings of the staff member share it."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from quality import own_ratings
from quality.models import Visit
from tests.factories import make_staff
from tests.quality.test_review import rate, riyadh_at

Sessions = async_sessionmaker[AsyncSession]


async def test_comments_come_by_month_once_five_ratings_share_it(sessions: Sessions, clock: FrozenClock) -> None:
    me = await make_staff(sessions, clock, Role.INTAKE_DESK, "me")
    other = await make_staff(sessions, clock, Role.INTAKE_DESK, "other")
    # November (the clock's month): five ratings, three with comments, on different days and visits.
    for day, score, comment, visit in (
        (2, 5, "Zealous help", Visit.INTAKE),
        (9, 2, "Long wait", Visit.CHECK_IN),
        (16, 5, "", Visit.INTAKE),
        (20, 4, "", Visit.AUDIENCE),
        (23, 5, "Clear answers", Visit.COMPLETION),
    ):
        when = riyadh_at(date(2026, 11, day), 10)
        await rate(sessions, clock, score, at=when, staff_id=me.id, comment=comment, visit=visit)
    await rate(sessions, clock, 1, at=riyadh_at(date(2026, 11, 3), 10), staff_id=other.id, comment="Not mine")
    # October: four of mine (one before the last 30 days, still in the month), so its comments are withheld.
    for day in (3, 27, 28, 30):
        await rate(sessions, clock, 3, at=riyadh_at(date(2026, 10, day), 10), staff_id=me.id, comment=f"Oct {day}")
    await rate(sessions, clock, 3, at=riyadh_at(date(2026, 9, 29), 10), staff_id=me.id, comment="September")

    async with sessions() as session:
        summary = await own_ratings.own_ratings(session=session, clock=clock, staff_id=me.id)
    november, october = summary.comment_months
    assert (november.month.first_day, november.ratings, november.shown) == (date(2026, 11, 1), 5, True)
    # By face then text: neither the day nor the visit can be read from them or their order.
    assert november.comments == [
        own_ratings.Comment(2, "Long wait"),
        own_ratings.Comment(5, "Clear answers"),
        own_ratings.Comment(5, "Zealous help"),
    ]
    assert (october.month.first_day, october.ratings, october.shown, october.comments) == (
        date(2026, 10, 1), 4, False, []
    )  # fmt: skip
    # The tallies keep to their periods: October's early rating is outside the last 30 days.
    assert summary.last_30_days.count == 8 and summary.this_month.count == 5
