"""The call centre's list: unanswered confirmations after the configured hours; a call records the answer."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from majlis.clock import FrozenClock
from scheduler.models import AppointmentState, Confirmation
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.asking import appointment_state, ask, placed

Sessions = async_sessionmaker[AsyncSession]


async def test_unanswered_confirmations_are_called_and_recorded(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await placed(sessions, clock, count=2)
    asked = await ask(sessions, clock)
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    # Not yet: the applicants have a day to answer by themselves.
    clock.advance(timedelta(hours=23))
    await sign_in(client, "caller")  # (a staff session lasts a working day)
    assert 'id="no-calls"' in await (await client.get("/calls")).text()
    clock.advance(timedelta(hours=2))
    page = await (await client.get("/calls")).text()
    for number in (first, second):
        item = asked[number]
        assert f'id="call-{item.confirmation_id}"' in page and number in page
        assert f'href="tel:{item.phone}"' in page

    one = asked[first]
    token = await csrf_token(client, "/calls")
    response = await client.post(
        f"/calls/{one.confirmation_id}", data={"outcome": "no_answer", "note": "الخط مشغول", "csrf_token": token}
    )
    page = await response.text()
    assert response.status == 200 and "الخط مشغول" in page and f'id="call-{one.confirmation_id}"' in page
    async with sessions() as session:
        confirmation = await session.get_one(Confirmation, one.confirmation_id)
    assert confirmation.call_attempts == 1 and confirmation.last_call_by_id == caller.id
    assert confirmation.answer is None

    response = await client.post(f"/calls/{one.confirmation_id}", data={"outcome": "confirmed", "csrf_token": token})
    page = await response.text()
    assert response.status == 200 and 'id="notice"' in page
    assert f'id="call-{one.confirmation_id}"' not in page and f'id="call-{asked[second].confirmation_id}"' in page
    assert await appointment_state(sessions, one.appointment_id) is AppointmentState.CONFIRMED
    async with sessions() as session:
        confirmation = await session.get_one(Confirmation, one.confirmation_id)
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == caller.id)))
    assert confirmation.answered_via == "call_centre"
    assert "appointment.call_no_answer" in actions and "appointment.answer" in actions


async def test_a_wrong_call_record_is_refused_and_saves_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    item = (await ask(sessions, clock))[number]
    clock.advance(timedelta(hours=25))
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    token = await csrf_token(client, "/calls")
    unknown = await client.post(f"/calls/{item.confirmation_id}", data={"outcome": "maybe", "csrf_token": token})
    assert unknown.status == 422 and "اختاروا نتيجة الاتصال" in await unknown.text()
    missing = await client.post("/calls/999999", data={"outcome": "confirmed", "csrf_token": token})
    assert missing.status == 404 and "لا يوجد طلب تأكيد كهذا" in await missing.text()
    clock.set(item.starts_at + timedelta(minutes=5))  # the audience has begun: too late to answer
    await sign_in(client, "desk")
    token = await csrf_token(client, "/calls")  # a new sign-in, a new token
    late = await client.post(f"/calls/{item.confirmation_id}", data={"outcome": "cancelled", "csrf_token": token})
    assert late.status == 409 and "مضى وقت هذه المقابلة" in await late.text()
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED


async def test_other_roles_cannot_open_the_list(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    assert (await client.get("/calls")).status == 403
