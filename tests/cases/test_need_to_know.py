"""Need to know: which role reaches which request (cases/need_to_know.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import need_to_know
from cases import service as cases
from cases.models import Case
from followup.models import Department
from majlis.clock import RIYADH, FrozenClock
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS
from tests.web.asking import placed
from tests.web.referring import department, refer

Sessions = async_sessionmaker[AsyncSession]
# The Sunday of the audience `placed` gives (the test clock is the Tuesday before).
AUDIENCE_DAY = datetime(2026, 11, 29, 8, 0, tzinfo=RIYADH)


@dataclass(frozen=True)
class Requests:
    scheduled: int
    referred: int
    confidential: int
    received: int

    def named(self, ids: set[int]) -> set[str]:
        return {name for name, case_id in vars(self).items() if case_id in ids}


async def case_id(sessions: Sessions, number: str) -> int:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    return case.id


async def four_requests(sessions: Sessions, clock: FrozenClock) -> Requests:
    """A request placed at Sunday's audience, one referred in writing, one of the confidential "security" kind
    awaiting an audience, and one just received."""
    [scheduled] = await placed(sessions, clock)
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor2")).id
    await department(sessions, "health", "وزارة الصحة", "Ministry of Health")
    [referred] = await refer(
        sessions, clock, "health", tracking_number=await new_case(sessions, clock, applicant_national_id=IDS[1])
    )
    confidential = await new_case(sessions, clock, applicant_national_id=IDS[2])
    await ready(sessions, clock, auditor, confidential, category="security", urgency="critical")
    received = await new_case(sessions, clock, applicant_national_id=IDS[3])
    return Requests(
        scheduled=await case_id(sessions, scheduled),
        referred=referred.case_id,
        confidential=await case_id(sessions, confidential),
        received=await case_id(sessions, received),
    )


async def reached(sessions: Sessions, reader: need_to_know.Reader, now: datetime) -> set[int]:
    async with sessions() as session:
        rows = await session.scalars(select(Case.id).where(need_to_know.reach(reader, now=now)))
        return set(rows)


async def test_each_role_reaches_the_requests_its_work_needs(sessions: Sessions, clock: FrozenClock) -> None:
    requests = await four_requests(sessions, clock)
    expected = {
        Role.AUDIT_DESK: {"scheduled", "referred", "confidential", "received"},
        # Protocol places and receives: the queue and the calendar, never the confidential kind.
        Role.PROTOCOL: {"scheduled"},
        Role.FOLLOW_UP: {"referred"},
        Role.MANAGER: {"referred"},
        # The desk and the call centre: what they entered (nothing here) and audiences (arrivals, calls).
        Role.INTAKE_DESK: {"scheduled"},
        Role.CALL_CENTRE: {"scheduled"},
        # Not on its audience day, and no directive yet.
        Role.OFFICIAL: set(),
        # No women's request and no roster here.
        Role.WOMEN_SECTION: set(),
        Role.WHATSAPP_DESK: set(),
        Role.ADMINISTRATOR: set(),
        Role.EMERGENCY_AGENT: set(),
        Role.MISSION_STAFF: set(),
        Role.CONSULAR_SUPERVISOR: set(),
        Role.DEPARTMENT_LIAISON: set(),
        # The fairness record by tracking number, never personal data.
        Role.AUDITOR: set(),
    }
    assert set(expected) == set(Role)
    for role, names in expected.items():
        reader = need_to_know.Reader(staff_id=1, role=role)
        assert requests.named(await reached(sessions, reader, clock.now())) == names, role
    # On the audience day the official reads that audience's request.
    official = need_to_know.Reader(staff_id=1, role=Role.OFFICIAL)
    assert requests.named(await reached(sessions, official, AUDIENCE_DAY)) == {"scheduled"}
    # A department's liaison reads the referrals to their department only.
    liaison = need_to_know.Reader(
        staff_id=1, role=Role.DEPARTMENT_LIAISON, department_id=await _department_id(sessions)
    )
    assert requests.named(await reached(sessions, liaison, clock.now())) == {"referred"}
    other = need_to_know.Reader(staff_id=1, role=Role.DEPARTMENT_LIAISON, department_id=-1)
    assert await reached(sessions, other, clock.now()) == set()


async def test_the_desk_reaches_what_it_entered_and_one_answer_agrees_with_the_list(
    sessions: Sessions, clock: FrozenClock
) -> None:
    requests = await four_requests(sessions, clock)
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    async with sessions() as session:
        received = await session.get_one(Case, requests.received)
        received.entered_by_id = desk.id
        await session.commit()
    reader = need_to_know.Reader(staff_id=desk.id, role=Role.INTAKE_DESK)
    assert requests.named(await reached(sessions, reader, clock.now())) == {"scheduled", "received"}
    async with sessions() as session:
        for name, one in vars(requests).items():
            seen = await need_to_know.may_see(session=session, reader=reader, case_id=one, now=clock.now())
            assert seen is (name in {"scheduled", "received"}), name
        everything = set(vars(requests).values())
        found = await need_to_know.visible_ids(session=session, reader=reader, case_ids=everything, now=clock.now())
        assert requests.named(found) == {"scheduled", "received"}


async def _department_id(sessions: Sessions) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Department.id).where(Department.code == "health"))
    assert found is not None
    return found
