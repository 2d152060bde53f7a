"""The protocol calendar's data (scheduler.week_grid): cards in their day, time and lane; the month's counts; the
seats offered for a move, judged by the allocator's rules. On both databases (the `sessions` fixture)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock, riyadh
from majlis.db import transaction
from scheduler import by_hand as manual
from scheduler import week_grid
from scheduler.allocation import Mode, SeatRule
from scheduler.models import Appointment, AppointmentState
from scheduler.week_grid import Confirmed
from tests.factories import make_staff
from tests.scheduler.test_changes import place, todays_rooms, waiting_request

Sessions = async_sessionmaker[AsyncSession]


async def placed_in_hall(
    sessions: Sessions,
    clock: FrozenClock,
    n: int = 21,
    route: str = "audience_in_person",
    room: str = "hall",
    **applicant: object,
) -> tuple[dict[str, int], str, int]:
    """Today's rooms (one one-seat slot each), and a request placed by hand in the hall's."""
    slots = await todays_rooms(sessions, clock)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    number = await waiting_request(sessions, clock, desk, n, route=route, **applicant)
    appointment = await place(sessions, clock, protocol, number, slots[room])
    return slots, number, appointment.id


async def choices_of(sessions: Sessions, clock: FrozenClock, appointment_id: int) -> week_grid.MoveChoices:
    async with sessions() as session:
        found = await week_grid.move_choices(session=session, clock=clock, appointment_id=appointment_id)
    assert found is not None
    return found


async def test_cards_in_their_day_time_and_lane_and_the_months_counts(sessions: Sessions, clock: FrozenClock) -> None:
    slots, number, appointment_id = await placed_in_hall(sessions, clock)
    today = riyadh(clock.now()).date()
    async with sessions() as session:
        grid = await week_grid.week_grid(
            session=session, clock=clock, start=week_grid.week_start(today), branch="riyadh"
        )
        everywhere = await week_grid.week_grid(session=session, clock=clock, start=week_grid.week_start(today))
    assert grid.start == date(2026, 11, 22) and grid.start.weekday() == 6  # the Sunday of Tuesday 24 November
    assert [d.day for d in grid.days] == [grid.start + timedelta(days=n) for n in range(5)]
    (day,) = [d for d in grid.days if d.day == today]
    assert [lane.room.name for lane in day.lanes] == ["hall", "accessible", "women", "men", "later"]  # not jeddah
    assert "jeddah" in [lane.room.name for d in everywhere.days for lane in d.lanes]
    assert grid.times == ["11:00", "11:10", "11:30", "11:40", "13:00"]
    hall = day.lanes[0].cells["11:00"]
    assert hall.slot_id == slots["hall"] and hall.free == 0 and not hall.open
    (card,) = hall.cards
    assert card.appointment_id == appointment_id and card.tracking_number == number
    assert card.urgency == "normal" and card.confirmed is Confirmed.ASKED  # asked at once: the directive
    assert card.movable
    assert day.lanes[1].cells["11:10"].open and day.lanes[1].cells["11:10"].cards == ()
    assert "11:00" not in day.lanes[1].cells
    assert grid.cards == 1
    # The month: today's six sessions (five at Riyadh), one seat taken.
    async with sessions() as session:
        days = await week_grid.month_days(session=session, first=today.replace(day=1))
        riyadh_only = await week_grid.month_days(session=session, first=today.replace(day=1), branch="riyadh")
    assert len(days) == 30 and days[0].day == date(2026, 11, 1)
    by_day = {d.day: d for d in days}
    assert (by_day[today].sessions, by_day[today].taken, by_day[today].free) == (6, 1, 5)
    assert {d.day: (d.sessions, d.taken, d.free) for d in riyadh_only}[today] == (5, 1, 4)
    assert by_day[today + timedelta(days=1)].sessions == 0
    # The hall's slot has begun: nothing more may go there, and the card stays where it was.
    clock.advance(timedelta(hours=2))
    async with sessions() as session:
        later = await week_grid.week_grid(session=session, clock=clock, start=grid.start, branch="riyadh")
    (day,) = [d for d in later.days if d.day == today]
    begun = day.lanes[0].cells["11:00"]
    assert begun.past and begun.free == 0 and begun.cards[0].tracking_number == number
    # Once its applicant has arrived it can no longer be moved.
    async with transaction(sessions) as session:
        appointment = await session.get_one(Appointment, appointment_id)
        appointment.state = AppointmentState.ARRIVED
    async with sessions() as session:
        assert await week_grid.move_choices(session=session, clock=clock, appointment_id=appointment_id) is None
        assert await week_grid.move_choices(session=session, clock=clock, appointment_id=999999) is None


async def test_a_move_offers_only_the_seats_that_suit_the_request(sessions: Sessions, clock: FrozenClock) -> None:
    # A man's audience in person at the Riyadh centre, today by the directive: the other hall today and the later
    # one are offered (inside the three days: on the directive only); never another branch's or a video room.
    slots, _number, appointment_id = await placed_in_hall(sessions, clock, gender="male", name="خالد")
    found = await choices_of(sessions, clock, appointment_id)
    today_offered = [c for c in found.choices if riyadh(c.starts_at).date() == riyadh(clock.now()).date()]
    assert [c.slot_id for c in today_offered] == [slots["accessible"], slots["later"]]
    assert all(c.needs_directive and c.free == 1 for c in today_offered)
    assert all(c.room.branch_code == "riyadh" for c in found.choices)
    assert slots["hall"] not in {c.slot_id for c in found.choices}  # where it is now
    assert found.refused[slots["jeddah"]] == manual.SEAT_RULE_MESSAGES[SeatRule.BRANCH]
    assert found.refused[slots["women"]] == manual.MODE_MESSAGES[Mode.VIDEO]
    async with sessions() as session:
        why = await week_grid.target_refusal(session=session, clock=clock, choices=found, slot_id=slots["jeddah"])
        same = await week_grid.target_refusal(session=session, clock=clock, choices=found, slot_id=slots["hall"])
        fine = await week_grid.target_refusal(session=session, clock=clock, choices=found, slot_id=slots["later"])
    assert why == manual.SEAT_RULE_MESSAGES[SeatRule.BRANCH]
    assert same == "The appointment is already in that slot." and fine is None


async def test_a_man_by_video_is_never_offered_a_womens_room(sessions: Sessions, clock: FrozenClock) -> None:
    slots, _number, appointment_id = await placed_in_hall(
        sessions, clock, route="audience_video", room="men", gender="male", name="خالد"
    )
    found = await choices_of(sessions, clock, appointment_id)
    assert slots["women"] not in {c.slot_id for c in found.choices}
    assert found.refused[slots["women"]] == manual.SEAT_RULE_MESSAGES[SeatRule.WOMEN_SECTION_ONLY]
    assert found.refused[slots["hall"]] == manual.MODE_MESSAGES[Mode.IN_PERSON]
    assert all(c.room.kind.value == "men_video" for c in found.choices)


async def test_a_wheelchair_user_full_and_past_slots(sessions: Sessions, clock: FrozenClock) -> None:
    slots, _number, appointment_id = await placed_in_hall(
        sessions, clock, room="accessible", gender="male", name="خالد", special_care=["wheelchair"]
    )
    # Another request takes the later hall: full.
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor2")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol2")).id
    other = await waiting_request(sessions, clock, desk, 22, gender="male", name="سعد")
    await place(sessions, clock, protocol, other, slots["later"])
    found = await choices_of(sessions, clock, appointment_id)
    offered = {c.slot_id for c in found.choices}
    assert slots["later"] not in offered and found.refused[slots["later"]] == "That slot has no free seat."
    assert found.refused[slots["hall"]] == manual.SEAT_RULE_MESSAGES[SeatRule.ACCESSIBLE_HALL_NEEDED]
    assert offered == set()  # the accessible hall is its own, the later one full, the rest not for it
    # Once the hall's slot has begun it is refused as begun, not by its access.
    clock.advance(timedelta(hours=1, minutes=35))  # 11:05
    found = await choices_of(sessions, clock, appointment_id)
    async with sessions() as session:
        why = await week_grid.target_refusal(session=session, clock=clock, choices=found, slot_id=slots["hall"])
    assert why == "That slot has already begun; choose one still ahead."
