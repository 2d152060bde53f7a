"""Arrival at the reception centre on SQLite and PostgreSQL: queue numbers, the late rule, refusals that change
nothing, the kiosk's and the desk's searches, and the signed arrival code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audience_day import arrival, hall
from audience_day.arrival import ArrivalRefused
from audience_day.models import Arrival, ArrivalVia
from majlis.clock import FrozenClock
from notify.links import Links
from scheduler.models import AppointmentState
from tests.audience_day.arrange import at, booked_day, cancel, check_in, count, phone, refusal, states
from tests.conftest import TEST_SECRET
from tests.scheduler.test_changes import national_id

Sessions = async_sessionmaker[AsyncSession]


async def test_a_check_in_is_taken_once_on_its_day_at_its_branch(sessions: Sessions, clock: FrozenClock) -> None:
    first, second, released, absent = await booked_day(sessions, clock, 4)
    clock.set(at(26, 10))
    await cancel(sessions, clock, released.appointment_id)
    # The day before: not today.
    clock.set(at(28, 10))
    assert await refusal(sessions, clock, first.appointment_id) == "wrong_day"
    clock.set(at(29, 9, 45))
    assert await refusal(sessions, clock, first.appointment_id, branch="jeddah") == "wrong_branch"
    assert await refusal(sessions, clock, released.appointment_id) == "not_live"
    assert await count(sessions, Arrival) == 0
    assert await states(sessions, [first.appointment_id]) == [AppointmentState.SCHEDULED]

    taken = await check_in(sessions, clock, first.appointment_id, via=ArrivalVia.DESK)
    assert (taken.queue_number, taken.late, taken.via, taken.arrived_at) == (1, False, ArrivalVia.DESK, clock.now())
    assert (taken.session_id, taken.case_id) == (first.session_id, first.case_id)
    assert await states(sessions, [first.appointment_id]) == [AppointmentState.ARRIVED]
    # Twice: a clear message naming the first arrival, and nothing changes.
    clock.advance(timedelta(minutes=3))
    with pytest.raises(ArrivalRefused) as twice:
        await check_in(sessions, clock, first.appointment_id)
    assert twice.value.code == "already_arrived"
    assert twice.value.params == {"time": "09:45", "number": "1"}
    assert await count(sessions, Arrival) == 1
    async with sessions() as session:
        kept = await arrival.arrival_of(session=session, appointment_id=first.appointment_id)
    assert kept is not None and (kept.queue_number, kept.arrived_at, kept.via) == (1, at(29, 9, 45), ArrivalVia.DESK)

    # A video room's staff give no branch: the room decides.
    assert (await check_in(sessions, clock, second.appointment_id, branch=None)).queue_number == 2
    # After the session nobody is checked in; the sweep decides.
    clock.set(at(29, 12))
    assert await refusal(sessions, clock, released.appointment_id) == "not_live"
    assert await refusal(sessions, clock, absent.appointment_id) == "session_over"
    assert await count(sessions, Arrival) == 2
    assert await states(sessions, [absent.appointment_id]) == [AppointmentState.SCHEDULED]


async def test_late_arrivals_are_heard_after_those_on_time(sessions: Sessions, clock: FrozenClock) -> None:
    # Slots at 10:00, 10:08 and 10:16; the grace is 15 minutes after a slot's start.
    ten, eight_past, sixteen_past = await booked_day(sessions, clock, 3)
    clock.set(at(29, 9, 50))
    c = await check_in(sessions, clock, sixteen_past.appointment_id)
    clock.set(at(29, 10, 15) + timedelta(seconds=1))
    a = await check_in(sessions, clock, ten.appointment_id)
    # Exactly at the end of the grace is still on time.
    clock.set(at(29, 10, 23))
    b = await check_in(sessions, clock, eight_past.appointment_id)
    assert [(x.queue_number, x.late) for x in (c, a, b)] == [(1, False), (2, True), (3, False)]
    async with sessions() as session:
        line = await hall.order_of_day(session=session, session_id=ten.session_id)
        screen = await hall.now_serving(session=session, session_id=ten.session_id)
    assert [i.appointment.id for i in line] == [
        eight_past.appointment_id,
        sixteen_past.appointment_id,
        ten.appointment_id,
    ]
    assert all(i.waiting for i in line)
    assert (screen.serving, screen.waiting) == (None, [3, 1, 2])


async def test_late_arrivals_among_themselves_are_heard_in_the_order_they_came(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first, second, third = await booked_day(sessions, clock, 3)
    clock.set(at(29, 10, 50))
    for booked in (second, third, first):
        await check_in(sessions, clock, booked.appointment_id)
        clock.advance(timedelta(minutes=1))
    async with sessions() as session:
        line = await hall.order_of_day(session=session, session_id=first.session_id)
    assert [i.appointment.id for i in line] == [second.appointment_id, third.appointment_id, first.appointment_id]
    assert all(i.arrival.late for i in line)


async def test_the_kiosk_finds_the_appointment_by_tracking_number_and_phone(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await booked_day(sessions, clock, 2)
    last4 = phone(0)[-4:]
    arabic = last4.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    clock.set(at(28, 10))
    async with sessions() as session:
        # Not today: nothing to find.
        assert (
            await arrival.find_by_tracking_and_phone(
                session=session, clock=clock, tracking_number=first.tracking_number, phone_last4=last4
            )
            is None
        )
    clock.set(at(29, 9, 40))
    async with sessions() as session:
        for digits in (last4, arabic, f" {last4} "):
            found = await arrival.find_by_tracking_and_phone(
                session=session, clock=clock, tracking_number=first.tracking_number, phone_last4=digits
            )
            assert found == first.appointment_id, digits
        # Another applicant's phone: nothing, and nothing said about whose number it is.
        assert (
            await arrival.find_by_tracking_and_phone(
                session=session, clock=clock, tracking_number=first.tracking_number, phone_last4=phone(1)[-4:]
            )
            is None
        )
        assert (
            await arrival.find_by_tracking_and_phone(
                session=session, clock=clock, tracking_number="X-0000", phone_last4=last4
            )
            is None
        )
        for bad in ("12", "12345", "12a4", ""):
            with pytest.raises(ArrivalRefused) as refused:
                await arrival.find_by_tracking_and_phone(
                    session=session, clock=clock, tracking_number=first.tracking_number, phone_last4=bad
                )
            assert refused.value.code == "bad_phone_digits"

    await check_in(sessions, clock, second.appointment_id)
    async with sessions() as session:
        everyone = await arrival.expected_today(session=session, clock=clock, branch_code="riyadh")
        by_id = await arrival.expected_today(session=session, clock=clock, branch_code="riyadh", query=national_id(1))
        by_number = await arrival.expected_today(
            session=session, clock=clock, branch_code="riyadh", query=first.tracking_number.lower()
        )
        by_phone = await arrival.expected_today(session=session, clock=clock, branch_code="riyadh", query=arabic)
        elsewhere = await arrival.expected_today(session=session, clock=clock, branch_code="jeddah")
        # The whole number typed the local way, and its last four digits with their leading zero.
        local = "0" + phone(0).removeprefix("+966")
        by_local = await arrival.expected_today(session=session, clock=clock, branch_code="riyadh", query=local)
        by_last4 = await arrival.expected_today(session=session, clock=clock, branch_code="riyadh", query=phone(0)[-4:])
    assert [e.appointment.id for e in by_local] == [first.appointment_id]
    assert [e.appointment.id for e in by_last4] == [first.appointment_id]
    assert [e.appointment.id for e in everyone] == [first.appointment_id, second.appointment_id]
    assert [e.arrival is not None for e in everyone] == [False, True]
    assert [e.appointment.id for e in by_id] == [second.appointment_id]
    assert [e.appointment.id for e in by_number] == [first.appointment_id]
    assert [e.appointment.id for e in by_phone] == [first.appointment_id]
    assert elsewhere == []


def test_the_arrival_code_round_trips_and_refuses_altered_digits() -> None:
    links = Links(public_url="https://majlis.example", secret=TEST_SECRET)
    code = links.arrival_code(4213)
    number, _, mac = code.partition("-")
    assert number == "4213" and len(mac) == 8 and mac.isdigit()
    assert links.check_arrival_code(code) == 4213
    assert links.check_arrival_code(f"  {code[:4]} {code[4:]} ") == 4213
    assert links.check_arrival_code(code.replace("-", "")) == 4213
    # Typed on an Arabic keypad: Arabic-Indic and Eastern Arabic-Indic digits.
    assert links.check_arrival_code(code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))) == 4213
    assert links.check_arrival_code(code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))) == 4213
    # Any digit altered, in the number or the signature, is refused.
    for position, digit in enumerate(code):
        if digit == "-":
            continue
        altered = code[:position] + str((int(digit) + 1) % 10) + code[position + 1 :]
        assert links.check_arrival_code(altered) is None, altered
    # Another appointment's signature, another secret's code, and garbage.
    assert links.check_arrival_code(f"4214-{mac}") is None
    other = Links(public_url="https://majlis.example", secret=TEST_SECRET + "x")
    assert other.check_arrival_code(code) is None
    for garbage in (
        "",
        "-",
        "4213",
        f"4213-{mac}0",
        f"4213-{mac[:-1]}",
        "abc-12345678",
        f"-{mac}",
        "1" * 13 + "-" + mac,
    ):
        assert links.check_arrival_code(garbage) is None, garbage
    assert links.arrival_code(4213) == code
    assert links.arrival_code(4214) != code
