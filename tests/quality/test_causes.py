"""The managed list of causes on SQLite and PostgreSQL: added, renamed, retired and put back, ordered; refusals
name the field and change nothing; every change is in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import audit
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from quality import causes
from tests.factories import make_staff

Sessions = async_sessionmaker[AsyncSession]
SEEDED = [
    "long_wait",
    "staff_conduct",
    "unclear_information",
    "outcome_disagreement",
    "facilities",
    "system_fault",
    "other",
]


async def _codes(sessions: Sessions, active_only: bool = False) -> list[str]:
    async with sessions() as session:
        return [c.code for c in await causes.causes(session=session, active_only=active_only)]


async def test_the_seeded_list_and_a_new_cause_at_its_end(sessions: Sessions, clock: FrozenClock) -> None:
    manager = await make_staff(sessions, clock, Role.MANAGER)
    assert await _codes(sessions) == SEEDED
    async with transaction(sessions) as session:
        added = await causes.add_cause(
            session=session,
            clock=clock,
            actor_id=manager.id,
            code=" Rude_Guard ",
            name_ar=" سلوك  حارس الأمن ",
            name_en="Security guard\u202e conduct",
        )
    assert (added.code, added.name_ar, added.name_en, added.active) == (
        "rude_guard",
        "سلوك حارس الأمن",
        "Security guard conduct",
        True,
    )
    assert await _codes(sessions, active_only=True) == [*SEEDED, "rude_guard"]
    async with sessions() as session:
        [entry] = await audit.for_target(session=session, target_type="review_cause", target_id="rude_guard")
    assert (entry.action, entry.actor_id) == ("quality.cause.add", manager.id)


@pytest.mark.parametrize(
    ("code", "name_ar", "name_en", "expected"),
    [
        ("long_wait", "انتظار", "Wait", {("code", "taken")}),
        ("x", "انتظار", "Wait", {("code", "invalid")}),
        ("bad code!", "انتظار", "Wait", {("code", "invalid")}),
        ("", "", "  ", {("code", "missing"), ("name_ar", "missing"), ("name_en", "missing")}),
        ("fine", "ا" * 201, "Wait", {("name_ar", "too_long")}),
    ],
)
async def test_a_bad_new_cause_is_refused_field_by_field(
    sessions: Sessions, clock: FrozenClock, code: str, name_ar: str, name_en: str, expected: set[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await causes.add_cause(
                session=session, clock=clock, actor_id=None, code=code, name_ar=name_ar, name_en=name_en
            )
    assert {(e.field, e.code) for e in refused.value.errors} == expected
    assert await _codes(sessions) == SEEDED


async def test_rename_retire_put_back_and_move(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        await causes.rename_cause(
            session=session, clock=clock, actor_id=None, code="other", name_ar="سبب آخر", name_en="Another cause"
        )
        await causes.set_cause_active(session=session, clock=clock, actor_id=None, code="facilities", active=False)
    async with sessions() as session:
        renamed = await causes.cause_by_code(session=session, code="other")
    assert (renamed.name_ar, renamed.name_en) == ("سبب آخر", "Another cause")
    assert "facilities" not in await _codes(sessions, active_only=True)
    assert "facilities" in await _codes(sessions)

    async with transaction(sessions) as session:
        await causes.move_cause(session=session, clock=clock, actor_id=None, code="other", direction="up")
        await causes.move_cause(session=session, clock=clock, actor_id=None, code="long_wait", direction="up")
        await causes.set_cause_active(session=session, clock=clock, actor_id=None, code="facilities", active=True)
    # The first cannot go higher; the last went one place up.
    assert await _codes(sessions) == [*SEEDED[:5], "other", "system_fault"]
    async with sessions() as session:
        entries = await audit.for_target(session=session, target_type="review_cause", target_id="facilities")
    assert [e.action for e in entries] == ["quality.cause.retire", "quality.cause.reactivate"]


async def test_refusals_of_changes_to_the_list(sessions: Sessions, clock: FrozenClock) -> None:
    with pytest.raises(causes.CauseNotFound):
        async with transaction(sessions) as session:
            await causes.set_cause_active(session=session, clock=clock, actor_id=None, code="nothing", active=False)
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await causes.rename_cause(
                session=session, clock=clock, actor_id=None, code="other", name_ar="", name_en="x"
            )
    assert [(e.field, e.code) for e in refused.value.errors] == [("name_ar", "missing")]
    with pytest.raises(InvalidInput) as refused:
        async with transaction(sessions) as session:
            await causes.move_cause(session=session, clock=clock, actor_id=None, code="other", direction="sideways")
    assert [(e.field, e.code) for e in refused.value.errors] == [("direction", "invalid_choice")]
    async with sessions() as session:
        unchanged = await causes.cause_by_code(session=session, code="other")
    assert unchanged.name_en == "Other"
    assert await _codes(sessions) == SEEDED
