"""The managed directory on SQLite and PostgreSQL: the department tree and its ranks, contacts and whom a
notice reaches when one is missing, service-level policies and their ladders, liaison accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import service as accounts
from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from followup import contacts, directory, policies
from followup.contacts import Addressee, ContactInput
from followup.directory import DepartmentInput
from followup.models import ContactRole, Department, EscalationLevel, SlaPolicy
from followup.policies import Duration, LevelInput, PolicyInput
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from priority.score import Urgency
from tests.factories import PASSWORD

Sessions = async_sessionmaker[AsyncSession]


def department(code: str, parent: str = "", **overrides: str) -> DepartmentInput:
    values = {
        "code": code,
        "name_ar": f"إدارة {code}",
        "name_en": f"{code} department",
        "parent": parent,
        "calendar": "government",
        "email": f"{code}@example.org",
    }
    values.update(overrides)
    return DepartmentInput(**values)


async def add(sessions: Sessions, clock: FrozenClock, *items: DepartmentInput) -> list[int]:
    async with transaction(sessions) as session:
        return [
            (await directory.add_department(session=session, clock=clock, actor_id=None, data=item)).id
            for item in items
        ]


async def refused(sessions: Sessions, work: object) -> dict[str, str]:
    """The fields (and their codes) an InvalidInput names; the transaction is rolled back."""
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await work(session)  # type: ignore[operator]
    return {e.field: e.code for e in caught.value.errors}


async def test_the_tree_its_ranks_and_cycles_refused(sessions: Sessions, clock: FrozenClock) -> None:
    office, ministry, agency, branch = await add(
        sessions,
        clock,
        department("office", name_ar="ديوان المجلس"),
        department("ministry", "office", name_ar="وزارة"),
        department("agency", "ministry", name_ar="أمانة"),
        department("branch", "agency", name_ar="فرع"),
    )
    async with sessions() as session:
        rows = await directory.tree(session=session)
        assert [(r.department.code, r.depth, r.parent_code) for r in rows] == [
            ("office", 0, None),
            ("ministry", 1, "office"),
            ("agency", 2, "ministry"),
            ("branch", 3, "agency"),
        ]
        assert [d.code for d in await directory.ancestors(session=session, department_id=branch)] == [
            "agency",
            "ministry",
            "office",
        ]
        at = [
            (await directory.department_at_rank(session=session, department_id=branch, rank=rank)).code
            for rank in (0, 1, 3, 4, 9)
        ]
        assert at == ["branch", "agency", "office", "office", "office"]
        top = await directory.department_at_rank(session=session, department_id=office, rank=2)
        assert top.id == office and await directory.ancestors(session=session, department_id=office) == []

    async def under_own_child(session: AsyncSession) -> None:
        await directory.update_department(
            session=session, clock=clock, actor_id=None, code="ministry", data=department("ministry", "branch")
        )

    async def under_itself(session: AsyncSession) -> None:
        await directory.update_department(
            session=session, clock=clock, actor_id=None, code="agency", data=department("agency", "agency")
        )

    assert await refused(sessions, under_own_child) == {"parent": "cycle"}
    assert await refused(sessions, under_itself) == {"parent": "cycle"}
    async with transaction(sessions) as session:
        # Moving a branch higher up is no cycle: it now answers to the ministry directly.
        moved = await directory.update_department(
            session=session, clock=clock, actor_id=None, code="branch", data=department("branch", "ministry")
        )
        assert moved.parent_id == ministry and agency
    async with sessions() as session:
        entries = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("department.%"))
        )
    assert entries == 5  # four added, one moved; the refused edits left nothing


async def test_bad_departments_are_refused_naming_every_field(sessions: Sessions, clock: FrozenClock) -> None:
    await add(sessions, clock, department("office"))
    async with transaction(sessions) as session:
        await directory.set_department_active(session=session, clock=clock, actor_id=None, code="office", active=False)

    async def bad(session: AsyncSession) -> None:
        data = department(
            "Office!", "office", name_ar="   ", name_en="x" * 201, calendar="nowhere", email="not-an-address"
        )
        await directory.add_department(session=session, clock=clock, actor_id=None, data=data)

    assert await refused(sessions, bad) == {
        "code": "invalid",
        "name_ar": "missing",
        "name_en": "too_long",
        "email": "invalid_email",
        "parent": "inactive",
        "calendar": "unknown",
    }

    async def taken(session: AsyncSession) -> None:
        await directory.add_department(session=session, clock=clock, actor_id=None, data=department("office"))

    assert await refused(sessions, taken) == {"code": "taken"}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Department)) == 1


async def test_names_are_trimmed_and_codes_lowered(sessions: Sessions, clock: FrozenClock) -> None:
    [made] = await add(
        sessions, clock, department("  Health-Riyadh ", name_ar="  وزارة   الصحة ", email=" Info@Example.ORG ")
    )
    async with sessions() as session:
        row = await session.get_one(Department, made)
    assert (row.code, row.name_ar, row.email) == ("health-riyadh", "وزارة الصحة", "info@example.org")


async def test_a_department_with_active_sub_departments_stays(sessions: Sessions, clock: FrozenClock) -> None:
    await add(sessions, clock, department("office"), department("ministry", "office"))

    async def deactivate(session: AsyncSession) -> None:
        await directory.set_department_active(session=session, clock=clock, actor_id=None, code="office", active=False)

    assert await refused(sessions, deactivate) == {"active": "has_children"}
    async with transaction(sessions) as session:
        for code in ("ministry", "office"):
            await directory.set_department_active(session=session, clock=clock, actor_id=None, code=code, active=False)

    async def reactivate_child(session: AsyncSession) -> None:
        await directory.set_department_active(session=session, clock=clock, actor_id=None, code="ministry", active=True)

    assert await refused(sessions, reactivate_child) == {"parent": "inactive"}


async def test_contacts_and_whom_a_notice_reaches(sessions: Sessions, clock: FrozenClock) -> None:
    [ministry] = await add(sessions, clock, department("ministry", name_ar="وزارة الصحة"))

    async def reached(role: ContactRole) -> Addressee:
        async with sessions() as session:
            return await contacts.contact_for(session=session, department_id=ministry, role=role)

    mailbox = Addressee("وزارة الصحة", "ministry@example.org", "", "ar")
    assert await reached(ContactRole.HEAD) == mailbox
    assert await reached(ContactRole.DEPUTY) == mailbox
    assert await reached(ContactRole.LIAISON) == mailbox

    async with transaction(sessions) as session:
        add_contact = contacts.add_contact
        head = await add_contact(
            session=session,
            clock=clock,
            actor_id=None,
            department_code="ministry",
            data=ContactInput("head", " د. سلمان  العمري ", "Head@Example.org", "٠٥٥١٢٣٤٥٦٧", "ar"),
        )
        first = await add_contact(
            session=session,
            clock=clock,
            actor_id=None,
            department_code="ministry",
            data=ContactInput("liaison", "Sara Liaison", "sara@example.org", "", "en"),
        )
        await add_contact(
            session=session,
            clock=clock,
            actor_id=None,
            department_code="ministry",
            data=ContactInput("liaison", "Second Liaison", "second@example.org"),
        )
    assert (head.name, head.email, head.phone) == ("د. سلمان العمري", "head@example.org", "+966551234567")
    # A deputy missing: the head is told.
    assert await reached(ContactRole.DEPUTY) == Addressee("د. سلمان العمري", "head@example.org", "+966551234567", "ar")
    assert await reached(ContactRole.LIAISON) == Addressee("Sara Liaison", "sara@example.org", "", "en")
    async with sessions() as session:
        every = await contacts.addressees(session=session, department_id=ministry, role="liaison")
    assert [a.email for a in every] == ["sara@example.org", "second@example.org"]

    async with transaction(sessions) as session:
        await contacts.set_contact_active(
            session=session, clock=clock, actor_id=None, department_code="ministry", contact_id=first.id, active=False
        )
        await contacts.set_contact_active(
            session=session, clock=clock, actor_id=None, department_code="ministry", contact_id=head.id, active=False
        )
    assert (await reached(ContactRole.LIAISON)).email == "second@example.org"
    assert await reached(ContactRole.DEPUTY) == mailbox

    async def bad(session: AsyncSession) -> None:
        data = ContactInput("minister", "", "nobody", "12345", "fr")
        await contacts.add_contact(session=session, clock=clock, actor_id=None, department_code="ministry", data=data)

    assert await refused(sessions, bad) == {
        "role": "invalid_choice",
        "name": "missing",
        "email": "invalid_email",
        "phone": "invalid_phone",
        "language": "invalid_choice",
    }
    with pytest.raises(DomainError) as caught:
        async with transaction(sessions) as session:
            await contacts.update_contact(
                session=session,
                clock=clock,
                actor_id=None,
                department_code="nowhere",
                contact_id=head.id,
                data=ContactInput("head", "x", "x@example.org"),
            )
    assert caught.value.code == "department_not_found"


def policy(name: str = "Housing", category: str = "", urgency: str = "", **durations: Duration) -> PolicyInput:
    return PolicyInput(
        name=name,
        category_code=category,
        urgency=urgency,
        first_response=durations.get("first_response", Duration("1", "working_days")),
        update=durations.get("update", Duration("", "working_days")),
        solution=durations.get("solution", Duration("5", "working_days")),
    )


def level(percent: str, extra: str = "", unit: str = "working_days", rank: str = "0", role: str = "head") -> LevelInput:
    return LevelInput(percent, Duration(extra, unit), rank, role)


async def test_the_most_specific_active_policy_applies(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        housing = await policies.add_policy(
            session=session, clock=clock, actor_id=None, data=policy("Housing", "housing"), ladder=[level("100")]
        )
        urgent_housing = await policies.add_policy(
            session=session,
            clock=clock,
            actor_id=None,
            data=policy("Urgent housing", "housing", "urgent", solution=Duration("8", "hours")),
            ladder=[],
        )

    async def chosen(category: str | None, urgency: Urgency | None) -> str:
        async with sessions() as session:
            return (await policies.policy_for(session=session, category_code=category, urgency=urgency)).name

    # The seeded ones: the default (id 1) and critical (id 2) keep working.
    assert await chosen(None, None) == "Default"
    assert await chosen("general", Urgency.NORMAL) == "Default"
    assert await chosen("general", Urgency.CRITICAL) == "Critical"
    assert await chosen("housing", Urgency.NORMAL) == "Housing"
    assert await chosen("housing", Urgency.URGENT) == "Urgent housing"
    # A category outweighs an urgency: critical housing follows the housing policy.
    assert await chosen("housing", Urgency.CRITICAL) == "Housing"
    async with transaction(sessions) as session:
        await policies.set_policy_active(
            session=session, clock=clock, actor_id=None, policy_id=urgent_housing.id, active=False
        )
        await policies.set_policy_active(
            session=session, clock=clock, actor_id=None, policy_id=housing.id, active=False
        )
    assert await chosen("housing", Urgency.URGENT) == "Default"
    assert await chosen("housing", Urgency.CRITICAL) == "Critical"
    async with sessions() as session:
        stored = await session.get_one(SlaPolicy, urgent_housing.id)
        assert (stored.first_response_minutes, stored.solution_minutes, stored.update_minutes) == (420, 480, None)
        assert [lv.level for lv in await policies.levels(session=session, policy_id=housing.id)] == [1]

    async def default_off(session: AsyncSession) -> None:
        await policies.set_policy_active(session=session, clock=clock, actor_id=None, policy_id=1, active=False)

    async def default_narrowed(session: AsyncSession) -> None:
        await policies.update_policy(
            session=session, clock=clock, actor_id=None, policy_id=1, data=policy("Default", "general")
        )

    assert await refused(sessions, default_off) == {"active": "default_policy"}
    assert await refused(sessions, default_narrowed) == {"category_code": "default_policy"}


async def test_policies_are_refused_naming_every_field(sessions: Sessions, clock: FrozenClock) -> None:
    async def bad(session: AsyncSession) -> None:
        data = PolicyInput(
            name=" ",
            category_code="no_such_category",
            urgency="soon",
            first_response=Duration("0", "hours"),
            update=Duration("3", "weeks"),
            solution=Duration("", "hours"),
        )
        await policies.add_policy(session=session, clock=clock, actor_id=None, data=data, ladder=[])

    assert await refused(sessions, bad) == {
        "name": "missing",
        "category_code": "unknown",
        "urgency": "invalid_choice",
        "first_response_amount": "out_of_range",
        "update_unit": "invalid_choice",
        "solution_amount": "missing",
    }

    async def twice(session: AsyncSession) -> None:
        await policies.add_policy(
            session=session, clock=clock, actor_id=None, data=policy(urgency="critical"), ladder=[]
        )

    async def late_first_answer(session: AsyncSession) -> None:
        data = policy(category="housing", first_response=Duration("6", "working_days"))
        await policies.add_policy(session=session, clock=clock, actor_id=None, data=data, ladder=[])

    assert await refused(sessions, twice) == {"category_code": "taken"}
    assert await refused(sessions, late_first_answer) == {"first_response_amount": "after_solution"}


async def test_each_level_is_reached_strictly_after_the_one_before(sessions: Sessions, clock: FrozenClock) -> None:
    async def ladder(*levels: LevelInput) -> dict[str, str]:
        async def work(session: AsyncSession) -> None:
            await policies.set_levels(session=session, clock=clock, actor_id=None, policy_id=1, ladder=list(levels))

        return await refused(sessions, work)

    # The default solves in 10 working days: 50 % is 5 days, so 50 % + 5 days is 100 %, no later.
    assert await ladder(level("100"), level("50", "5")) == {"levels.2.percent_of_solution": "not_later"}
    assert await ladder(level("100"), level("100")) == {"levels.2.percent_of_solution": "not_later"}
    assert await ladder(level("0", rank="21", role="liaison"), level("100", "x")) == {
        "levels.1.percent_of_solution": "out_of_range",
        "levels.1.rank": "out_of_range",
        "levels.1.contact_role": "invalid_choice",
        "levels.2.extra_amount": "out_of_range",
    }
    async with transaction(sessions) as session:
        built = await policies.set_levels(
            session=session,
            clock=clock,
            actor_id=None,
            policy_id=1,
            ladder=[level("100"), level("50", "6", rank="1", role="deputy"), level("100", "2", rank="9")],
        )
    assert [(b.level, b.percent_of_solution, b.extra_minutes, b.rank) for b in built] == [
        (1, 100, 0, 0),
        (2, 50, 6 * 420, 1),
        (3, 100, 840, 9),
    ]

    # With 2 days to solve, level 2 (50 % + 6 days: 7 days) would come after level 3 (100 % + 2 days: 4 days):
    # refused, unless a ladder that climbs comes with it.
    async def shorter(session: AsyncSession) -> None:
        await policies.update_policy(
            session=session,
            clock=clock,
            actor_id=None,
            policy_id=1,
            data=policy("Default", solution=Duration("2", "working_days")),
        )

    assert await refused(sessions, shorter) == {"solution_amount": "ladder_out_of_order"}
    async with transaction(sessions) as session:
        await policies.update_policy(
            session=session,
            clock=clock,
            actor_id=None,
            policy_id=1,
            data=policy("Default", solution=Duration("2", "working_days")),
            ladder=[level("100"), level("100", "3", "hours")],
        )
    async with sessions() as session:
        rows = list(await session.scalars(select(EscalationLevel).where(EscalationLevel.policy_id == 1)))
        assert sorted((r.level, r.extra_minutes) for r in rows) == [(1, 0), (2, 180)]
        assert (await session.get_one(SlaPolicy, 1)).solution_minutes == 840


async def test_a_liaison_account_belongs_to_one_active_department(sessions: Sessions, clock: FrozenClock) -> None:
    await add(sessions, clock, department("ministry"))

    async def create(role: Role, code: str, username: str = "liaison") -> StaffUser:
        async with transaction(sessions) as session:
            return await accounts.create_user(
                session=session,
                clock=clock,
                username=username,
                full_name="ضابط اتصال",
                role=role,
                gender="male",
                password=PASSWORD,
                department_code=code,
            )

    for role, code, wrong in (
        (Role.DEPARTMENT_LIAISON, "", "missing"),
        (Role.DEPARTMENT_LIAISON, "nowhere", "unknown"),
        (Role.FOLLOW_UP, "ministry", "not_liaison"),
    ):
        with pytest.raises(InvalidInput) as caught:
            await create(role, code)
        assert {e.field: e.code for e in caught.value.errors} == {"department": wrong}
    made = await create(Role.DEPARTMENT_LIAISON, " Ministry ")
    async with sessions() as session:
        ministry = await directory.department_by_code(session=session, code="ministry")
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.create"))
    assert made.department_id == ministry.id
    assert entry is not None and entry.details["department"] == "ministry"
