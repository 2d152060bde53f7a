"""Every placement, move, displacement, score change, override and merge is in the fairness chain, on both
databases: each source writes its entry with the right kind and change, and after a whole scenario every
appointment, manual change and merge row has its entry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from fairness import chain
from fairness.models import ChainEntry, EntryKind
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import duplicates
from priority import service as triage
from priority.models import DuplicateMerge, ManualChange
from scheduler import by_hand as manual
from scheduler import calendar, urgent
from scheduler.models import Appointment, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_runs import IDS, URL, appointments, run

Sessions = async_sessionmaker[AsyncSession]


async def one_seat_sundays(sessions: Sessions, clock: FrozenClock, weeks: int) -> list[Slot]:
    """One slot of one seat each Sunday: room for exactly `weeks` audiences."""
    hall = await add_room(sessions, clock, name="قاعة صغيرة", kind="audience_hall")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends="10:10", slot_minutes="10"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=weeks)
    async with sessions() as session:
        return list(await session.scalars(select(Slot).order_by(Slot.starts_at)))


async def entries(sessions: Sessions) -> list[ChainEntry]:
    async with sessions() as session:
        return list(await session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))


async def case_id(sessions: Sessions, number: str) -> int:
    async with sessions() as session:
        found = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert found is not None
    return found.id


async def test_a_whole_scenario_leaves_every_row_in_the_chain(sessions: Sessions, clock: FrozenClock) -> None:
    slots = await one_seat_sundays(sessions, clock, weeks=3)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    older = await new_case(sessions, clock, applicant_national_id=IDS[0])
    clock.advance(timedelta(hours=1))
    raised = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, desk, older)
    await ready(sessions, clock, desk, raised)
    async with transaction(sessions) as session:
        # An urgency override (above what the category implies) and a move up the queue.
        await triage.classify(
            session=session,
            clock=clock,
            tracking_number=raised,
            actor_id=desk,
            category="general",
            urgency="urgent",
            change_reason="new_information",
            change_text="تقرير طبي موثق",
        )
        await triage.move_up(
            session=session,
            clock=clock,
            tracking_number=older,
            actor_id=desk,
            points=5,
            change_reason="legal_deadline",
            change_text="مهلة نظامية",
        )
    assert (await run(sessions, clock)).placed == 2
    placed = await appointments(sessions)
    assert placed[raised].slot_id == slots[0].id  # urgent before normal
    # The older request moved by hand to the third Sunday; a new one placed by hand in the seat it left.
    await changes_move(sessions, clock, protocol, placed[older].id, slots[2].id)
    by_hand = await new_case(sessions, clock, applicant_national_id=IDS[2])
    await ready(sessions, clock, desk, by_hand)
    async with transaction(sessions) as session:
        await manual.place_by_hand(
            session=session,
            clock=clock,
            tracking_number=by_hand,
            by_hand=manual.ByHand(
                to_slot_id=slots[1].id,
                actor_id=protocol,
                change_reason="health_or_safety",
                change_text="حالة صحية",
                status_url=URL,
            ),
        )
    # A critical arrival with every seat taken displaces the lowest-priority unconfirmed appointment.
    critical = await new_case(sessions, clock, applicant_national_id=IDS[3])
    await ready(sessions, clock, desk, critical, category="qisas", urgency="critical")
    critical_id = await case_id(sessions, critical)
    async with transaction(sessions) as session:
        assert await urgent.place_urgent_arrival(
            session=session,
            clock=clock,
            case_id=critical_id,
            actor_id=desk,
            may_displace=True,
            status_url=URL,
        )
    # A repeat of the critical request, merged into it.
    repeat = await new_case(sessions, clock, applicant_national_id=IDS[3])
    async with transaction(sessions) as session:
        await duplicates.merge(
            session=session,
            clock=clock,
            duplicate_number=repeat,
            original_number=critical,
            actor_id=desk,
            status_url=URL,
        )

    chained = await entries(sessions)
    # One line: 1, 2, 3 … each carrying the hash of the one before, each hash its own.
    assert [e.seq for e in chained] == list(range(1, len(chained) + 1))
    assert all(e.hash == chain.hash_of(e) for e in chained)
    assert all(e.prev_hash == (chained[i - 1].hash if i else chain.GENESIS) for i, e in enumerate(chained))
    by_kind: dict[EntryKind, list[dict[str, object]]] = {}
    for entry in chained:
        by_kind.setdefault(entry.kind, []).append(chain.change_of(entry))
    async with sessions() as session:
        appointment_ids = set(await session.scalars(select(Appointment.id)))
        manual_ids = set(await session.scalars(select(ManualChange.id)))
        merged = set(await session.scalars(select(DuplicateMerge.duplicate_case_id)))
    placing = {c["appointment_id"] for c in by_kind[EntryKind.PLACEMENT] + by_kind[EntryKind.MOVE]}
    assert appointment_ids and appointment_ids == placing
    assert manual_ids and manual_ids == {c["manual_change_id"] for c in by_kind[EntryKind.OVERRIDE]}
    assert merged == {e.case_id for e in chained if e.kind is EntryKind.MERGE} == {await case_id(sessions, repeat)}

    rules = {c["rule"] for c in by_kind[EntryKind.PLACEMENT]}
    assert {"allocation_run", "by_hand", "displacement_refill"} <= rules
    assert [c["rule"] for c in by_kind[EntryKind.MOVE]] == ["by_hand"]
    [displaced] = [e for e in chained if e.kind is EntryKind.DISPLACEMENT]
    assert critical in displaced.justification and "critical rule" in displaced.justification
    assert chain.change_of(displaced)["for_tracking_number"] == critical
    whats = [c["what"] for c in by_kind[EntryKind.SCORE]]
    assert whats.count("move_up") == 1 and "classify" in whats and "route" in whats
    override = next(e for e in chained if e.kind is EntryKind.OVERRIDE and chain.change_of(e)["field"] == "urgency")
    assert override.justification == "تقرير طبي موثق" and override.actor_id == desk
    assert chain.change_of(override) | {"manual_change_id": 0} == {
        "tracking_number": raised,
        "manual_change_id": 0,
        "field": "urgency",
        "before": "normal",
        "after": "urgent",
        "reason": "new_information",
    }


async def changes_move(sessions: Sessions, clock: FrozenClock, actor: int, appointment_id: int, slot_id: int) -> None:
    by_hand = manual.ByHand(
        to_slot_id=slot_id, actor_id=actor, change_reason="new_information", change_text="طلب المستفيد", status_url=URL
    )
    async with transaction(sessions) as session:
        await manual.move_appointment(session=session, clock=clock, appointment_id=appointment_id, by_hand=by_hand)


async def test_a_run_placement_explains_itself(sessions: Sessions, clock: FrozenClock) -> None:
    slots = await one_seat_sundays(sessions, clock, weeks=2)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    first = await new_case(sessions, clock, applicant_national_id=IDS[0])
    second = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, desk, first)
    await ready(sessions, clock, desk, second)
    await run(sessions, clock)
    placements = [chain.change_of(e) for e in await entries(sessions) if e.kind is EntryKind.PLACEMENT]
    assert [p["tracking_number"] for p in placements] == [first, second]
    head, follower = placements
    assert head["rule"] == "allocation_run" and head["rank"] == 1 and head["total"] == 2
    assert head["score"] == head["base_score"] and head["urgency"] == "normal" and head["category"] == "general"
    assert head["seat"] == {
        "slot_id": slots[0].id,
        "seat": 0,
        "starts_at": slots[0].starts_at.isoformat(timespec="seconds"),
        "room_id": slots[0].room_id,
        "room": "قاعة صغيرة",
        "branch": "riyadh",
        "mode": "in_person",
        "women_section": False,
        "accessible": True,
    }
    assert head["ahead"] == 0 and head["before"] == [] and head["passed"] == [] and head["unjustified"] is False
    assert follower["ahead"] == 1 and follower["before"] == [{"tracking_number": first, "score": head["score"]}]
    # No name, national ID or phone anywhere in the chain.
    text = " ".join(e.change for e in await entries(sessions))
    assert IDS[0] not in text and IDS[1] not in text
