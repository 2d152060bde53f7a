"""The audit desk's identity review through its pages and its API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Applicant, ApplicantChange, Case, IdentityFlag
from majlis.clock import FrozenClock
from tests.factories import Client, api_payload, csrf_token, form_data, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once

Sessions = async_sessionmaker[AsyncSession]

# Someone typing Noura's ID number (the factories' applicant) with his own name and phone.
OTHER = {"applicant_name": "خالد سعد الشهري", "applicant_gender": "male", "applicant_phone": "+966551112223"}


async def submit(client: Client, **overrides: object) -> str:
    response = await client.post("/api/v1/requests", json=api_payload(**overrides))
    assert response.status == 201, await response.text()
    return str((await response.json())["tracking_number"])


async def api_token(client: Client) -> str:
    return str((await (await client.get("/api/v1/session")).json())["csrf_token"])


async def record(sessions: Sessions) -> Applicant:
    async with sessions() as session:
        found = await session.scalar(select(Applicant).execution_options(populate_existing=True))
    assert found is not None
    return found


async def test_the_desk_reads_the_flag_settles_it_and_decides_the_change_on_the_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submit(client)
    other = await submit(client, subject="طلب آخر", **OTHER)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    queue = await (await client.get("/audit")).text()
    assert 'id="identity-reviews"' in queue and f"/audit/cases/{other}#identity-review" in queue
    assert f"/audit/cases/{first}#identity-review" not in queue
    page = await (await client.get(f"/audit/cases/{other}")).text()
    assert "الاسم المذكور في الطلب يختلف عن الاسم المسجل لرقم الهوية هذا." in page
    assert 'id="given-name"><bdi>خالد سعد الشهري</bdi>' in page and 'id="known-name"><bdi>نورة عبدالله</bdi>' in page
    assert "identity-flag" not in await (await client.get(f"/audit/cases/{first}")).text()

    token = await csrf_token(client, f"/audit/cases/{other}")
    base = f"/audit/cases/{other}"
    empty = await client.post(f"{base}/identity-flag/review", data={"note": " ", "csrf_token": token})
    assert empty.status == 422
    html = await empty.text()
    assert 'id="note-error"' in html and "ملاحظة" in html
    settled = await client.post(
        f"{base}/identity-flag/review",
        data={"note": "رقم هوية شخص آخر", "csrf_token": token},
        allow_redirects=False,
    )
    await shown_once(client, settled, f"بُتَّ في التحقق من الاسم في الطلب {isolated(other)}.")
    page = await (await client.get(base)).text()
    assert 'id="identity-flag-settled"' in page and "رقم هوية شخص آخر" in page and "Staff audit_desk" in page
    again = await client.post(f"{base}/identity-flag/review", data={"note": "مرة أخرى", "csrf_token": token})
    assert again.status == 422 and "سبقت مراجعة الاسم الوارد في هذا الطلب." in await again.text()

    verified = await client.post(f"{base}/verify", data={"csrf_token": token}, allow_redirects=False)
    assert verified.status == 303
    assert (await record(sessions)).name == "نورة عبدالله"  # verifying changed nothing on the record
    async with sessions() as session:
        change = await session.scalar(select(ApplicantChange))
    assert change is not None
    page = await (await client.get(base)).text()
    assert "تعديل مقترح على سجل مقدم الطلب" in page
    assert "<td><bdi>نورة عبدالله</bdi></td><td><bdi>خالد سعد الشهري</bdi></td>" in page
    assert '<td dir="ltr"><bdi>+966501234567</bdi></td><td dir="ltr"><bdi>+966551112223</bdi></td>' in page
    assert f'id="accept-change-{change.id}"' in page and f'id="decline-change-{change.id}"' in page
    declined = await client.post(
        f"{base}/applicant-changes/{change.id}/decline", data={"csrf_token": token}, allow_redirects=False
    )
    await shown_once(client, declined, f"رُفض تعديل المراجع على الطلب {isolated(other)}.")
    assert (await record(sessions)).phone == "+966501234567"
    page = await (await client.get(base)).text()
    assert "وبقي السجل على حاله" in page and f'id="accept-change-{change.id}"' not in page
    late = await client.post(f"{base}/applicant-changes/{change.id}/accept", data={"csrf_token": token})
    assert late.status == 422 and "سبق البت في هذا التعديل المقترح." in await late.text()
    assert (await record(sessions)).name == "نورة عبدالله"
    unknown = await client.post(f"{base}/applicant-changes/abc/accept", data={"csrf_token": token})
    assert unknown.status == 422 and "لا يوجد لهذا الطلب تعديل مقترح بهذا الرقم." in await unknown.text()
    assert 'id="identity-reviews"' not in await (await client.get("/audit")).text()


async def test_a_flag_from_the_desk_form_and_acceptance_on_the_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await submit(client)
    await make_staff(sessions, clock, Role.INTAKE_DESK, "intake")
    await sign_in(client, "intake")
    token = await csrf_token(client, "/desk")
    data = form_data(**{"applicant.name": "Khalid Alshehri", "applicant.phone": "0551112223", "csrf_token": token})
    taken = await client.post("/desk/requests", data={**data, "channel": "whatsapp"}, allow_redirects=False)
    assert taken.status in (200, 303), await taken.text()
    async with sessions() as session:
        flag = await session.scalar(select(IdentityFlag))
    assert flag is not None and (flag.given_name, flag.known_name) == ("Khalid Alshehri", "نورة عبدالله")

    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    async with sessions() as session:
        tracking = await session.scalar(
            select(Case.tracking_number).join(IdentityFlag, IdentityFlag.case_id == Case.id)
        )
    base = f"/audit/cases/{tracking}"
    token = await csrf_token(client, base)
    assert (await client.post(f"{base}/verify", data={"csrf_token": token}, allow_redirects=False)).status == 303
    async with sessions() as session:
        change = await session.scalar(select(ApplicantChange))
    assert change is not None
    clock.advance(timedelta(minutes=3))
    accepted = await client.post(
        f"{base}/applicant-changes/{change.id}/accept", data={"csrf_token": token}, allow_redirects=False
    )
    await shown_once(client, accepted, f"قُبل تعديل المراجع على الطلب {isolated(str(tracking))}.")
    applicant = await record(sessions)
    assert (applicant.name, applicant.phone) == ("Khalid Alshehri", "+966551112223")
    assert "قبله Staff audit_desk" in await (await client.get(base)).text()


async def test_the_api_shows_and_decides_for_the_audit_desk_only(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await submit(client)
    phone_only = await submit(client, subject="ثان", applicant_phone="+966509998887")
    other = await submit(client, subject="ثالث", **OTHER)

    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    assert (await client.get(f"/api/v1/requests/{other}/identity")).status == 403
    assert (await client.get("/api/v1/triage/identity-reviews")).status == 403

    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = await api_token(client)
    headers = {"X-CSRF-Token": token, "Accept-Language": "en"}
    reviews = await (await client.get("/api/v1/triage/identity-reviews")).json()
    assert [(r["tracking_number"], r["flag_open"], r["open_changes"]) for r in reviews] == [(other, True, 0)]
    shown = await (await client.get(f"/api/v1/requests/{other}/identity", headers=headers)).json()
    assert shown["flag"]["given_name"] == "خالد سعد الشهري" and shown["flag"]["known_name"] == "نورة عبدالله"
    assert shown["flag"]["reviewed"] is False and shown["changes"] == []

    for body, field in (({"note": ""}, "note"), ({"note": "x" * 501}, "note"), ({"remark": "x"}, "remark")):
        bad = await client.post(f"/api/v1/requests/{other}/identity-flag/review", json=body, headers=headers)
        assert bad.status == 422
        answer = await bad.json()
        assert field in [f["field"] for f in answer["fields"]]
        assert answer["messages"]["ar"] and answer["messages"]["en"]
    forged = await client.post(f"/api/v1/requests/{other}/identity-flag/review", json={"note": "ok"})
    assert forged.status == 403
    settled = await client.post(
        f"/api/v1/requests/{other}/identity-flag/review", json={"note": "Someone else's ID"}, headers=headers
    )
    assert settled.status == 200
    flag = (await settled.json())["flag"]
    assert flag["reviewed"] and flag["reviewed_by"] == "Staff audit_desk" and flag["review_note"] == "Someone else's ID"
    again = await client.post(f"/api/v1/requests/{other}/identity-flag/review", json={"note": "x"}, headers=headers)
    assert again.status == 409 and (await again.json())["error"] == "identity_flag_reviewed"
    no_flag = await client.post(
        f"/api/v1/requests/{phone_only}/identity-flag/review", json={"note": "x"}, headers=headers
    )
    assert no_flag.status == 404

    for number in (phone_only, other):
        verified = await client.post(f"/api/v1/triage/{number}/verify", headers=headers)
        assert verified.status == 200
    changes = {}
    for number in (phone_only, other):
        body = await (await client.get(f"/api/v1/requests/{number}/identity", headers=headers)).json()
        (changes[number],) = body["changes"]
    assert changes[other]["state"] == "open" and changes[other]["proposed_by"] == "Staff audit_desk"
    fields = {f["field"]: f for f in changes[other]["fields"]}
    assert fields["name"] == {
        "field": "name",
        "label": "Full name",
        "on_record": "نورة عبدالله",
        "as_given": "خالد سعد الشهري",
    }
    assert fields["gender"]["on_record"] == "female" and fields["gender"]["as_given"] == "male"
    reviews = await (await client.get("/api/v1/triage/identity-reviews")).json()
    assert {(r["tracking_number"], r["open_changes"]) for r in reviews} == {(phone_only, 1), (other, 1)}

    wrong_case = await client.post(
        f"/api/v1/requests/{phone_only}/applicant-changes/{changes[other]['id']}/accept", headers=headers
    )
    assert wrong_case.status == 404 and (await wrong_case.json())["error"] == "applicant_change_not_found"
    missing = await client.post("/api/v1/requests/26-999999-0/applicant-changes/1/accept", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"] == "case_not_found"
    clock.advance(timedelta(minutes=5))
    accepted = await client.post(
        f"/api/v1/requests/{phone_only}/applicant-changes/{changes[phone_only]['id']}/accept", headers=headers
    )
    assert accepted.status == 200 and (await accepted.json())["changes"][0]["state"] == "accepted"
    assert (await record(sessions)).phone == "+966509998887"
    clock.advance(timedelta(minutes=5))
    stale = await client.post(
        f"/api/v1/requests/{other}/applicant-changes/{changes[other]['id']}/accept", headers=headers
    )
    assert stale.status == 409
    refusal = await stale.json()
    assert refusal["error"] == "applicant_change_out_of_date"
    assert refusal["messages"]["ar"].startswith("تغيّر سجل مقدم الطلب") and "not applied" in refusal["message"]
    applicant = await record(sessions)
    assert (applicant.name, applicant.phone) == ("نورة عبدالله", "+966509998887")
    declined = await client.post(
        f"/api/v1/requests/{other}/applicant-changes/{changes[other]['id']}/decline", headers=headers
    )
    assert declined.status == 200 and (await declined.json())["changes"][0]["state"] == "declined"
    assert await (await client.get("/api/v1/triage/identity-reviews")).json() == []


async def test_the_identity_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    assert paths["/api/v1/requests/{tracking_number}/identity"]["get"]["responses"]["200"]
    review = paths["/api/v1/requests/{tracking_number}/identity-flag/review"]["post"]
    assert review["requestBody"] and review["responses"].keys() >= {"200", "401", "403", "404", "409", "422"}
    accept = paths["/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/accept"]["post"]
    assert "409" in accept["responses"]
    assert paths["/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/decline"]["post"]
    assert paths["/api/v1/triage/identity-reviews"]["get"]
    assert {"ReviewIn", "IdentityOut", "OpenReviewOut"} <= set(document["components"]["schemas"])
