"""The hall's pages: the kiosk enrolled by protocol, the desk's check-in, the official's Call next and outcome,
and the hall's screen that shows numbers, never names."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from accounts.roles import Role
from audience_day.models import Arrival, HallAudience, Kiosk
from cases.models import Case, CaseStatus
from majlis.clock import FrozenClock
from scheduler.models import Appointment, AppointmentState
from tests.audience_day.arrange import Sessions, at, booked_day, call, check_in, official, phone, status
from tests.factories import csrf_token, make_staff, sign_in
from tests.followup.arrange import add_department
from tests.web.notices_seen import shown_once
from web.keys import LINKS
from web.kiosk import KIOSK_COOKIE, RESULT_COOKIE

Client = TestClient[web.Request, web.Application]


async def test_a_kiosk_enrolled_by_protocol_checks_in_by_code_and_by_number(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=3)
    assert (await client.get("/kiosk")).status == 403  # not an enrolled tablet
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/protocol/kiosks")
    page = await client.post("/protocol/kiosks", data={"csrf_token": token, "branch": "riyadh", "name": "المدخل"})
    assert page.status == 200
    link = re.search(r'href="http://[^"]+(/kiosk/enrol/[^"]+)"', await page.text())
    assert link is not None
    assert (await client.post("/protocol/kiosks", data={"csrf_token": token, "branch": "x", "name": ""})).status == 422
    assert (await client.get(link.group(1), allow_redirects=False)).status == 303
    clock.set(at(29, 9, 45))
    kiosk = await client.get("/kiosk")
    assert kiosk.status == 200
    token = await csrf_token(client, "/kiosk")
    code = client.app[LINKS].arrival_code(booked[0].appointment_id)
    done = await client.post("/kiosk", data={"csrf_token": token, "code": code}, allow_redirects=False)
    # POST then redirect: the result is a page of its own, the arrival named by a short-lived signed cookie.
    assert done.status == 303 and done.headers["Location"] == "/kiosk/checked-in"
    result_cookie = done.cookies[RESULT_COOKIE]
    assert result_cookie["httponly"] and result_cookie["samesite"] == "Strict"
    assert result_cookie["path"] == "/kiosk/checked-in" and result_cookie["max-age"] == "300"
    # The result, and again on a refresh: the same number, and still one arrival.
    for _ in range(2):
        result = await client.get("/kiosk/checked-in")
        text = await result.text()
        assert result.status == 200 and 'id="queue-number">1<' in text and 'id="kiosk-result"' in text
        assert result.headers["Cache-Control"] == "no-store"
    async with sessions() as session:
        names = [c.applicant_name for c in await session.scalars(select(Case))]
        assert await session.scalar(select(func.count()).select_from(Arrival)) == 1
    assert not any(name in text for name in names)  # the kiosk shows the number, never a name
    # Back at the form, the result is forgotten: the next applicant cannot step back to it.
    form = await client.get("/kiosk")
    assert form.cookies[RESULT_COOKIE].value == ""
    assert (await client.get("/kiosk/checked-in", allow_redirects=False)).headers["Location"] == "/kiosk"
    again = await client.post("/kiosk", data={"csrf_token": token, "code": code})
    assert again.status == 409  # twice: a clear message, nothing changes
    wrong = await client.post("/kiosk", data={"csrf_token": token, "code": code[:-1] + str((int(code[-1]) + 1) % 10)})
    assert wrong.status == 422
    by_number = await client.post(
        "/kiosk",
        data={
            "csrf_token": token,
            "tracking_number": booked[1].tracking_number,
            "phone_last4": phone(booked[1].index)[-4:],
        },
    )
    assert by_number.status == 200 and 'id="queue-number">2<' in await by_number.text()  # followed to the result
    # Too late for the result (or another device): back to the form; a device that is no kiosk is refused.
    clock.advance(timedelta(minutes=6))
    late = await client.get("/kiosk/checked-in", allow_redirects=False)
    assert late.status == 303 and late.headers["Location"] == "/kiosk"
    client.session.cookie_jar.clear(lambda cookie: cookie.key == KIOSK_COOKIE)
    assert (await client.get("/kiosk/checked-in")).status == 403
    async with sessions() as session:
        arrivals = list(await session.scalars(select(Arrival).order_by(Arrival.queue_number)))
    assert [a.appointment_id for a in arrivals] == [booked[0].appointment_id, booked[1].appointment_id]
    # Protocol takes the kiosk out of use: back to the list, which says so once.
    async with sessions() as session:
        kiosk_id = await session.scalar(select(Kiosk.id))
    await sign_in(client, "protocol")  # the morning's clock is past the first session's end
    token = await csrf_token(client, "/protocol/kiosks")
    revoked = await client.post(f"/protocol/kiosks/{kiosk_id}/revoke", data={"csrf_token": token})
    assert revoked.status == 200 and revoked.url.path == "/protocol/kiosks"
    assert "أُخرج الجهاز الذاتي من الخدمة" in await revoked.text()
    assert "أُخرج الجهاز الذاتي من الخدمة" not in await (await client.get("/protocol/kiosks")).text()


async def test_the_official_calls_next_and_records_the_outcome_while_the_screen_shows_numbers(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=2)
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    clock.set(at(29, 9, 50))
    await sign_in(client, "desk")
    token = await csrf_token(client, "/desk/arrivals")
    found = await client.get("/desk/arrivals", params={"branch": "riyadh", "q": booked[0].tracking_number})
    assert booked[0].tracking_number in await found.text()
    for item in booked:
        checked = await client.post(
            f"/desk/arrivals/{item.appointment_id}", data={"csrf_token": token, "branch": "riyadh"}
        )
        assert checked.status == 200
    twice = await client.post(
        f"/desk/arrivals/{booked[0].appointment_id}", data={"csrf_token": token, "branch": "riyadh"}
    )
    assert twice.status == 409
    assert (await client.get("/official/hall", allow_redirects=False)).status == 403
    await client.post("/logout", data={"csrf_token": token})

    await sign_in(client, "official")
    token = await csrf_token(client, "/official/hall")
    screen = await client.get("/hall/riyadh/now.json")
    assert (await screen.json())["sessions"][0] == {"session": booked[0].session_id, "serving": None, "waiting": [1, 2]}
    clock.set(at(29, 10, 0))
    called = await client.post(
        f"/official/hall/sessions/{booked[0].session_id}/next", data={"csrf_token": token, "current": ""},
        allow_redirects=False,
    )  # fmt: skip
    assert called.status == 303 and called.headers["Location"] == "/official/hall"
    await shown_once(client, called, "استُدعي المراجع التالي.")
    stale = await client.post(
        f"/official/hall/sessions/{booked[0].session_id}/next", data={"csrf_token": token, "current": ""},
        allow_redirects=False,
    )  # fmt: skip
    assert stale.headers["Location"] == "/official/hall?stale=1"  # a second press calls nobody else
    serving = (await (await client.get("/hall/riyadh/now.json")).json())["sessions"][0]
    assert serving["serving"] == 1 and serving["waiting"] == [2]
    screen_page = await (await client.get("/hall/riyadh/screen")).text()
    async with sessions() as session:
        audience = await session.scalar(select(HallAudience))
        assert audience is not None
        names = [c.applicant_name for c in await session.scalars(select(Case))]
    assert "serving-" in screen_page and not any(name in screen_page for name in names)
    missing = await client.post(
        f"/official/hall/audiences/{audience.id}/outcome",
        data={"csrf_token": token, "outcome": "referred", "directive": "يحال"},
    )
    assert missing.status == 422  # a referral names its departments
    clock.set(at(29, 10, 6))
    saved = await client.post(
        f"/official/hall/audiences/{audience.id}/outcome",
        data={"csrf_token": token, "outcome": "answered", "directive": "تُلبّى حاجته"},
        allow_redirects=False,
    )
    await shown_once(client, saved, "سُجِّلت نتيجة المقابلة.")
    async with sessions() as session:
        appointment = await session.get_one(Appointment, booked[0].appointment_id)
    assert appointment.state is AppointmentState.HELD
    assert await status(sessions, booked[0].case_id) is CaseStatus.COMPLETED
    assert (await client.get("/hall/nowhere/screen")).status == 404
    # The outcome ended the first audience: the next press calls the second applicant, the one after finds
    # nobody else waiting, and says so.
    press = f"/official/hall/sessions/{booked[0].session_id}/next"
    second = await client.post(press, data={"csrf_token": token, "current": ""}, allow_redirects=False)
    await shown_once(client, second, "استُدعي المراجع التالي.")
    async with sessions() as session:
        last = await session.scalar(select(HallAudience.id).where(HallAudience.id != audience.id))
    ended = await client.post(press, data={"csrf_token": token, "current": str(last)}, allow_redirects=False)
    await shown_once(client, ended, "انتهت المقابلة؛ لا أحد آخر في الانتظار.")


async def test_the_official_refers_from_the_hall_by_ticking_departments(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=1)
    await add_department(sessions, "moj", name_ar="وزارة العدل", name_en="Ministry of Justice")
    await add_department(sessions, "enforcement", name_ar="محكمة التنفيذ", name_en="Enforcement Court", parent="moj")
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, booked[0].appointment_id)
    official_id = await official(sessions, clock)
    clock.set(at(29, 10))
    called = await call(sessions, clock, booked[0].session_id, None, official_id)
    assert called.current is not None
    await sign_in(client, "official")
    console = await (await client.get("/official/hall")).text()
    assert 'data-shown-when="outcome=referred"' in console
    assert re.search(r'class="check depth-1"><input type="checkbox" name="referred_to" value="enforcement"', console)
    token = await csrf_token(client, "/official/hall")
    address = f"/official/hall/audiences/{called.current.id}/outcome"
    form = [("csrf_token", token), ("outcome", "referred"), ("directive", "يحال لتنفيذ الحكم")]
    unknown = await client.post(address, data=[*form, ("referred_to", "moj"), ("referred_to", "nowhere")])
    assert unknown.status == 422
    page = await unknown.text()
    assert "لا توجد جهة مفعّلة بالرمز nowhere." in page and 'value="moj" checked' in page
    assert await status(sessions, booked[0].case_id) is CaseStatus.SCHEDULED
    saved = await client.post(
        address, data=[*form, ("referred_to", "moj"), ("referred_to", "enforcement")], allow_redirects=False
    )
    assert saved.status == 303
    assert await status(sessions, booked[0].case_id) is CaseStatus.REFERRED
    async with sessions() as session:
        audience = await session.get_one(HallAudience, called.current.id)
    assert audience.referred_to == "moj, enforcement"
    # The recorded outcome names the departments, in the reader's language, not their codes.
    recorded = await (await client.get("/official/hall?lang=en")).text()
    assert '<bdi class="referred-to">Ministry of Justice, Enforcement Court</bdi>' in recorded
