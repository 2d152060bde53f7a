"""The rarer sources of placements in the chain, on both databases: a seat chosen by hand that passes an
older request (justified by the hand's reason), the official's directive, the backfill of a declined
seat, a WhatsApp repeat cancelled by rule and its undoing by hand, and the demo's data (every
appointment chained, no pass unjustified)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from fairness import chain, explain
from fairness.models import ChainEntry, EntryKind
from majlis import demo
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler import by_hand as manual
from scheduler.models import Answer, Appointment
from tests.factories import make_staff
from tests.fairness.test_explain import older_and_newer
from tests.fairness.test_record import case_id, one_seat_sundays
from tests.scheduler.test_confirmations import answer, ask, at, placed_case
from tests.scheduler.test_runs import URL, appointments, run, sunday_hall
from tests.whatsapp_desk.test_repeats import REPEATED_TEXT, submitted, undo, whatsapp_request

Sessions = async_sessionmaker[AsyncSession]


async def by_hand(
    sessions: Sessions, clock: FrozenClock, actor: int, number: str, slot_id: int, *, directive: bool = False
) -> None:
    async with transaction(sessions) as session:
        await manual.place_by_hand(
            session=session,
            clock=clock,
            tracking_number=number,
            by_hand=manual.ByHand(
                to_slot_id=slot_id,
                actor_id=actor,
                change_reason=None if directive else "health_or_safety",
                change_text="توجيه المسؤول" if directive else "حالة صحية حرجة",
                status_url=URL,
                directive=directive,
            ),
        )


async def test_a_seat_chosen_by_hand_passes_with_its_reason_and_the_directive_is_named(
    sessions: Sessions, clock: FrozenClock
) -> None:
    slots = await one_seat_sundays(sessions, clock, weeks=2)
    _, older, newer = await older_and_newer(sessions, clock)
    protocol = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    await by_hand(sessions, clock, protocol, newer, slots[0].id)
    await by_hand(sessions, clock, protocol, older, slots[1].id, directive=True)
    # Read first: on SQLite every session holds the write lock once it begins.
    newer_id, older_id = await case_id(sessions, newer), await case_id(sessions, older)
    async with sessions() as session:
        [jumped] = await explain.placement_explanations(session=session, case_id=newer_id)
        [directed] = await explain.placement_explanations(session=session, case_id=older_id)
        assert await explain.unjustified(session=session) == []
    assert jumped.rule == "by_hand" and jumped.actor_id == protocol and jumped.justification == "حالة صحية حرجة"
    assert jumped.rank is None and jumped.total is None
    [passed] = jumped.passed
    assert passed.tracking_number == older and passed.justification is not None
    assert (passed.justification.by, passed.justification.reason) == ("by_hand", "health_or_safety")
    assert directed.rule == "directive" and directed.justification == "توجيه المسؤول" and directed.passed == ()


async def test_a_declined_seat_backfilled_is_in_the_chain(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    first = await placed_case(sessions, clock, 0)
    await run(sessions, clock)
    held = (await appointments(sessions))[first]
    clock.set(at(26, 10))
    await ask(sessions, clock)
    second = await placed_case(sessions, clock, 1)
    outcome = await answer(sessions, clock, held.id, Answer.RESCHEDULED)
    assert outcome.backfilled_case_id == await case_id(sessions, second)
    async with sessions() as session:
        [offered] = await explain.placement_explanations(session=session, case_id=outcome.backfilled_case_id)
    assert offered.rule == "backfill" and offered.actor_id is None
    assert offered.seat.slot_id == held.slot_id and "short notice" in offered.explanation


async def test_the_demo_placements_are_all_in_the_chain_and_justified(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        loaded = await demo.load(session=session, clock=clock, status_url=URL)
    clock.advance(timedelta(minutes=1))
    async with sessions() as session:
        chained = list(await session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
        appointment_ids = set(await session.scalars(select(Appointment.id)))
        assert await explain.unjustified(session=session) == []
        # The demo's pass (majlis/demo_fairness.py): moved up on a court date, ahead of the older request.
        assert loaded.fairness is not None
        placed = await cases.find_by_tracking_number(session=session, tracking_number=loaded.fairness.placed)
        assert placed is not None
        [explained] = await explain.placement_explanations(session=session, case_id=placed.id)
    [passed] = explained.passed
    assert passed.tracking_number == loaded.fairness.passed and passed.justification is not None
    assert (passed.justification.by, passed.justification.field, passed.justification.reason) == (
        "raised",
        "queue_position",
        "legal_deadline",
    )
    # Run again, the demo adds no entry.
    async with transaction(sessions) as session:
        again = await demo.load(session=session, clock=clock, status_url=URL)
    async with sessions() as session:
        assert len(list(await session.scalars(select(ChainEntry.seq)))) == len(chained)
    assert again.fairness == loaded.fairness
    placing = {chain.change_of(e)["appointment_id"] for e in chained if e.kind in (EntryKind.PLACEMENT, EntryKind.MOVE)}
    assert appointment_ids and appointment_ids <= placing
    assert all(e.hash == chain.hash_of(e) for e in chained)


async def test_a_whatsapp_repeat_cancelled_by_rule_and_undone_by_hand_are_overrides(
    sessions: Sessions, clock: FrozenClock
) -> None:
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    first = await submitted(sessions, clock)
    repeat, earlier = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    assert earlier == first
    await undo(sessions, clock, repeat, auditor, "مسألة أخرى غير الأولى")
    repeat_id = await case_id(sessions, repeat)
    async with sessions() as session:
        overrides = [e for e in await chain.entries_for_case(session=session, case_id=repeat_id)]
    by_rule, by_hand = overrides
    assert by_rule.kind is by_hand.kind is EntryKind.OVERRIDE
    assert by_rule.actor_id is None and by_rule.justification.startswith(first)
    assert chain.change_of(by_rule) | {"manual_change_id": 0} == {
        "tracking_number": repeat,
        "manual_change_id": 0,
        "field": "duplicate",
        "before": "received",
        "after": "duplicate",
        "reason": "repeated_request",
    }
    assert by_hand.actor_id == auditor and by_hand.justification == "مسألة أخرى غير الأولى"
    assert (chain.change_of(by_hand)["reason"], chain.change_of(by_hand)["after"]) == ("corrected_error", "received")
