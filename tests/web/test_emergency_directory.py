"""The missions directory through its pages and its JSON API, on SQLite and PostgreSQL: consular supervisors keep
missions, coverage and rosters; a mission's staff see and keep their own mission's roster only."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from emergency import directory
from emergency.directory import MissionInput
from emergency.models import DutyShift, Mission, MissionCoverage
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once

Sessions = async_sessionmaker[AsyncSession]


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{re.escape(field)}-error" role="alert">([^<]*)<', html)
    assert found, f"no error shown for {field}"
    return found.group(1)


def mission_form(token: str, code: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "code": code,
        "kind": "embassy",
        "name_ar": f"سفارة {code}",
        "name_en": f"Embassy {code}",
        "country": "AU",
        "time_zone": "Australia/Sydney",
        "hours": "Mon-Fri 09:00-17:00",
        "calendar": "",
        "email": f"{code}@example.gov.sa",
        "head_name": "Head of mission",
        "head_email": f"head.{code}@example.gov.sa",
        "head_phone": "+61 412 345 678",
    }
    form.update(overrides)
    return form


async def add_missions(sessions: Sessions, clock: FrozenClock, *codes: str) -> dict[str, int]:
    made = {}
    async with transaction(sessions) as session:
        for code, zone, country in (
            ("au-sydney", "Australia/Sydney", "AU"),
            ("ae-abudhabi", "Asia/Dubai", "AE"),
        ):
            if code in codes:
                data = MissionInput(
                    code,
                    "embassy",
                    f"بعثة {code}",
                    f"Mission {code}",
                    country,
                    zone,
                    f"{code}@example.gov.sa",
                    "Head",
                    f"head.{code}@example.gov.sa",
                    "+61412345678",
                    "Sun-Thu 08:00-15:00",
                )
                made[code] = (
                    await directory.add_mission(session=session, clock=clock, actor_id=None, data=data, live=True)
                ).id
    return made


def shift_form(token: str, **overrides: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "shift.starts": "2026-11-24T17:00",
        "shift.ends": "2026-11-26T08:00",
        "shift.officer_name": "Officer Salem",
        "shift.phone": "+61 412 345 678",
        "shift.email": "duty@example.gov.sa",
        "shift.languages": "ar, en",
    }
    form.update(overrides)
    return form


async def test_supervisors_keep_missions_coverage_and_rosters(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    await sign_in(client, "supervisor")
    token = await csrf_token(client, "/emergency/missions")
    added = await client.post("/emergency/missions", data=mission_form(token, "au-sydney"), allow_redirects=False)
    assert added.status == 303 and added.headers["Location"] == "/emergency/missions/au-sydney"
    await shown_once(client, added, f"أُضيفت البعثة {isolated('سفارة au-sydney')}.")

    bad = await client.post(
        "/emergency/missions",
        data=mission_form(token, "ae-abudhabi", country="XX", time_zone="Gulf/Nowhere", head_phone="050 123 4567"),
    )
    assert bad.status == 422
    html = await bad.text()
    assert field_error(html, "country").startswith("يجب أن تكون قيمة حقل «الدولة» رمز دولة من حرفين")
    assert "منطقة زمنية" in field_error(html, "time_zone")
    assert "رقم جوال من أي دولة بالصيغة الدولية" in field_error(html, "head_phone")

    cover = {"csrf_token": token, "cover.country": "AU", "cover.city_ar": "", "cover.city_en": ""}
    covered = await client.post("/emergency/missions/au-sydney/coverage", data=cover, allow_redirects=False)
    await shown_once(client, covered, "أُضيف المكان إلى نطاق تغطية البعثة.")
    await client.post("/emergency/missions", data=mission_form(token, "au-canberra"), allow_redirects=False)
    again = await client.post("/emergency/missions/au-canberra/coverage", data=cover)
    assert again.status == 422
    assert "هذا المكان تغطيه بالفعل البعثة au-sydney" in field_error(await again.text(), "cover.country")

    live = await client.post(
        "/emergency/missions/au-sydney/live", data={"csrf_token": token, "live": "1"}, allow_redirects=False
    )
    await shown_once(client, live, "أصبحت البعثة مفعّلة على خط الطوارئ: تصل إليها بلاغاتها الآن.")
    backwards = await client.post(
        "/emergency/missions/au-sydney/shifts", data=shift_form(token, **{"shift.ends": "2026-11-24T08:00"})
    )
    assert backwards.status == 422
    assert field_error(await backwards.text(), "shift.ends") == "يجب أن تنتهي المناوبة بعد بدايتها."
    shift = await client.post("/emergency/missions/au-sydney/shifts", data=shift_form(token), allow_redirects=False)
    await shown_once(client, shift, "أُضيفت المناوبة إلى جدول المناوبات.")

    # 17:00 in Sydney (AEDT, +11) is 09:00 in Riyadh; after it the roster shows a gap.
    page = await (await client.get("/emergency/missions/au-sydney")).text()
    assert "Officer Salem" in page and "17:00" in page and "09:00" in page
    assert 'class="gap"' in page and "ثغرة" not in page
    listing = await (await client.get("/emergency/missions")).text()
    assert "Australia/Sydney" in listing and "أستراليا" in listing
    assert 'class="live"' in listing and 'class="not-live"' in listing
    # The clock stands at 17:30 in Sydney: the officer is on duty now.
    assert "Officer Salem" in listing
    # On an Arabic page a name typed in Latin letters is set apart, codes and zones read left to right (each its
    # own isolate, even inside a hint), an e-mail address may wrap, and the wide tables are cards on a tablet.
    assert "<bdi>Officer Salem</bdi>" in page and "<bdi>Officer Salem</bdi>" in listing
    assert '<bdi dir="ltr" class="email">duty@example.gov.sa</bdi>' in page
    assert '<bdi dir="ltr" class="ltr">Sun-Thu 08:00-15:00</bdi>' in page
    assert '<bdi dir="ltr" class="ltr">au-canberra</bdi>' in listing
    assert '<bdi dir="ltr" class="ltr">Asia/Dubai</bdi>' in listing
    assert 'class="stack roster missions-wide"' in page and 'class="stack missions-wide" id="missions"' in listing
    async with sessions() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {
        "emergency.mission.add",
        "emergency.coverage.add",
        "emergency.mission.live",
        "emergency.shift.add",
    } <= actions


async def test_mission_staff_keep_their_own_roster_only(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    ids = await add_missions(sessions, clock, "au-sydney", "ae-abudhabi")
    staff = await make_staff(sessions, clock, Role.MISSION_STAFF, "sydney")
    async with transaction(sessions) as session:
        await session.execute(update(StaffUser).where(StaffUser.id == staff.id).values(mission_id=ids["au-sydney"]))
    await sign_in(client, "sydney")
    home = await client.get("/emergency/missions", allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/emergency/missions/au-sydney"
    token = await csrf_token(client, "/emergency/missions/au-sydney")
    other = await client.get("/emergency/missions/ae-abudhabi")
    assert other.status == 403 and "هذه البعثة ليست بعثتك" in await other.text()
    refused = await client.post("/emergency/missions/ae-abudhabi/shifts", data=shift_form(token), allow_redirects=False)
    assert refused.status == 403
    mine = await client.post("/emergency/missions/au-sydney/shifts", data=shift_form(token), allow_redirects=False)
    assert mine.status == 303
    # Their own mission's details and coverage are the supervisors'.
    details = await client.post("/emergency/missions/au-sydney", data=mission_form(token, "au-sydney"))
    assert details.status == 403

    headers = {"X-CSRF-Token": token}
    body = {
        "starts": "2026-11-27T20:00",
        "ends": "2026-11-28T08:00",
        "officer_name": "Officer Huda",
        "phone": "+971 50 123 4567",
        "email": "huda@example.gov.sa",
        "languages": ["ar"],
    }
    assert (await client.get("/api/v1/missions/ae-abudhabi")).status == 403
    assert (await client.get("/api/v1/missions/ae-abudhabi/shifts")).status == 403
    answer = await client.post("/api/v1/missions/ae-abudhabi/shifts", json=body, headers=headers)
    assert answer.status == 403 and (await answer.json())["error"] == "not_your_mission"
    made = await client.post("/api/v1/missions/au-sydney/shifts", json=body, headers=headers)
    assert made.status == 201, await made.text()
    shift = await made.json()
    assert shift["starts_local"] == "2026-11-27T20:00+11:00" and shift["starts_riyadh"] == "2026-11-27T12:00+03:00"
    roster = await (await client.get("/api/v1/missions/au-sydney/shifts")).json()
    assert [s["officer_name"] for s in roster["shifts"]] == ["Officer Salem", "Officer Huda"] and roster["gaps"]
    assert (await client.get("/api/v1/missions")).status == 403
    assert (await client.delete(f"/api/v1/missions/ae-abudhabi/shifts/{shift['id']}", headers=headers)).status == 403

    # Abu Dhabi's staff cannot remove Sydney's shift, by either mission's path.
    async with sessions() as session:
        sydney_shift = await session.scalar(select(DutyShift.id).where(DutyShift.officer_name == "Officer Huda"))
    other_staff = await make_staff(sessions, clock, Role.MISSION_STAFF, "abudhabi")
    async with transaction(sessions) as session:
        await session.execute(
            update(StaffUser).where(StaffUser.id == other_staff.id).values(mission_id=ids["ae-abudhabi"])
        )
    await sign_in(client, "abudhabi")
    token = await csrf_token(client, "/emergency/missions/ae-abudhabi")
    headers = {"X-CSRF-Token": token}
    assert (await client.delete(f"/api/v1/missions/au-sydney/shifts/{sydney_shift}", headers=headers)).status == 403
    assert (await client.delete(f"/api/v1/missions/ae-abudhabi/shifts/{sydney_shift}", headers=headers)).status == 404
    assert (
        await client.post(f"/emergency/missions/au-sydney/shifts/{sydney_shift}/remove", data={"csrf_token": token})
    ).status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DutyShift)) == 2
        assert (
            await session.scalar(
                select(func.count()).select_from(DutyShift).where(DutyShift.mission_id == ids["ae-abudhabi"])
            )
            == 0
        )


async def test_the_api_keeps_missions_and_is_documented(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    await sign_in(client, "supervisor")
    headers = {"X-CSRF-Token": await csrf_token(client, "/emergency/missions")}
    body: dict[str, Any] = {
        "code": "ae-abudhabi",
        "kind": "embassy",
        "name_ar": "السفارة في أبوظبي",
        "name_en": "Embassy in Abu Dhabi",
        "country": "AE",
        "time_zone": "Asia/Dubai",
        "email": "abudhabi@example.gov.sa",
        "head_name": "Head",
        "head_email": "head.abudhabi@example.gov.sa",
        "head_phone": "+971501234567",
        "hours": "Mon-Fri 08:00-15:00",
        "live": True,
    }
    made = await client.post("/api/v1/missions", json=body, headers=headers)
    assert made.status == 201, await made.text()
    out = await made.json()
    assert out["live"] and out["calendar"] == "mission-ae-abudhabi" and out["hours"] == "Mon-Fri 08:00-15:00"
    bad = await client.post(
        "/api/v1/missions", json={**body, "code": "ae-dubai", "country": "ZZ", "head_phone": "+1 555"}, headers=headers
    )
    assert bad.status == 422
    fields = {f["field"]: f for f in (await bad.json())["fields"]}
    assert set(fields) == {"country", "head_phone"}
    assert fields["country"]["messages"]["en"] == "Country must be a country's two-letter code, such as AU or AE."
    covered = await client.post("/api/v1/missions/ae-abudhabi/coverage", json={"country": "AE"}, headers=headers)
    assert covered.status == 201
    city = await client.post(
        "/api/v1/missions/ae-abudhabi/coverage", json={"country": "AE", "city_en": "Dubai"}, headers=headers
    )
    assert city.status == 201
    taken = await client.post(
        "/api/v1/missions/ae-abudhabi/coverage", json={"country": "ae", "city_en": "DUBAI"}, headers=headers
    )
    assert taken.status == 422 and (await taken.json())["fields"][0]["code"] == "already_covered"
    changed = await client.patch(
        "/api/v1/missions/ae-abudhabi", json={"live": False, "head_name": "New head"}, headers=headers
    )
    assert changed.status == 200
    assert (await changed.json())["head_name"] == "New head" and not (await changed.json())["live"]
    removed = await client.delete(f"/api/v1/missions/ae-abudhabi/coverage/{(await city.json())['id']}", headers=headers)
    assert removed.status == 204
    assert (await client.get("/api/v1/missions/nowhere")).status == 404
    listed = await (await client.get("/api/v1/missions")).json()
    assert [m["code"] for m in listed] == ["ae-abudhabi"] and len(listed[0]["coverage"]) == 1
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MissionCoverage)) == 1
        assert await session.scalar(select(func.count()).select_from(Mission)) == 1
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    assert "/api/v1/missions/{code}/shifts" in document["paths"] and "MissionOut" in document["components"]["schemas"]
