"""Audience day over JSON, on SQLite and PostgreSQL: the desk's check-in by each identification and each refusal,
the hall's order of the day, Call next (a stale press calls nobody), the outcome, the day's report, and the roles.

The day is tests/audience_day/arrange.py's: Sunday 29 November 2026, the Riyadh hall from 10:00 in 8-minute slots.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from openapi_spec_validator import validate
from sqlalchemy import func, select

from accounts.roles import Role
from audience_day.models import Arrival, HallAudience
from audience_day.report import day_report
from cases.models import CaseStatus
from followup.models import Referral
from majlis.clock import FrozenClock
from scheduler.models import AppointmentState
from tests.audience_day.arrange import Booked, Sessions, at, booked_day, cancel, phone, states, status
from tests.factories import Client, make_staff, sign_in
from tests.followup.arrange import add_department
from web.keys import LINKS

ARRIVALS = "/api/v1/arrivals"
HALL = "/api/v1/hall/sessions"
REPORT = "/api/v1/reports/day"


async def as_staff(client: Client, sessions: Sessions, clock: FrozenClock, role: Role, username: str) -> dict[str, str]:
    """Signs in as a new member of staff with this role (signing out whoever was signed in); the CSRF header."""
    await make_staff(sessions, clock, role, username)
    return await switch(client, username)


async def switch(client: Client, username: str) -> dict[str, str]:
    """Signs in as this member of staff, signing out whoever was signed in; the CSRF header."""
    client.session.cookie_jar.clear()
    await sign_in(client, username)
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    return {"X-CSRF-Token": token}


async def arrivals(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Arrival)) or 0)


def last4(item: Booked) -> str:
    return phone(item.index)[-4:]


async def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of a refusal, checked: its status, its code, and a message in both languages."""
    body = await response.json()
    assert response.status == status, body
    assert body["error"] == code, body
    assert body["messages"]["ar"] and body["messages"]["en"] and body["messages"]["ar"] != body["messages"]["en"]
    return dict(body)


async def test_the_desk_checks_in_by_each_identification(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=4)
    clock.set(at(29, 9, 45))
    desk = await as_staff(client, sessions, clock, Role.INTAKE_DESK, "desk")

    by_id = await client.post(
        ARRIVALS, headers=desk, json={"appointment_id": booked[0].appointment_id, "branch": "riyadh"}
    )
    assert by_id.status == 201, await by_id.text()
    assert await by_id.json() == {
        "appointment_id": booked[0].appointment_id,
        "queue_number": 1,
        "arrived_at": "2026-11-29T06:45:00Z",
        "late": False,
        "session_id": booked[0].session_id,
    }
    code = client.app[LINKS].arrival_code(booked[1].appointment_id)
    by_code = await client.post(ARRIVALS, headers=desk, json={"arrival_code": code, "branch": "riyadh"})
    assert by_code.status == 201 and (await by_code.json())["queue_number"] == 2
    # The tracking number with the phone's last 4 digits, typed on an Arabic keypad.
    arabic = last4(booked[2]).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    by_number = await client.post(
        ARRIVALS,
        headers=desk,
        json={"tracking_number": booked[2].tracking_number, "phone_last4": arabic, "branch": "riyadh"},
    )
    assert by_number.status == 201 and (await by_number.json())["appointment_id"] == booked[2].appointment_id
    # 16 minutes after the slot's start (10:24) is late: still checked in, marked so.
    clock.set(at(29, 10, 40))
    late = await client.post(
        ARRIVALS, headers=desk, json={"appointment_id": booked[3].appointment_id, "branch": "riyadh"}
    )
    assert (await late.json())["late"] is True and (await late.json())["queue_number"] == 4
    assert await states(sessions, [b.appointment_id for b in booked]) == [AppointmentState.ARRIVED] * 4


async def test_each_refusal_names_its_rule_and_changes_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, released, absent = await booked_day(sessions, clock, count=3)
    clock.set(at(26, 10))
    await cancel(sessions, clock, released.appointment_id)

    def body(item: Booked, branch: str = "riyadh") -> dict[str, Any]:
        return {"appointment_id": item.appointment_id, "branch": branch}

    clock.set(at(28, 10))
    protocol = await as_staff(client, sessions, clock, Role.PROTOCOL, "protocol")
    await refused(await client.post(ARRIVALS, headers=protocol, json=body(first)), 409, "wrong_day")
    clock.set(at(29, 9, 45))
    protocol = await switch(client, "protocol")  # a session lasts hours, not days
    await refused(await client.post(ARRIVALS, headers=protocol, json=body(first, "jeddah")), 409, "wrong_branch")
    await refused(await client.post(ARRIVALS, headers=protocol, json=body(released)), 409, "not_live")
    assert await arrivals(sessions) == 0

    assert (await client.post(ARRIVALS, headers=protocol, json=body(first))).status == 201
    twice = await refused(await client.post(ARRIVALS, headers=protocol, json=body(first)), 409, "already_arrived")
    assert twice["messages"]["en"] == "Already checked in at 09:45, queue number 1."

    # What names no appointment is 404, however it is named.
    unknown: list[dict[str, Any]] = [
        {"appointment_id": 999_999},
        {"arrival_code": client.app[LINKS].arrival_code(999_999)},
        {"arrival_code": "12-3456"},
        {"arrival_code": "99999999999-12345678"},
        {"tracking_number": first.tracking_number, "phone_last4": "9999"},
        {"tracking_number": "not a number", "phone_last4": last4(first)},
        # A cancelled appointment is no longer today's to find by number.
        {"tracking_number": released.tracking_number, "phone_last4": last4(released)},
    ]
    for named in unknown:
        await refused(
            await client.post(ARRIVALS, headers=protocol, json={**named, "branch": "riyadh"}), 404, "no_appointment"
        )
    digits = {"tracking_number": absent.tracking_number, "phone_last4": "12", "branch": "riyadh"}
    await refused(await client.post(ARRIVALS, headers=protocol, json=digits), 422, "bad_phone_digits")

    clock.set(at(29, 12))
    await refused(await client.post(ARRIVALS, headers=protocol, json=body(absent)), 409, "session_over")
    assert await arrivals(sessions) == 1
    assert await states(sessions, [absent.appointment_id]) == [AppointmentState.SCHEDULED]


async def test_malformed_input_is_422_never_5xx(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    booked = await booked_day(sessions, clock, count=1)
    clock.set(at(29, 9, 45))
    desk = await as_staff(client, sessions, clock, Role.INTAKE_DESK, "desk")
    json_headers = {**desk, "Content-Type": "application/json"}

    def fields(body: dict[str, Any]) -> set[str]:
        return {f["field"] for f in body["fields"]}

    huge = "9" * 5000
    raw = await client.post(ARRIVALS, headers=json_headers, data=f'{{"appointment_id": {huge}, "branch": "riyadh"}}')
    # Refused at the edge (web/hostile_input.py) before Python converts it, naming the field.
    assert [(f["field"], f["code"]) for f in (await refused(raw, 422, "invalid_input"))["fields"]] == [
        ("appointment_id", "out_of_range")
    ]
    large = await client.post(ARRIVALS, headers=desk, json={"appointment_id": int("9" * 4000), "branch": "riyadh"})
    assert fields(await refused(large, 422, "invalid_input")) == {"appointment_id"}
    cases: list[tuple[Any, set[str]]] = [
        ({"appointment_id": "abc", "branch": "riyadh"}, {"appointment_id"}),
        ({"appointment_id": str(booked[0].appointment_id), "branch": "riyadh"}, {"appointment_id"}),
        ({"appointment_id": True, "branch": "riyadh"}, {"appointment_id"}),
        ({"appointment_id": booked[0].appointment_id}, {"branch"}),
        ({"appointment_id": booked[0].appointment_id, "branch": "mecca"}, {"branch"}),
        ({"appointment_id": booked[0].appointment_id, "branch": 7}, {"branch"}),
        ({"branch": "riyadh"}, {"body"}),
        ({"appointment_id": booked[0].appointment_id, "arrival_code": "1-2", "branch": "riyadh"}, {"body"}),
        ({"tracking_number": booked[0].tracking_number, "branch": "riyadh"}, {"phone_last4"}),
        ({"appointment_id": booked[0].appointment_id, "branch": "riyadh", "queue": 1}, {"queue"}),
        ([booked[0].appointment_id], {"body"}),
    ]
    for sent, named in cases:
        response = await client.post(ARRIVALS, headers=desk, json=sent)
        assert fields(await refused(response, 422, "invalid_input")) == named, sent
    not_json = await client.post(ARRIVALS, headers=json_headers, data="{appointment_id")
    await refused(not_json, 422, "invalid_input")
    assert await arrivals(sessions) == 0

    official = await as_staff(client, sessions, clock, Role.OFFICIAL, "official")
    call = f"{HALL}/{booked[0].session_id}/call-next"
    for sent in ({}, {"current_id": "1"}, {"current_id": int("9" * 4000)}, {"current_id": 0}):
        response = await client.post(call, headers=official, json=sent)
        assert fields(await refused(response, 422, "invalid_input")) == {"current_id"}, sent
    raw = await client.post(
        call, headers={**official, "Content-Type": "application/json"}, data=f'{{"current_id": {huge}}}'
    )
    await refused(raw, 422, "invalid_input")
    # Ids too large to name a row name nothing: refused at the edge (web/hostile_input.py), as every path id is.
    too_large = await client.post(f"{HALL}/{'9' * 30}/call-next", headers=official, json={"current_id": None})
    await refused(too_large, 404, "not_found")
    outcome = await client.post(f"/api/v1/hall/audiences/{'9' * 30}/outcome", headers=official, json={})
    await refused(outcome, 404, "not_found")

    manager = await as_staff(client, sessions, clock, Role.MANAGER, "manager")
    for day in ("29-11-2026", "2026-02-30", "x" * 5000):
        bad_day = await client.get(REPORT, headers=manager, params={"day": day})
        assert fields(await refused(bad_day, 422, "invalid_input")) == {"day"}


async def test_the_hall_through_the_api_calls_once_and_records_the_outcome(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=3)
    clock.set(at(29, 9, 50))
    desk = await as_staff(client, sessions, clock, Role.INTAKE_DESK, "desk")
    for item in booked[:2]:
        checked = await client.post(
            ARRIVALS, headers=desk, json={"appointment_id": item.appointment_id, "branch": "riyadh"}
        )
        assert checked.status == 201

    protocol = await as_staff(client, sessions, clock, Role.PROTOCOL, "protocol")
    day = await (await client.get(HALL, headers=protocol)).json()
    assert [(s["id"], s["branch"], s["current"]) for s in day] == [(booked[0].session_id, "riyadh", None)]
    line = day[0]["line"]
    assert [(i["queue_number"], i["tracking_number"], i["state"], i["waiting"]) for i in line] == [
        (1, booked[0].tracking_number, "arrived", True),
        (2, booked[1].tracking_number, "arrived", True),
    ]
    assert all(i["applicant_name"] and i["called_at"] is None and i["outcome"] is None for i in line)
    # Protocol sees the hall but does not call it; an administrator neither.
    call = f"{HALL}/{booked[0].session_id}/call-next"
    assert (await client.post(call, headers=protocol, json={"current_id": None})).status == 403
    admin = await as_staff(client, sessions, clock, Role.ADMINISTRATOR, "admin")
    assert (await client.post(call, headers=admin, json={"current_id": None})).status == 403
    await refused(
        await client.post(f"{HALL}/999999/call-next", headers=admin, json={"current_id": None}), 404, "no_session"
    )

    official = await as_staff(client, sessions, clock, Role.OFFICIAL, "official")
    clock.set(at(29, 10))
    first = await client.post(call, headers=official, json={"current_id": None})
    assert first.status == 200
    called = await first.json()
    assert called["moved"] is True and called["current"]["queue_number"] == 1
    assert called["current"]["tracking_number"] == booked[0].tracking_number
    # A second console pressing with what it showed (nobody): nobody else is called.
    stale = await (await client.post(call, headers=official, json={"current_id": None})).json()
    assert stale == {"moved": False, "current": called["current"]}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(HallAudience)) == 1

    audience = called["current"]["audience_id"]
    outcome = f"/api/v1/hall/audiences/{audience}/outcome"
    await refused(
        await client.post(outcome, headers=official, json={"outcome": "referred", "directive": "يحال"}),
        422,
        "departments_missing",
    )
    await refused(
        await client.post(outcome, headers=official, json={"outcome": "answered", "directive": "  "}),
        422,
        "directive_missing",
    )
    wrong = await client.post(outcome, headers=official, json={"outcome": "granted", "directive": "x"})
    assert {f["field"] for f in (await refused(wrong, 422, "invalid_input"))["fields"]} == {"outcome"}
    await refused(
        await client.post("/api/v1/hall/audiences/999999/outcome", headers=official, json={}), 404, "no_audience"
    )
    await add_department(sessions, "health", name_ar="وزارة الصحة", name_en="Ministry of Health")
    await add_department(sessions, "hrsd", name_ar="وزارة الموارد البشرية", name_en="Ministry of Human Resources")
    # Department codes, as an array or (the earlier form) one string; an unknown code is refused by name.
    for named in (["health", "وزارة الصحة"], "health، وزارة الصحة"):
        unknown = await client.post(
            outcome, headers=official, json={"outcome": "referred", "directive": "يحال", "referred_to": named}
        )
        [problem] = (await refused(unknown, 422, "invalid_input"))["fields"]
        assert problem["field"] == "referred_to" and "وزارة, الصحة" in problem["messages"]["ar"]
    too_many = await client.post(
        outcome, headers=official, json={"outcome": "referred", "directive": "يحال", "referred_to": ["x" * 41]}
    )
    assert [f["field"] for f in (await refused(too_many, 422, "invalid_input"))["fields"]] == ["referred_to"]
    listed = ", ".join(f"d{i}" for i in range(51))
    too_many = await client.post(
        outcome, headers=official, json={"outcome": "referred", "directive": "يحال", "referred_to": listed}
    )
    [problem] = (await refused(too_many, 422, "invalid_input"))["fields"]
    assert problem["messages"]["en"] == "Departments (for a referral) may hold at most 50 items."
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    clock.set(at(29, 10, 7))
    saved = await client.post(
        outcome,
        headers=official,
        json={"outcome": "referred", "directive": "يحال للمتابعة", "referred_to": ["health", "HRSD"]},
    )
    assert saved.status == 200, await saved.text()
    record = await saved.json()
    assert (record["audience_id"], record["tracking_number"], record["outcome"]) == (
        audience,
        booked[0].tracking_number,
        "referred",
    )
    assert record["referred_to"] == "health, hrsd" and record["outcome_at"] == "2026-11-29T07:07:00Z"
    async with sessions() as session:
        sent = list(await session.scalars(select(Referral).order_by(Referral.id)))
    assert [(r.case_id, r.directive) for r in sent] == [(booked[0].case_id, "يحال للمتابعة")] * 2
    assert await status(sessions, booked[0].case_id) == CaseStatus.REFERRED
    await refused(
        await client.post(outcome, headers=official, json={"outcome": "answered", "directive": "x"}),
        409,
        "outcome_recorded",
    )
    admin = await switch(client, "admin")
    admin_outcome = await client.post(outcome, headers=admin, json={"outcome": "answered", "directive": "x"})
    assert admin_outcome.status == 403  # the directive is the official's own
    official = await switch(client, "official")

    # The outcome ended the audience: a console still showing it calls nobody; the next press names none.
    clock.set(at(29, 10, 8))
    behind = await (await client.post(call, headers=official, json={"current_id": audience})).json()
    assert behind == {"moved": False, "current": None}
    moved = await (await client.post(call, headers=official, json={"current_id": None})).json()
    assert moved["moved"] is True and moved["current"]["queue_number"] == 2
    line = (await (await client.get(HALL)).json())[0]["line"]
    assert [(i["state"], i["outcome"], i["waiting"]) for i in line] == [
        ("held", "referred", False),
        ("in_audience", None, False),
    ]
    assert line[0]["called_at"] == "2026-11-29T07:00:00Z" and line[0]["ended_at"] == "2026-11-29T07:07:00Z"
    # Nobody left after the second: the press ends the audience and calls no one.
    last = await (
        await client.post(call, headers=official, json={"current_id": moved["current"]["audience_id"]})
    ).json()
    assert last == {"moved": True, "current": None}


async def test_the_days_report_gives_the_domains_figures(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=4)
    clock.set(at(26, 10))
    await cancel(sessions, clock, booked[3].appointment_id)
    clock.set(at(29, 9, 50))
    desk = await as_staff(client, sessions, clock, Role.INTAKE_DESK, "desk")
    for item in booked[:2]:
        await client.post(ARRIVALS, headers=desk, json={"appointment_id": item.appointment_id, "branch": "riyadh"})
    clock.set(at(29, 10, 32))  # booked[2]'s slot began at 10:16: late
    await client.post(ARRIVALS, headers=desk, json={"appointment_id": booked[2].appointment_id, "branch": "riyadh"})
    official = await as_staff(client, sessions, clock, Role.OFFICIAL, "official")
    call = f"{HALL}/{booked[0].session_id}/call-next"
    current = (await (await client.post(call, headers=official, json={"current_id": None})).json())["current"]
    clock.set(at(29, 10, 40))  # 8 minutes: over the 6 of the source documents
    done = await client.post(
        f"/api/v1/hall/audiences/{current['audience_id']}/outcome",
        headers=official,
        json={"outcome": "answered", "directive": "تُلبّى حاجته"},
    )
    assert done.status == 200
    await client.post(call, headers=official, json={"current_id": None})  # the second is called

    report = await client.get(REPORT, params={"day": "2026-11-29"})
    assert report.status == 200
    figures = await report.json()
    assert {
        k: figures[k] for k in ("appointments", "arrived", "on_time", "late", "held", "released", "in_audience")
    } == {
        "appointments": 4,
        "arrived": 3,
        "on_time": 2,
        "late": 1,
        "held": 1,
        "released": 1,
        "in_audience": 1,
    }
    assert figures["no_shows"] == 0 and figures["reference_minutes"] == 6.0
    assert figures["audiences"] == [
        {
            "tracking_number": booked[0].tracking_number,
            "mode": "in_person",
            "room": figures["audiences"][0]["room"],
            "queue_number": 1,
            "started_at": "2026-11-29T07:32:00Z",
            "ended_at": "2026-11-29T07:40:00Z",
            "minutes": 8.0,
            "over_reference": True,
        }
    ]
    assert (figures["mean_minutes"], figures["median_minutes"], figures["over_reference"]) == (8.0, 8.0, 1)
    async with sessions() as session:
        domain = await day_report(session=session, day=date(2026, 11, 29))
    assert figures["mean_wait_minutes"] == domain.mean_wait_minutes and domain.waits == [42.0, 50.0]
    # Today is the default; another day has nothing.
    assert (await (await client.get(REPORT)).json())["day"] == "2026-11-29"
    empty = await (await client.get(REPORT, params={"day": "2026-11-30"})).json()
    assert (empty["appointments"], empty["audiences"], empty["mean_minutes"]) == (0, [], None)


async def test_each_role_meets_only_its_audience_day_paths(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    booked = await booked_day(sessions, clock, count=1)
    clock.set(at(29, 9, 50))
    anonymous = await client.post(ARRIVALS, json={"appointment_id": booked[0].appointment_id, "branch": "riyadh"})
    await refused(anonymous, 401, "unauthorized")
    assert (await client.get(HALL)).status == 401 and (await client.get(REPORT)).status == 401

    desk = await as_staff(client, sessions, clock, Role.INTAKE_DESK, "desk")
    await refused(await client.get(HALL), 403, "forbidden")
    await refused(await client.get(REPORT), 403, "forbidden")
    body = {"appointment_id": booked[0].appointment_id, "branch": "riyadh"}
    # Without the X-CSRF-Token header the staff cookie is no authority.
    await refused(await client.post(ARRIVALS, json=body), 403, "forbidden")
    assert (await client.post(ARRIVALS, headers={"X-CSRF-Token": "forged"}, json=body)).status == 403
    assert await arrivals(sessions) == 0
    assert (await client.post(ARRIVALS, headers=desk, json=body)).status == 201

    official = await as_staff(client, sessions, clock, Role.OFFICIAL, "official")
    await refused(await client.post(ARRIVALS, headers=official, json=body), 403, "forbidden")
    assert (await client.get(HALL)).status == 200 and (await client.get(REPORT)).status == 200

    manager = await as_staff(client, sessions, clock, Role.MANAGER, "manager")
    assert (await client.get(REPORT, headers=manager)).status == 200
    await refused(await client.get(HALL), 403, "forbidden")
    call = f"{HALL}/{booked[0].session_id}/call-next"
    await refused(await client.post(call, headers=manager, json={"current_id": None}), 403, "forbidden")
    assert await arrivals(sessions) == 1


async def test_the_audience_day_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert paths["/api/v1/arrivals"]["post"]["responses"].keys() >= {"201", "401", "403", "404", "409", "422"}
    assert paths["/api/v1/hall/sessions/{session_id}/call-next"]["post"]["requestBody"]
    assert paths["/api/v1/hall/audiences/{audience_id}/outcome"]["post"]["responses"]["409"]
    assert paths["/api/v1/hall/sessions"]["get"]["responses"]["200"]
    assert paths["/api/v1/reports/day"]["get"]["parameters"][0]["name"] == "day"
    schemas = document["components"]["schemas"]
    assert {
        "ArrivalIn",
        "ArrivalOut",
        "HallSessionOut",
        "CallNextIn",
        "CallNextOut",
        "OutcomeIn",
        "DayReportOut",
    } <= set(schemas)
    assert schemas["ArrivalIn"]["required"] == ["branch"] and len(schemas["ArrivalIn"]["oneOf"]) == 3
