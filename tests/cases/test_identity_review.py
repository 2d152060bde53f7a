"""Names flagged on intake and reviewed changes to the applicant's record, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases import identity_review
from cases import service as cases
from cases.models import Applicant, ApplicantChange, Case, Gender, IdentityFlag, Language
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from priority import service as triage
from tests.factories import details, make_staff

URL = "https://majlis.example.sa/status"
Sessions = async_sessionmaker[AsyncSession]

# Someone typing Noura's ID number (the factories' applicant) with his own details.
OTHER_PERSON = {
    "applicant_name": "خالد سعد الشهري",
    "applicant_gender": "male",
    "applicant_phone": "+966551112223",
    "applicant_language": "en",
    "applicant_special_care": ["wheelchair"],
}


async def submit(sessions: Sessions, clock: FrozenClock, **overrides: object) -> Case:
    async with transaction(sessions) as session:
        return (await cases.submit(session=session, clock=clock, details=details(**overrides), status_url=URL)).case


async def verify(sessions: Sessions, clock: FrozenClock, case: Case, actor: int) -> None:
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=case.tracking_number, actor_id=actor)


async def rows(sessions: Sessions, model: type) -> list:  # type: ignore[type-arg]
    async with sessions() as session:
        return list(await session.scalars(select(model).execution_options(populate_existing=True)))


async def applicant(sessions: Sessions) -> Applicant:
    (found,) = await rows(sessions, Applicant)
    assert isinstance(found, Applicant)
    return found


async def decide(sessions: Sessions, clock: FrozenClock, case: Case, change_id: int, actor: int, accept: bool) -> None:
    async with transaction(sessions) as session:
        decision = identity_review.accept_change if accept else identity_review.decline_change
        await decision(session=session, clock=clock, case=case, change_id=change_id, actor_id=actor)


async def test_a_name_not_on_record_for_the_id_is_flagged_on_intake(sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(sessions, clock)
    # The same person again, spelt another way and by WhatsApp: not flagged.
    await submit(sessions, clock, applicant_name="نوره عبد الله", channel="whatsapp", subject="ثان")
    assert await rows(sessions, IdentityFlag) == []
    clock.advance(timedelta(minutes=5))
    other = await submit(sessions, clock, channel="whatsapp", **OTHER_PERSON)
    (flag,) = await rows(sessions, IdentityFlag)
    assert (flag.case_id, flag.given_name, flag.known_name) == (other.id, "خالد سعد الشهري", "نورة عبدالله")
    assert flag.applicant_id == first.applicant_id and flag.similarity == 0.0
    assert flag.flagged_at == clock.now() and flag.reviewed_at is None


async def test_the_first_request_of_an_id_is_never_flagged(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock, **OTHER_PERSON)
    await submit(sessions, clock, applicant_national_id="1000000016", applicant_name="Sara Ahmed")
    assert await rows(sessions, IdentityFlag) == []


async def test_verifying_proposes_the_differences_and_leaves_the_record(sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(sessions, clock)
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, first, actor)  # its request made the record: nothing to propose
    assert await rows(sessions, ApplicantChange) == []
    clock.advance(timedelta(hours=1))
    await verify(sessions, clock, other, actor)
    record = await applicant(sessions)
    assert (record.name, record.phone, record.gender, record.care_wheelchair) == (
        "نورة عبدالله",
        "+966501234567",
        Gender.FEMALE,
        False,
    )
    (change,) = await rows(sessions, ApplicantChange)
    assert change.case_id == other.id and change.proposed_by_id == actor and change.proposed_at == clock.now()
    assert change.fields == {
        "name": ["نورة عبدالله", "خالد سعد الشهري"],
        "phone": ["+966501234567", "+966551112223"],
        "gender": ["female", "male"],
        "language": ["ar", "en"],
        "care_wheelchair": [False, True],
        # The factories' applicant gave an e-mail address; this request gave the same one.
    }
    assert change.decided_at is None and change.accepted is None
    # Verifying again proposes nothing more while this one waits.
    await verify(sessions, clock, other, actor)
    assert len(await rows(sessions, ApplicantChange)) == 1


async def test_nothing_is_proposed_when_nothing_differs(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    again = await submit(sessions, clock, subject="ثان")
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, again, actor)
    assert await rows(sessions, ApplicantChange) == []


async def test_accepting_writes_the_record_and_the_audit_log(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, other, actor)
    (change,) = await rows(sessions, ApplicantChange)
    clock.advance(timedelta(hours=2))
    await decide(sessions, clock, other, change.id, actor, accept=True)
    record = await applicant(sessions)
    assert (record.name, record.phone, record.gender, record.language) == (
        "خالد سعد الشهري",
        "+966551112223",
        Gender.MALE,
        Language.EN,
    )
    assert record.care_wheelchair and record.updated_at == clock.now()
    (decided,) = await rows(sessions, ApplicantChange)
    assert (decided.accepted, decided.decided_by_id, decided.decided_at) == (True, actor, clock.now())
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "applicant.change_accepted"))
    assert entry is not None and entry.actor_id == actor and entry.target_id == str(record.id)
    assert entry.details["fields"]["name"] == ["نورة عبدالله", "خالد سعد الشهري"]
    with pytest.raises(identity_review.ApplicantChangeDecided):
        await decide(sessions, clock, other, change.id, actor, accept=False)


async def test_declining_keeps_the_record_and_is_not_proposed_again(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, other, actor)
    (change,) = await rows(sessions, ApplicantChange)
    await decide(sessions, clock, other, change.id, actor, accept=False)
    record = await applicant(sessions)
    assert record.name == "نورة عبدالله" and record.phone == "+966501234567"
    (declined,) = await rows(sessions, ApplicantChange)
    assert (declined.accepted, declined.decided_by_id) == (False, actor)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(AuditEntry.action == "applicant.change_declined")) == 1
    await verify(sessions, clock, other, actor)
    assert len(await rows(sessions, ApplicantChange)) == 1
    with pytest.raises(identity_review.ApplicantChangeDecided):
        await decide(sessions, clock, other, change.id, actor, accept=True)


async def test_a_proposal_older_than_the_record_is_refused(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    phone_only = await submit(sessions, clock, applicant_phone="+966509998887", subject="ثان")
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, phone_only, actor)
    await verify(sessions, clock, other, actor)
    first_change, stale = await rows(sessions, ApplicantChange)
    clock.advance(timedelta(minutes=10))
    await decide(sessions, clock, phone_only, first_change.id, actor, accept=True)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(identity_review.ApplicantChangeOutOfDate):
        await decide(sessions, clock, other, stale.id, actor, accept=True)
    record = await applicant(sessions)
    assert record.name == "نورة عبدالله" and record.phone == "+966509998887"
    # Declined, then verified again: proposed afresh against the record as it is now.
    await decide(sessions, clock, other, stale.id, actor, accept=False)
    await verify(sessions, clock, other, actor)
    latest = (await rows(sessions, ApplicantChange))[-1]
    assert latest.id not in (first_change.id, stale.id)
    assert latest.fields["phone"] == ["+966509998887", "+966551112223"]


async def test_a_change_of_another_request_is_not_found(sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(sessions, clock)
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, other, actor)
    (change,) = await rows(sessions, ApplicantChange)
    with pytest.raises(identity_review.ApplicantChangeNotFound):
        await decide(sessions, clock, first, change.id, actor, accept=True)


async def test_the_desk_settles_a_flag_with_a_note(sessions: Sessions, clock: FrozenClock) -> None:
    first = await submit(sessions, clock)
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    async with transaction(sessions) as session:
        assert [r.case.id for r in await identity_review.open_reviews(session=session)] == [other.id]
    for note, code in (("  ", "missing"), ("x" * 501, "too_long")):
        with pytest.raises(InvalidInput) as refused:
            async with transaction(sessions) as session:
                await identity_review.review_flag(session=session, clock=clock, case=other, actor_id=actor, note=note)
        assert [(e.field, e.code) for e in refused.value.errors] == [("note", code)]
    with pytest.raises(identity_review.IdentityFlagNotFound):
        async with transaction(sessions) as session:
            await identity_review.review_flag(session=session, clock=clock, case=first, actor_id=actor, note="ok")
    async with transaction(sessions) as session:
        await identity_review.review_flag(
            session=session, clock=clock, case=other, actor_id=actor, note="رقم هوية شخص آخر؛ تواصلنا معه."
        )
    (flag,) = await rows(sessions, IdentityFlag)
    assert (flag.reviewed_by_id, flag.reviewed_at, flag.review_note) == (
        actor,
        clock.now(),
        "رقم هوية شخص آخر؛ تواصلنا معه.",
    )
    with pytest.raises(identity_review.IdentityFlagAlreadyReviewed):
        async with transaction(sessions) as session:
            await identity_review.review_flag(session=session, clock=clock, case=other, actor_id=actor, note="again")
    async with transaction(sessions) as session:
        assert await identity_review.open_reviews(session=session) == []


async def test_two_acceptances_at_once_change_the_record_once(sessions: Sessions, clock: FrozenClock) -> None:
    await submit(sessions, clock)
    phone_only = await submit(sessions, clock, applicant_phone="+966509998887", subject="ثان")
    other = await submit(sessions, clock, **OTHER_PERSON)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await verify(sessions, clock, phone_only, actor)
    await verify(sessions, clock, other, actor)
    first, second = await rows(sessions, ApplicantChange)
    clock.advance(timedelta(minutes=1))
    # The applicant's row is locked by the first; the second reads it afresh after and finds it changed.
    results = await asyncio.gather(
        decide(sessions, clock, phone_only, first.id, actor, accept=True),
        decide(sessions, clock, other, second.id, actor, accept=True),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, identity_review.ApplicantChangeOutOfDate)]
    assert len(refused) == 1 and sum(r is None for r in results) == 1
    decided = [c for c in await rows(sessions, ApplicantChange) if c.accepted]
    assert len(decided) == 1
    record = await applicant(sessions)
    assert record.phone == decided[0].fields["phone"][1]
