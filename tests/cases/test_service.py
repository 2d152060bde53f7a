"""Submitting requests on both databases: one unit of work, race-free tracking numbers, idempotency."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases import identity_review, service
from cases.models import Applicant, ApplicantChange, Case, CaseStatus, Gender, StatusChange, SubmissionKey
from cases.tracking import parse_tracking_number
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from priority import service as triage
from tests.factories import details, make_staff

STATUS_URL = "https://majlis.example.sa/status"

Sessions = async_sessionmaker[AsyncSession]


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def submit(
    sessions: Sessions, clock: FrozenClock, key: str | None = None, **overrides: object
) -> service.Submission:
    async with transaction(sessions) as session:
        return await service.submit(
            session=session, clock=clock, details=details(**overrides), status_url=STATUS_URL, idempotency_key=key
        )


async def test_submit_saves_everything_in_one_unit(sessions: Sessions, clock: FrozenClock) -> None:
    submission = await submit(sessions, clock)
    case = submission.case
    assert submission.created
    assert parse_tracking_number(case.tracking_number) == case.tracking_number
    assert case.tracking_number.startswith("26-")
    assert case.status is CaseStatus.RECEIVED
    async with sessions() as session:
        steps = await service.history(session=session, case_id=case.id)
        messages = list(await session.scalars(select(OutboxMessage)))
    assert [(s.from_status, s.to_status) for s in steps] == [(None, CaseStatus.RECEIVED)]
    assert len(messages) == 1
    receipt = messages[0]
    assert receipt.channel == "sms" and receipt.recipient == "+966501234567"
    assert case.tracking_number in receipt.body and STATUS_URL in receipt.body
    # Privacy: the request's own words never travel in a message.
    assert "قضية أسرية" not in receipt.body
    assert receipt.due_at == clock.now()


async def test_a_failure_after_intake_leaves_nothing_half_saved(sessions: Sessions, clock: FrozenClock) -> None:
    async def intake_then_fail() -> None:
        async with transaction(sessions) as session:
            await service.submit(session=session, clock=clock, details=details(), status_url=STATUS_URL)
            raise RuntimeError("the connection dropped")

    with pytest.raises(RuntimeError):
        await intake_then_fail()
    for model in (Case, Applicant, StatusChange, OutboxMessage):
        assert await count(sessions, model) == 0


async def test_an_unverified_request_cannot_change_the_applicants_record(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submit(sessions, clock)
    second = await submit(
        sessions, clock, applicant_phone="0551234567", applicant_language="en", applicant_gender="male", subject="ثان"
    )
    assert await count(sessions, Applicant) == 1
    async with sessions() as session:
        applicant = await session.scalar(select(Applicant))
        earlier = await service.get_case(session=session, case_id=first.case.id)
        later = await service.get_case(session=session, case_id=second.case.id)
    assert applicant is not None and earlier is not None and later is not None
    # The record keeps what it had; each request keeps what was given with it.
    assert (applicant.phone, applicant.language.value, applicant.gender) == ("+966501234567", "ar", Gender.FEMALE)
    assert (earlier.language.value, earlier.gender) == ("ar", Gender.FEMALE)
    assert (later.phone, later.language.value, later.gender) == ("+966551234567", "en", Gender.MALE)
    # Verifying the later request proposes its details; only the desk's acceptance writes them on the record.
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=second.case.tracking_number, actor_id=actor)
    async with sessions() as session:
        applicant = await session.scalar(select(Applicant))
        change = await session.scalar(select(ApplicantChange))
    assert applicant is not None and applicant.phone == "+966501234567"
    assert change is not None and change.fields["phone"] == ["+966501234567", "+966551234567"]
    async with transaction(sessions) as session:
        verified = await service.get_case(session=session, case_id=second.case.id)
        assert verified is not None
        await identity_review.accept_change(
            session=session, clock=clock, case=verified, change_id=change.id, actor_id=actor
        )
    async with sessions() as session:
        applicant = await session.scalar(select(Applicant))
    assert applicant is not None and applicant.phone == "+966551234567"


async def test_tracking_numbers_follow_the_riyadh_year(sessions: Sessions, clock: FrozenClock) -> None:
    from datetime import datetime

    from majlis.clock import RIYADH

    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=RIYADH))
    last = await submit(sessions, clock)
    clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=RIYADH))  # still 2026 in UTC
    first = await submit(sessions, clock)
    assert last.case.tracking_number.startswith("26-000001-")
    assert first.case.tracking_number.startswith("27-000001-")


async def test_concurrent_intakes_get_distinct_consecutive_numbers(sessions: Sessions, clock: FrozenClock) -> None:
    n = 40
    results = await asyncio.gather(*(submit(sessions, clock, subject=f"s{i}") for i in range(n)))
    numbers = [r.case.tracking_number for r in results]
    assert len(set(numbers)) == n
    serials = sorted(int(number.split("-")[1]) for number in numbers)
    assert serials == list(range(1, n + 1))


async def test_a_retry_with_the_same_key_returns_the_first_case(sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(sessions, clock, key="key-1")
    again = await submit(sessions, clock, key="key-1")
    assert again.case.id == first.case.id and not again.created
    assert await count(sessions, Case) == 1
    assert await count(sessions, OutboxMessage) == 1


async def test_concurrent_retries_with_one_key_make_one_case(sessions: Sessions, clock: FrozenClock) -> None:
    results = await asyncio.gather(*(submit(sessions, clock, key="same") for _ in range(10)))
    assert len({r.case.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await count(sessions, Case) == 1
    assert await count(sessions, OutboxMessage) == 1
    assert await count(sessions, SubmissionKey) == 1


async def test_a_key_reused_for_another_request_is_refused(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock, key="key-1")
    with pytest.raises(service.IdempotencyKeyReused):
        await submit(sessions, clock, key="key-1", subject="مختلف")
    assert await count(sessions, Case) == 1


POLICY = service.LookupPolicy(max_misses=3, window=timedelta(minutes=15))


async def lookup(sessions: Sessions, clock: FrozenClock, number: str, phone: str, address: str = "10.0.0.1") -> bool:
    async with transaction(sessions) as session:
        found = await service.find_for_applicant(
            session=session, clock=clock, tracking_number=number, phone=phone, address=address, policy=POLICY
        )
        return found is not None


async def test_status_lookup_needs_the_matching_phone(sessions: Sessions, clock: FrozenClock) -> None:
    case = (await submit(sessions, clock)).case
    assert await lookup(sessions, clock, case.tracking_number, "0501234567")
    assert not await lookup(sessions, clock, case.tracking_number, "0551234567")
    assert not await lookup(sessions, clock, "26-000001-0", "0501234567")


async def test_guessing_tracking_numbers_is_throttled(sessions: Sessions, clock: FrozenClock) -> None:
    case = (await submit(sessions, clock)).case
    results = await asyncio.gather(
        *(lookup(sessions, clock, f"26-00000{n}-0", "0501234567") for n in range(2, 6)), return_exceptions=True
    )
    # Three misses are allowed in the window; the fourth (even in parallel) is refused.
    assert sum(isinstance(r, service.TooManyLookups) for r in results) == 1
    with pytest.raises(service.TooManyLookups):
        await lookup(sessions, clock, case.tracking_number, "0501234567")
    assert await lookup(sessions, clock, case.tracking_number, "0501234567", address="10.0.0.2")
    clock.advance(timedelta(minutes=16))
    assert await lookup(sessions, clock, case.tracking_number, "0501234567")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_status_guesses_from_one_ipv6_64_count_together(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    for n in range(3):
        assert not await lookup(sessions, clock, f"26-00000{n + 2}-0", "0501234567", address=f"2001:db8:5::{n + 1}")
    with pytest.raises(service.TooManyLookups):
        await lookup(sessions, clock, "26-000009-0", "0501234567", address="2001:db8:5::ff")


async def test_desk_intake_and_status_changes_are_audited(sessions: Sessions, clock: FrozenClock) -> None:
    clerk = await make_staff(sessions, clock, Role.INTAKE_DESK)
    async with transaction(sessions) as session:
        submission = await service.submit(
            session=session,
            clock=clock,
            details=details(channel="walk_in"),
            status_url=STATUS_URL,
            entered_by_id=clerk.id,
        )
        await service.change_status(
            session=session,
            clock=clock,
            case=submission.case,
            to_status=CaseStatus.NEEDS_INFORMATION,
            actor_id=clerk.id,
            note="صورة الهوية غير واضحة",
        )
    async with sessions() as session:
        actions = [e.action for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        steps = await service.history(session=session, case_id=submission.case.id)
    assert actions == ["staff.create", "case.intake", "case.status"]
    assert [(s.to_status, s.actor_id, s.note) for s in steps][-1] == (
        CaseStatus.NEEDS_INFORMATION,
        clerk.id,
        "صورة الهوية غير واضحة",
    )
