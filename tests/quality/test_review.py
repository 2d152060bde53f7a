"""The daily review of ratings on SQLite and PostgreSQL: the day's queue, negative ones first; a review's required
fields and its refusals, with nothing saved; corrections in the audit log, a review that raced another's included;
overdue reviews across a weekend and a holiday; and a member of staff's own summary."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import audit
from accounts.models import AuditEntry
from accounts.roles import Role
from cases import service as cases
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from quality import causes, own_ratings, review
from quality.models import InviteChannel, Rating, RatingInvite, RatingReview, ReviewAction, Visit
from tests.factories import details, make_staff
from worktime import service as worktime

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example/status"


async def rate(
    sessions: Sessions,
    clock: FrozenClock,
    score: int,
    *,
    at: datetime | None = None,
    staff_id: int | None = None,
    comment: str = "",
    visit: Visit = Visit.INTAKE,
) -> int:
    """A rating given at `at` (the clock's now by default) on a request of its own, as the desk's tablet gives it."""
    at = at or clock.now()
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        invite = RatingInvite(
            case_id=case.id,
            appointment_id=0,
            visit=visit,
            channel=InviteChannel.TABLET,
            staff_id=staff_id,
            branch_code="riyadh",
            created_at=at,
            expires_at=at + timedelta(hours=1),
            used_at=at,
        )
        session.add(invite)
        await session.flush()
        rating = Rating(
            invite_id=invite.id,
            case_id=case.id,
            visit=visit,
            staff_id=staff_id,
            branch_code="riyadh",
            score=score,
            comment=comment,
            rated_at=at,
        )
        session.add(rating)
        await session.flush()
        return rating.id


def riyadh_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=RIYADH)


async def _review_rows(sessions: Sessions) -> tuple[int, int]:
    async with sessions() as session:
        reviews = await session.scalar(select(func.count()).select_from(RatingReview))
        entries = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("quality.review.%"))
        )
    return int(reviews or 0), int(entries or 0)


async def test_the_days_queue_puts_negative_ratings_first(sessions: Sessions, clock: FrozenClock) -> None:
    day = date(2026, 11, 24)
    happy = await rate(sessions, clock, 5, at=riyadh_at(day, 9))
    angry = await rate(sessions, clock, 1, at=riyadh_at(day, 10))
    neutral = await rate(sessions, clock, 3, at=riyadh_at(day, 11))
    unhappy = await rate(sessions, clock, 2, at=riyadh_at(day, 12))
    # Riyadh's day, not UTC's: 23:30 the day before and 00:10 the day after are other days' ratings.
    await rate(sessions, clock, 1, at=riyadh_at(day - timedelta(days=1), 23, 30))
    await rate(sessions, clock, 1, at=riyadh_at(day + timedelta(days=1), 0, 10))
    async with sessions() as session:
        queue = await review.day_queue(session=session, day=day)
    assert [item.rating.id for item in queue] == [angry, unhappy, happy, neutral]
    assert [item.negative for item in queue] == [True, True, False, False]
    assert all(item.review is None and item.tracking_number for item in queue)


async def test_a_negative_rating_needs_a_note_a_cause_and_an_action(sessions: Sessions, clock: FrozenClock) -> None:
    manager = await make_staff(sessions, clock, Role.MANAGER)
    angry = await rate(sessions, clock, 1)
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await review.record_review(session=session, clock=clock, rating_id=angry, actor_id=manager.id, note="  ")
    assert {(e.field, e.code) for e in refused.value.errors} == {
        ("note", "missing"),
        ("cause", "missing"),
        ("action", "missing"),
    }
    assert await _review_rows(sessions) == (0, 0)

    async with transaction(sessions) as session:
        done = await review.record_review(
            session=session,
            clock=clock,
            rating_id=angry,
            actor_id=manager.id,
            note="The applicant waited 40 minutes at the desk.",
            cause="long_wait",
            action="process_change",
        )
    assert (done.cause_code, done.action, done.reviewed_by_id) == ("long_wait", ReviewAction.PROCESS_CHANGE, manager.id)
    assert await _review_rows(sessions) == (1, 1)


@pytest.mark.parametrize(
    ("cause", "action", "expected"),
    [
        ("no_such_cause", "coaching", ("cause", "invalid_choice")),
        ("long_wait", "scolding", ("action", "invalid_choice")),
        ("facilities", "coaching", ("cause", "retired")),
    ],
)
async def test_a_wrong_or_retired_cause_or_action_is_refused_and_nothing_saved(
    sessions: Sessions, clock: FrozenClock, cause: str, action: str, expected: tuple[str, str]
) -> None:
    manager = await make_staff(sessions, clock, Role.MANAGER)
    async with transaction(sessions) as session:
        await causes.set_cause_active(
            session=session, clock=clock, actor_id=manager.id, code="facilities", active=False
        )
    angry = await rate(sessions, clock, 2)
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await review.record_review(
                session=session, clock=clock, rating_id=angry, actor_id=manager.id, note="n", cause=cause, action=action
            )
    assert [(e.field, e.code) for e in refused.value.errors] == [expected]
    if expected[1] == "invalid_choice" and expected[0] == "cause":
        # The choices offered are the active causes only.
        offered = refused.value.errors[0].params["choices"]
        assert "long_wait" in offered and "facilities" not in offered
    assert await _review_rows(sessions) == (0, 0)


async def test_an_unknown_rating_is_not_found(sessions: Sessions, clock: FrozenClock) -> None:
    with pytest.raises(review.RatingNotFound):
        async with transaction(sessions) as session:
            await review.record_review(session=session, clock=clock, rating_id=999, actor_id=None, note="x")
    assert await _review_rows(sessions) == (0, 0)


async def test_a_positive_rating_is_marked_reviewed_without_a_cause(sessions: Sessions, clock: FrozenClock) -> None:
    manager = await make_staff(sessions, clock, Role.MANAGER)
    happy = await rate(sessions, clock, 4)
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await review.record_review(
                session=session, clock=clock, rating_id=happy, actor_id=manager.id, note="", cause="long_wait"
            )
    assert [(e.field, e.code) for e in refused.value.errors] == [("cause", "not_negative")]
    async with transaction(sessions) as session:
        done = await review.record_review(session=session, clock=clock, rating_id=happy, actor_id=manager.id, note="")
    assert (done.note, done.cause_code, done.action) == ("", None, None)


async def test_a_correction_overwrites_the_review_and_the_audit_log_keeps_the_first(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await make_staff(sessions, clock, Role.MANAGER, "first")
    second = await make_staff(sessions, clock, Role.MANAGER, "second")
    angry = await rate(sessions, clock, 1)
    async with transaction(sessions) as session:
        await review.record_review(
            session=session,
            clock=clock,
            rating_id=angry,
            actor_id=first.id,
            note="rude",
            cause="facilities",
            action="coaching",
        )
        # Retired afterwards: the review keeps it, and a correction may keep it too.
        await causes.set_cause_active(session=session, clock=clock, actor_id=first.id, code="facilities", active=False)
    clock.advance(timedelta(hours=2))
    async with transaction(sessions) as session:
        await review.record_review(
            session=session,
            clock=clock,
            rating_id=angry,
            actor_id=second.id,
            note="cold room",
            cause="facilities",
            action="no_fault",
        )
    async with sessions() as session:
        [item] = await review.day_queue(session=session, day=date(2026, 11, 24))
        entries = await audit.for_target(session=session, target_type="rating", target_id=angry)
    assert item.review is not None and item.review.note == "cold room" and item.reviewer_name == "Staff manager"
    assert item.review.reviewed_by_id == second.id and item.cause is not None and not item.cause.active
    assert [e.action for e in entries] == ["quality.review.record", "quality.review.correct"]
    assert entries[1].details["before"]["note"] == "rude" and entries[1].details["before"]["action"] == "coaching"


async def test_overdue_after_the_end_of_the_next_working_day_across_a_weekend(
    sessions: Sessions, clock: FrozenClock
) -> None:
    manager = await make_staff(sessions, clock, Role.MANAGER)
    thursday = date(2026, 11, 26)
    angry = await rate(sessions, clock, 1, at=riyadh_at(thursday, 15))
    await rate(sessions, clock, 5, at=riyadh_at(thursday, 15))  # not negative: never overdue
    reviewed = await rate(sessions, clock, 2, at=riyadh_at(thursday, 9))
    async with transaction(sessions) as session:
        await review.record_review(
            session=session,
            clock=clock,
            rating_id=reviewed,
            actor_id=manager.id,
            note="n",
            cause="other",
            action="no_fault",
        )

    async def overdue_at(moment: datetime) -> list[tuple[int, int | None]]:
        clock.set(moment)
        async with sessions() as session:
            items = await review.overdue(session=session, clock=clock)
            assert await review.overdue_count(session, clock) == len(items)
        return [(item.rating.id, item.age) for item in items]

    # Friday and Saturday are the weekend; Sunday is the next working day, due by its end.
    assert await overdue_at(riyadh_at(date(2026, 11, 29), 23, 59)) == []
    assert await overdue_at(riyadh_at(date(2026, 11, 30), 0, 0)) == [(angry, 2)]
    # Every day until reviewed, older by each working day (not by the weekend).
    assert await overdue_at(riyadh_at(date(2026, 12, 4), 12)) == [(angry, 5)]


async def test_an_official_holiday_is_not_a_working_day_for_the_review(sessions: Sessions, clock: FrozenClock) -> None:
    thursday = date(2026, 11, 26)
    angry = await rate(sessions, clock, 1, at=riyadh_at(thursday, 15))
    async with transaction(sessions) as session:
        await worktime.add_holiday(session=session, day=date(2026, 11, 29), name="Holiday")
    clock.set(riyadh_at(date(2026, 11, 30), 12))
    async with sessions() as session:
        assert await review.overdue_count(session, clock) == 0
    clock.set(riyadh_at(date(2026, 12, 1), 0))
    async with sessions() as session:
        [item] = await review.overdue(session=session, clock=clock)
    assert (item.rating.id, item.age) == (angry, 2)


def test_the_review_is_due_at_the_end_of_the_next_working_day() -> None:
    # Sunday → Monday's end; Wednesday → Thursday's end; Thursday, Friday and Saturday → Sunday's end.
    for rated, due in (
        (date(2026, 11, 22), date(2026, 11, 24)),
        (date(2026, 11, 25), date(2026, 11, 27)),
        (date(2026, 11, 26), date(2026, 11, 30)),
        (date(2026, 11, 27), date(2026, 11, 30)),
        (date(2026, 11, 28), date(2026, 11, 30)),
    ):
        assert review.review_due(rated, frozenset()) == riyadh_at(due, 0), rated


def test_a_day_is_asked_as_yyyy_mm_dd() -> None:
    now = riyadh_at(date(2026, 11, 24), 23, 59)
    assert review.asked_day("", now=now) == date(2026, 11, 24)
    assert review.asked_day(" 2026-02-28 ", now=now) == date(2026, 2, 28)
    # Either calendar, either digits (majlis.hijri.read_day): 11 Ramadan 1447 is 28 February 2026.
    assert review.asked_day("٢٠٢٦-٠٢-٢٨", now=now) == review.asked_day("1447-09-11", now=now) == date(2026, 2, 28)
    for wrong in ("2026-02-30", "28/02/2026", "2026-2-8", "0001-01-01", "9999-12-31", "1448-06-30"):
        with pytest.raises(InvalidInput) as refused:
            review.asked_day(wrong, now=now)
        assert refused.value.errors[0].field == "day"


async def test_own_summary_counts_only_ones_own_ratings(sessions: Sessions, clock: FrozenClock) -> None:
    me = await make_staff(sessions, clock, Role.INTAKE_DESK, "me")
    other = await make_staff(sessions, clock, Role.INTAKE_DESK, "other")
    manager = await make_staff(sessions, clock, Role.MANAGER)
    today = date(2026, 11, 24)
    await rate(sessions, clock, 5, at=riyadh_at(today, 9), staff_id=me.id, comment="Very kind")
    angry = await rate(sessions, clock, 1, at=riyadh_at(today - timedelta(days=10), 9), staff_id=me.id)
    # The last 30 days reach back into October; this month does not.
    await rate(sessions, clock, 4, at=riyadh_at(date(2026, 10, 30), 9), staff_id=me.id)
    await rate(sessions, clock, 3, at=riyadh_at(date(2026, 10, 20), 9), staff_id=me.id)  # older than both
    await rate(sessions, clock, 1, at=riyadh_at(today, 9), staff_id=other.id, comment="Someone else's")
    async with transaction(sessions) as session:
        await review.record_review(
            session=session,
            clock=clock,
            rating_id=angry,
            actor_id=manager.id,
            note="n",
            cause="long_wait",
            action="coaching",
        )
    async with sessions() as session:
        summary = await own_ratings.own_ratings(session=session, clock=clock, staff_id=me.id)
    assert (summary.last_30_days.count, summary.last_30_days.mean) == (3, 3.33)
    assert summary.last_30_days.faces == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1}
    assert (summary.this_month.count, summary.this_month.mean) == (2, 3.0)
    # Two of mine this month, two in October: fewer than five in either, so no comment is given (own_ratings).
    assert [(m.ratings, m.shown, m.comments) for m in summary.comment_months] == [(2, False, []), (2, False, [])]
    [negative] = summary.reviewed_negatives
    assert negative.cause is not None and negative.cause.code == "long_wait"
    assert negative.action is ReviewAction.COACHING


async def test_a_review_that_lands_between_the_read_and_the_write_is_corrected_not_a_500(
    sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await make_staff(sessions, clock, Role.MANAGER, "first")
    second = await make_staff(sessions, clock, Role.MANAGER, "second")
    angry = await rate(sessions, clock, 1)
    checked_cause = review._checked_cause

    async def first_lands_meanwhile(session: AsyncSession, *args: Any) -> Any:
        # Written behind the ORM's back, after record_review read that the rating had no review: the other
        # manager's transaction (SQLite takes no row lock) committing between the read and the write.
        await session.execute(
            insert(RatingReview).values(
                rating_id=angry, note="rude", cause_code="staff_conduct", action=ReviewAction.COACHING,
                reviewed_at=clock.now(), reviewed_by_id=first.id,
            )
        )  # fmt: skip
        return await checked_cause(session, *args)

    monkeypatch.setattr(review, "_checked_cause", first_lands_meanwhile)
    clock.advance(timedelta(minutes=1))
    async with transaction(sessions) as session:
        saved = await review.record_review(
            session=session, clock=clock, rating_id=angry, actor_id=second.id, note="cold room",
            cause="facilities", action="no_fault",
        )  # fmt: skip
    assert saved.note == "cold room"
    async with sessions() as session:
        [kept] = list(await session.scalars(select(RatingReview)))
        entries = await audit.for_target(session=session, target_type="rating", target_id=angry)
    assert (kept.note, kept.cause_code, kept.action, kept.reviewed_by_id) == (
        "cold room", "facilities", ReviewAction.NO_FAULT, second.id
    )  # fmt: skip
    [corrected] = entries
    assert corrected.action == "quality.review.correct" and corrected.actor_id == second.id
    assert corrected.details["before"]["note"] == "rude" and corrected.details["before"]["by"] == first.id
