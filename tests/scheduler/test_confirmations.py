"""The confirmation timeline on both databases: asked once three days before in working hours, answered,
the freed seat offered to the next request, and the unanswered put on the call centre's list."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import RIYADH, FrozenClock, riyadh
from majlis.db import transaction
from notify.links import Links
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import Dispatcher, DispatchPolicy
from scheduler import confirmations
from scheduler.confirmations import ConfirmationPolicy, Via, ask_time, short_notice_time
from scheduler.models import Answer, Appointment, AppointmentState, Confirmation, Slot, UnavailableDay
from tests.conftest import TEST_SECRET, RecordingChannel
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS, URL, appointments, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]
POLICY = ConfirmationPolicy()
PHONES = ["+966501000001", "+966501000002", "+966501000003"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=RIYADH)


def test_asked_exactly_three_days_before_when_that_is_a_working_hour() -> None:
    # Sunday 29 November at 10:00 → Thursday 26 at 10:00.
    assert ask_time(at(29, 10), days=3, holidays=set()) == at(26, 10)


def test_asked_earlier_never_later_outside_working_hours() -> None:
    # Tuesday 1 December 09:00 → Saturday: the last working moment before is Thursday 15:30.
    assert ask_time(datetime(2026, 12, 1, 9, 0, tzinfo=RIYADH), days=3, holidays=set()) == at(26, 15, 30)
    # Sunday 29 at 07:30 → Thursday 07:30 is before opening: Wednesday 15:30.
    assert ask_time(at(29, 7, 30), days=3, holidays=set()) == at(25, 15, 30)
    # Sunday 29 at 17:00 → Thursday 17:00, after hours the same day: Thursday 15:30.
    assert ask_time(at(29, 17), days=3, holidays=set()) == at(26, 15, 30)
    # A holiday on the Thursday: Wednesday afternoon.
    assert ask_time(at(29, 10), days=3, holidays={date(2026, 11, 26)}) == at(25, 15, 30)
    for start in (at(29, 10), at(29, 7, 30), at(29, 17), datetime(2026, 12, 1, 9, tzinfo=RIYADH)):
        assert ask_time(start, days=3, holidays=set()) <= start - timedelta(days=3)


def test_short_notice_is_asked_now_in_hours_or_next_working_morning() -> None:
    audience = at(29, 10)
    assert short_notice_time(at(26, 11), audience, holidays=set()) == at(26, 11)
    # Thursday evening: the next working morning is Sunday 08:00, before the 10:00 audience.
    assert short_notice_time(at(26, 18), audience, holidays=set()) == at(29, 8)
    # Saturday night for a Sunday 07:30 audience: no working morning before it, so now.
    assert short_notice_time(at(28, 22), at(29, 7, 30), holidays=set()) == at(28, 22)


async def placed_case(sessions: Sessions, clock: FrozenClock, index: int = 0, **overrides: object) -> str:
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, f"auditor{index}")).id
    number = await new_case(
        sessions, clock, applicant_national_id=IDS[index], applicant_phone=PHONES[index], **overrides
    )
    await ready(sessions, clock, actor, number)
    return number


async def messages(sessions: Sessions, like: str) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose.like(like)).order_by(OutboxMessage.id)
            )
        )


async def ask(sessions: Sessions, clock: FrozenClock) -> int:
    async with transaction(sessions) as session:
        return await confirmations.ask_due(session=session, clock=clock, policy=POLICY)


async def answer(sessions: Sessions, clock: FrozenClock, appointment_id: int, given: Answer) -> confirmations.Outcome:
    async with transaction(sessions) as session:
        return await confirmations.answer(
            session=session,
            clock=clock,
            appointment_id=appointment_id,
            answer=given,
            via=Via.WHATSAPP,
            actor_id=None,
            status_url=URL,
            policy=POLICY,
        )


def dispatcher(sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        clock=clock,
        channels=recorder.channels(),
        links=Links(public_url="https://majlis.example", secret=TEST_SECRET),
        policy=DispatchPolicy(rate_per_second=10_000.0),
        organizer="majlis@majlis.example",
    )


async def test_the_confirmation_goes_out_once_three_days_before(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    appointment = (await appointments(sessions))[number]
    async with sessions() as session:
        slot = await session.get_one(Slot, appointment.slot_id)
    assert riyadh(slot.starts_at) == at(29, 10)
    # The scheduled notice by SMS and the invitation by e-mail went with the placement.
    assert [m.channel for m in await messages(sessions, f"scheduled:{appointment.id}")] == ["sms"]
    invites = await messages(sessions, f"invite:{appointment.id}")
    assert [(m.channel, m.payload["invitation"]["method"]) for m in invites] == [("email", "REQUEST")]

    assert await ask(sessions, clock) == 0  # Tuesday: too early
    clock.set(at(26, 9, 59))
    assert await ask(sessions, clock) == 0
    clock.set(at(26, 10))
    assert await ask(sessions, clock) == 1
    assert await ask(sessions, clock) == 0  # once
    asked = await messages(sessions, f"confirm:{appointment.id}:%")
    assert sorted(m.channel for m in asked) == ["email", "sms", "voice", "whatsapp"]
    assert all(m.due_at == clock.now() for m in asked)
    by_channel = {m.channel: m for m in asked}
    assert "{link}" in by_channel["sms"].body and number in by_channel["sms"].body
    assert by_channel["voice"].payload["gather"] is True
    assert by_channel["whatsapp"].payload["template"] == "confirmation_ar"
    # Privacy: no message carries what the applicant wrote.
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    assert all(case.text not in m.body and case.subject not in m.body for m in asked)

    recorder = RecordingChannel()
    sending = dispatcher(sessions, clock, recorder)
    report = await sending.run_once()
    assert report.failed == 0
    sent = [m for m in recorder.sent if m.purpose.startswith("confirm:")]
    assert sorted(m.channel for m in sent) == ["email", "sms", "voice", "whatsapp"]
    email = next(m for m in sent if m.channel == "email")
    assert "METHOD:REQUEST" in str(email.payload["ics"]) and "BEGIN:VTIMEZONE" in str(email.payload["ics"])
    await sending.run_once()
    assert len([m for m in recorder.sent if m.purpose.startswith("confirm:")]) == 4  # nothing twice


async def test_confirming_on_one_channel_silences_the_others(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=2)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    appointment = (await appointments(sessions))[number]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    outcome = await answer(sessions, clock, appointment.id, Answer.CONFIRMED)
    assert outcome.answer is Answer.CONFIRMED and not outcome.repeated
    assert (await answer(sessions, clock, appointment.id, Answer.CONFIRMED)).repeated
    async with sessions() as session:
        stored = await session.get_one(Appointment, appointment.id)
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        confirmation = await session.scalar(select(Confirmation))
    assert stored.state is AppointmentState.CONFIRMED
    assert case is not None and case.status is CaseStatus.CONFIRMED
    assert confirmation is not None and confirmation.answered_via == "whatsapp"
    statuses = {m.channel: m.status for m in await messages(sessions, f"confirm:{appointment.id}:%")}
    assert set(statuses.values()) == {MessageStatus.CANCELLED}  # not sent yet: withdrawn
    assert len(await messages(sessions, f"confirmed:{appointment.id}")) == 1


async def test_a_declined_seat_is_offered_to_the_next_request(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    first = await placed_case(sessions, clock, 0)
    await run(sessions, clock)
    held = (await appointments(sessions))[first]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    # Another request became ready after the weekly run: it waits, with no seat yet.
    second = await placed_case(sessions, clock, 1)
    async with sessions() as session:
        freed_slot = await session.get_one(Slot, held.slot_id)

    outcome = await answer(sessions, clock, held.id, Answer.RESCHEDULED)
    placed = await appointments(sessions)
    async with sessions() as session:
        first_case = await cases.find_by_tracking_number(session=session, tracking_number=first)
        second_case = await cases.find_by_tracking_number(session=session, tracking_number=second)
        assert first_case is not None and second_case is not None
        new_slot = await session.get_one(Slot, placed[first].slot_id)
        offered = await session.scalar(select(Confirmation).where(Confirmation.appointment_id == placed[second].id))
        unavailable = list(await session.scalars(select(UnavailableDay.day)))
    # The freed seat went to the waiting request at short notice, who is asked at once.
    assert outcome.backfilled_case_id == second_case.id
    assert placed[second].slot_id == freed_slot.id and placed[second].seat == held.seat
    assert "short notice" in placed[second].explanation
    assert offered is not None and offered.short_notice and offered.ask_at == clock.now()
    assert len(await messages(sessions, f"confirm:{placed[second].id}:%")) == 4
    # The one who asked for another date is placed again, not on the day that did not suit.
    assert outcome.replaced_appointment_id == placed[first].id
    assert riyadh(new_slot.starts_at).date() == date(2026, 12, 6)
    assert unavailable == [date(2026, 11, 29)]
    assert first_case.status is CaseStatus.SCHEDULED
    assert len(await messages(sessions, f"rescheduling:{held.id}")) == 1
    cancel = await messages(sessions, f"uninvite:{held.id}")
    assert [m.payload["invitation"]["method"] for m in cancel] == ["CANCEL"]
    # One UID for the request, the sequence rising with each change: 0 placed, 1 cancelled, 2 placed again;
    # the invitation sent again with the confirmation request kept 0.
    asked_email = (await messages(sessions, f"confirm:{held.id}:email"))[0]
    assert asked_email.payload["invitation"]["sequence"] == 0
    sequences = [
        m.payload["invitation"]["sequence"] for m in await messages(sessions, "%invite:%") if m.case_id == first_case.id
    ]
    assert sequences == [0, 1, 2]


async def test_a_cancelled_audience_leaves_the_request_in_writing(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=2)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    appointment = (await appointments(sessions))[number]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    outcome = await answer(sessions, clock, appointment.id, Answer.CANCELLED)
    assert outcome.backfilled_case_id is None  # nobody waiting
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        stored = await session.get_one(Appointment, appointment.id)
    assert case is not None and case.status is CaseStatus.REFERRED
    assert stored.state is AppointmentState.RELEASED and stored.release_reason == "applicant_cancelled"
    notices = await messages(sessions, "stage:referred:%")
    assert len(notices) == 1 and "أُحيل" in notices[0].body


async def test_unanswered_goes_to_the_call_centre(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=2)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    appointment = (await appointments(sessions))[number]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    async with sessions() as session:
        assert await confirmations.calls_due(session=session, clock=clock, policy=POLICY) == []
    clock.advance(POLICY.no_answer)
    async with sessions() as session:
        due = await confirmations.calls_due(session=session, clock=clock, policy=POLICY)
    assert [task.case.tracking_number for task in due] == [number]
    caller = (await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")).id
    async with transaction(sessions) as session:
        await confirmations.record_no_answer(
            session=session, clock=clock, confirmation_id=due[0].confirmation.id, actor_id=caller, note="لم يرد"
        )
    async with sessions() as session:
        again = await confirmations.calls_due(session=session, clock=clock, policy=POLICY)
    assert again[0].confirmation.call_attempts == 1 and again[0].confirmation.last_call_note == "لم يرد"
    async with transaction(sessions) as session:
        await confirmations.answer(
            session=session,
            clock=clock,
            appointment_id=appointment.id,
            answer=Answer.CONFIRMED,
            via=Via.CALL_CENTRE,
            actor_id=caller,
            status_url=URL,
            policy=POLICY,
        )
    async with sessions() as session:
        assert await confirmations.calls_due(session=session, clock=clock, policy=POLICY) == []


async def test_completion_and_referral_are_told(sessions: Sessions, clock: FrozenClock) -> None:
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    written = await new_case(sessions, clock, applicant_language="en")
    await add_department(sessions, "housing", name_en="Housing Department")
    await ready(sessions, clock, actor, written, route="written_referral", departments="housing")
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=written)
        assert case is not None
        await cases.complete(session=session, clock=clock, case=case, actor_id=actor, note="answered", status_url=URL)
    referred = await messages(sessions, "stage:referred:%")
    completed = await messages(sessions, "stage:completed:%")
    assert len(referred) == 1 and referred[0].body.startswith(f"Request {written} has been referred")
    assert len(completed) == 1 and completed[0].body.startswith(f"Request {written} is complete")


async def test_a_moment_missed_at_night_waits_for_the_next_working_morning(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await sunday_hall(sessions, clock, weeks=2)
    await placed_case(sessions, clock)
    await run(sessions, clock)
    # Nobody swept on Thursday (the server was down); it comes back at 20:00.
    clock.set(at(26, 20))
    assert await ask(sessions, clock) == 0
    clock.set(at(28, 12))  # Saturday
    assert await ask(sessions, clock) == 0
    clock.set(at(29, 8))  # Sunday morning, before the 10:00 audience
    assert await ask(sessions, clock) == 1


async def test_a_bare_reply_from_a_phone_with_two_audiences_changes_nothing(
    sessions: Sessions, clock: FrozenClock
) -> None:
    from scheduler import replies
    from scheduler.reply_texts import Understood

    await sunday_hall(sessions, clock, weeks=2)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    shared = "+966501000009"
    numbers = [await new_case(sessions, clock, applicant_national_id=IDS[i], applicant_phone=shared) for i in range(2)]
    for number in numbers:
        await ready(sessions, clock, actor, number)
    await run(sessions, clock)
    clock.set(at(26, 10, 30))
    assert await ask(sessions, clock) == 2
    async with transaction(sessions) as session:
        reply = await replies.whatsapp_reply(
            session=session,
            clock=clock,
            sender=shared,
            body="3",
            message_sid="SM" + "9" * 32,
            policy=POLICY,
            status_url=URL,
        )
    assert reply.understood_as is Understood.AMBIGUOUS and "أكثر من موعد" in reply.text
    assert set((await appointments(sessions)).keys()) == set(numbers)  # both still held
