"""The agents' call queue of the emergency line, on its page and over JSON: who waits and who is owed a callback
(oldest first, the caller's number and country, Riyadh time), taking a callback, recording it called back with
a note; supervisors read, other roles are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from emergency import calls
from emergency.models import LineCall, LineCallState
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]
PAGE = "/emergency/calls"
API = "/api/v1/emergency/calls"
DUBAI = "+971501234567"
SYDNEY = "+61412345678"


async def arranged(sessions: Sessions, clock: FrozenClock) -> dict[str, int]:
    """A caller from Sydney missed 20 minutes ago, one from Dubai missed 10 minutes ago, one waiting now."""
    ids = {}
    for sid, caller, missed in (("CA-syd", SYDNEY, True), ("CA-dxb", DUBAI, True), ("CA-now", "+966501234567", False)):
        async with transaction(sessions) as session:
            call = await calls.record_call(session=session, clock=clock, call_sid=sid, caller=caller, language="ar")
            if missed:
                await calls.call_missed(session=session, clock=clock, call_sid=sid)
            ids[sid] = call.id
        clock.advance(timedelta(minutes=10))
    return ids


async def signed_in_as(client: Client, sessions: Sessions, clock: FrozenClock, role: Role, username: str) -> int:
    user = await make_staff(sessions, clock, role, username)
    await sign_in(client, username)
    return user.id


async def post_form(client: Client, path: str, **fields: str) -> Any:
    token = await csrf_token(client, PAGE)
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def api_headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}


async def state(sessions: Sessions, call_id: int) -> LineCall:
    async with sessions() as session:
        found = await session.scalar(select(LineCall).where(LineCall.id == call_id))
        assert found is not None
        return found


async def test_an_agent_sees_who_waits_and_the_callbacks_owed_oldest_first(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    ids = await arranged(sessions, clock)
    await signed_in_as(client, sessions, clock, Role.EMERGENCY_AGENT, "agent")
    response = await client.get(PAGE)
    assert response.status == 200
    html = await response.text()
    assert "مكالمات خط الطوارئ" in html and "بتوقيت الرياض" in html
    assert '<a href="/emergency/calls">مكالمات خط الطوارئ</a>' in html  # in the navigation
    waiting = html[html.index('id="waiting"') : html.index('id="callbacks-heading"')]
    assert "+966501234567" in waiting and SYDNEY not in waiting
    assert f'href="/emergency/reports/new?phone=%2B966501234567&amp;call={ids["CA-now"]}"' in waiting
    owed = html[html.index('id="callbacks-heading"') : html.index('id="done-heading"')]
    assert owed.index(SYDNEY) < owed.index(DUBAI)
    # The country of each number, and the caller's time now where the country keeps one zone (not Australia).
    assert "أستراليا" in owed and "الإمارات العربية المتحدة" in owed
    assert owed.count("الوقت المحلي لدى المتصل الآن") == 1
    assert f'action="/emergency/calls/{ids["CA-syd"]}/take"' in owed
    assert f'action="/emergency/calls/{ids["CA-syd"]}/called-back"' in owed
    assert f"/emergency/reports/new?phone=%2B61412345678&amp;call={ids['CA-syd']}" in owed
    # The caller's language named in its own language, marked as that language.
    assert '<span lang="ar">العربية</span>' in waiting and '<span lang="ar">العربية</span>' in owed


async def test_taking_a_callback_and_recording_it_called_back(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    ids = await arranged(sessions, clock)
    colleague = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "other")
    me = await signed_in_as(client, sessions, clock, Role.EMERGENCY_AGENT, "agent")
    sydney = ids["CA-syd"]
    taken = await post_form(client, f"{PAGE}/{sydney}/take")
    assert taken.status == 303 and taken.headers["Location"] == f"{PAGE}?done=take#call-{sydney}"
    assert (await state(sessions, sydney)).handled_by_id == me
    page = await (await client.get(f"{PAGE}?done=take")).text()
    assert "أُسندت إليكم معاودة الاتصال" in page
    # Without a note, or with a report number that names nothing: said in place, nothing saved.
    refused = await post_form(client, f"{PAGE}/{sydney}/called-back", note=" ", report_number="E26-999999-9")
    assert refused.status == 422
    text = await refused.text()
    assert "اكتبوا ما أسفرت عنه معاودة الاتصال." in text and "لا يوجد بلاغ طوارئ بهذا الرقم." in text
    assert f'id="note-{sydney}-error"' in text
    assert (await state(sessions, sydney)).state is LineCallState.MISSED
    done = await post_form(client, f"{PAGE}/{sydney}/called-back", note="Reached him; he is safe at the hotel.")
    assert done.status == 303
    call = await state(sessions, sydney)
    assert call.state is LineCallState.CALLED_BACK and call.note == "Reached him; he is safe at the hotel."
    html = await (await client.get(PAGE)).text()
    recent = html[html.index('id="done-heading"') :]
    assert "Reached him; he is safe at the hotel." in recent and SYDNEY in recent
    # Called back already: refused with the reason, the page shown again.
    again = await post_form(client, f"{PAGE}/{sydney}/called-back", note="again")
    assert again.status == 409 and "سبقت معاودة الاتصال بهذا المتصل." in await again.text()
    # A callback another agent took is theirs.
    async with transaction(sessions) as session:
        await calls.take_callback(session=session, clock=clock, call_id=ids["CA-dxb"], actor_id=colleague.id)
    refused_take = await post_form(client, f"{PAGE}/{ids['CA-dxb']}/take")
    assert refused_take.status == 409 and "معاودة هذا الاتصال من قبل" in await refused_take.text()
    # A call still waiting owes no callback; an unknown one is not there.
    waiting = await post_form(client, f"{PAGE}/{ids['CA-now']}/take")
    assert waiting.status == 409
    assert (await post_form(client, f"{PAGE}/999999/take")).status == 404
    assert (await post_form(client, f"{PAGE}/{'9' * 5000}/take")).status == 404


async def test_a_supervisor_reads_the_queue_without_acting_on_it(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    ids = await arranged(sessions, clock)
    await signed_in_as(client, sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    html = await (await client.get(PAGE)).text()
    assert SYDNEY in html and DUBAI in html
    assert "/take" not in html and "/called-back" not in html and "/emergency/reports/new" not in html
    assert (await post_form(client, f"{PAGE}/{ids['CA-syd']}/take")).status == 403
    listed = await client.get(API)
    assert listed.status == 200 and [c["caller"] for c in (await listed.json())["callbacks"]] == [SYDNEY, DUBAI]
    headers = await api_headers(client)
    assert (await client.post(f"{API}/{ids['CA-syd']}/take", headers=headers)).status == 403
    assert (await state(sessions, ids["CA-syd"])).handled_by_id is None


async def test_other_roles_are_refused(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    ids = await arranged(sessions, clock)
    await signed_in_as(client, sessions, clock, Role.MISSION_STAFF, "mission")
    assert (await client.get(PAGE)).status == 403
    assert (await post_form(client, f"{PAGE}/{ids['CA-syd']}/take")).status == 403
    refused = await client.get(API)
    assert refused.status == 403
    assert (await refused.json())["messages"]["en"] == "This page is not for your role."
    headers = await api_headers(client)
    body = {"note": "x"}
    assert (await client.post(f"{API}/{ids['CA-syd']}/called-back", json=body, headers=headers)).status == 403


async def test_the_api_lists_takes_and_records_callbacks(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    ids = await arranged(sessions, clock)
    me = await signed_in_as(client, sessions, clock, Role.EMERGENCY_AGENT, "agent")
    listed = await (await client.get(API)).json()
    assert [c["id"] for c in listed["waiting"]] == [ids["CA-now"]]
    assert [c["id"] for c in listed["callbacks"]] == [ids["CA-syd"], ids["CA-dxb"]]
    first = listed["callbacks"][0]
    assert first["state"] == "missed" and first["caller"] == SYDNEY and first["handled_by_id"] is None
    assert first["new_report_url"] == f"/emergency/reports/new?phone=%2B61412345678&call={ids['CA-syd']}"
    headers = await api_headers(client)
    sydney = ids["CA-syd"]
    taken = await client.post(f"{API}/{sydney}/take", headers=headers)
    assert taken.status == 200
    body = await taken.json()
    assert body["handled_by_id"] == me and body["handled_by"] == "Staff emergency_agent"
    bad = await client.post(f"{API}/{sydney}/called-back", json={"note": "", "extra": 1}, headers=headers)
    assert bad.status == 422
    assert {f["field"] for f in (await bad.json())["fields"]} == {"extra"}
    empty = await client.post(f"{API}/{sydney}/called-back", json={"note": "  "}, headers=headers)
    assert empty.status == 422
    [problem] = (await empty.json())["fields"]
    assert problem["field"] == "note" and problem["messages"]["en"] == "Write what came of the callback."
    done = await client.post(f"{API}/{sydney}/called-back", json={"note": "Reached; safe."}, headers=headers)
    assert done.status == 200 and (await done.json())["state"] == "called_back"
    again = await client.post(f"{API}/{sydney}/called-back", json={"note": "Again"}, headers=headers)
    assert again.status == 409 and (await again.json())["error"] == "already_called_back"
    missing = await client.post(f"{API}/999999/take", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"] == "line_call_not_found"
    listed = await (await client.get(API)).json()
    assert [c["id"] for c in listed["called_back"]] == [sydney]
    assert listed["called_back"][0]["note"] == "Reached; safe."


async def test_the_openapi_document_lists_the_call_queue(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert document["paths"][API]["get"]["operationId"] == "emergencyCalls"
    assert document["paths"][API + "/{call_id}/called-back"]["post"]["requestBody"]["content"]["application/json"]
    assert {"CalledBackIn", "LineCallOut", "CallQueueOut"} <= set(document["components"]["schemas"])
