"""The WhatsApp desk's inbox through its pages and its JSON API: the waiting list, a conversation with its files,
a reply, assignment, hand-back, linking (the exchange in the request's history), blocking with a confirmation;
every refusal named, nothing half-saved; other roles refused."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess, StaffUser
from accounts.roles import Role
from cases import service as cases
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.factories import PASSWORD, Client, csrf_token, details, make_staff, sign_in
from tests.whatsapp_desk.inbox_arrange import SENDER, handed_over, with_media
from web.keys import ATTACHMENTS
from whatsapp_desk import inbox_lists
from whatsapp_desk.models import Conversation, DeskMessage, Step

Sessions = async_sessionmaker[AsyncSession]
URL = "http://127.0.0.1:8080/status"
API = "/api/v1/whatsapp/conversations"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def desk_member(client: Client, sessions: Sessions, clock: FrozenClock, username: str = "wa") -> StaffUser:
    member = await make_staff(sessions, clock, Role.WHATSAPP_DESK, username)
    await sign_in(client, username)
    return member


async def post_form(client: Client, path: str, **fields: str) -> Any:
    token = await csrf_token(client, "/whatsapp")
    return await client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def api_headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": (await (await client.get("/api/v1/session")).json())["csrf_token"]}


async def a_case(sessions: Sessions, clock: FrozenClock) -> tuple[int, str]:
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        return case.id, case.tracking_number


async def test_a_desk_member_lands_on_the_inbox_and_sees_who_waits(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    older = await handed_over(sessions, clock, phone="+966500000002", ago=timedelta(hours=2))
    newer = await handed_over(sessions, clock, phone="+966500000001", ago=timedelta(minutes=5))
    await make_staff(sessions, clock, Role.WHATSAPP_DESK, "wa")
    token = await csrf_token(client)
    signed = await client.post(
        "/login", data={"username": "wa", "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert signed.headers["Location"] == "/whatsapp"

    page = await client.get("/whatsapp")
    assert page.status == 200
    html = await page.text()
    assert "صندوق واتساب" in html and 'dir="rtl"' in html
    assert html.index(f"conversation-{older.conversation_id}") < html.index(f"conversation-{newer.conversation_id}")
    assert "طلب التحدث إلى موظف" in html and "لم تُسنَد بعد" in html
    # The staff navigation leads here, and the home page names the role.
    assert 'href="/whatsapp"' in html
    assert "مكتب واتساب" in await (await client.get("/staff")).text()


async def test_reading_and_replying_to_a_conversation(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock)
    stored = await client.app[ATTACHMENTS].put(io.BytesIO(PDF))
    media_id = await with_media(sessions, arranged, stored.key)
    member = await desk_member(client, sessions, clock)

    page = await client.get(f"/whatsapp/{arranged.conversation_id}")
    html = await page.text()
    assert page.status == 200 and SENDER in html and "أرغب في التحدث إلى موظف بخصوص طلبي" in html
    assert "رسالة واتساب (كتب المرسِل" in html  # inside the 24-hour window
    download = await client.get(f"/whatsapp/{arranged.conversation_id}/media/{media_id}")
    assert download.status == 200 and await download.read() == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    # A file is reached only through its own conversation.
    other = await handed_over(sessions, clock, phone="+966500000009")
    assert (await client.get(f"/whatsapp/{other.conversation_id}/media/{media_id}")).status == 404

    empty = await post_form(client, f"/whatsapp/{arranged.conversation_id}/reply", message="  ")
    assert empty.status == 422
    assert "حقل «الرسالة» مطلوب." in await empty.text()

    sent = await post_form(client, f"/whatsapp/{arranged.conversation_id}/reply", message="أهلًا، كيف نخدمكم؟")
    assert sent.status == 303
    assert sent.headers["Location"] == f"/whatsapp/{arranged.conversation_id}?done=reply#result"
    after = await (await client.get(sent.headers["Location"])).text()
    assert "ردّك في طريقه إلى المرسِل." in after
    assert "رد الموظف Staff whatsapp_desk" in after and "بانتظار الإرسال" in after
    async with sessions() as session:
        reply = await session.scalar(select(DeskMessage).where(DeskMessage.staff_id == member.id))
        conversation = await session.get_one(Conversation, arranged.conversation_id)
    assert reply is not None and reply.sent_as == "session" and reply.outbox_id is not None
    assert conversation.assigned_to_id == member.id


async def test_assign_hand_back_and_the_block_asks_for_a_confirmation(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    arranged = await handed_over(sessions, clock)
    colleague = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "colleague")
    await desk_member(client, sessions, clock)
    base = f"/whatsapp/{arranged.conversation_id}"

    assigned = await post_form(client, base + "/assign", staff_id=str(colleague.id))
    assert assigned.status == 303
    assert "أُسندت المحادثة." in await (await client.get(assigned.headers["Location"])).text()
    wrong = await post_form(client, base + "/assign", staff_id="abc")
    assert wrong.status == 422 and "يجب أن يكون الموظف من موظفي مكتب واتساب العاملين." in await wrong.text()

    unconfirmed = await post_form(client, base + "/block", reason="إساءة")
    assert unconfirmed.status == 422
    assert "ضع علامة في المربع لتأكيد حظر هذا المرسِل." in await unconfirmed.text()
    async with sessions() as session:
        assert (await session.get_one(Conversation, arranged.conversation_id)).blocked_at is None
    blocked = await post_form(client, base + "/block", reason="إساءة", confirm="yes")
    assert blocked.status == 303
    page = await (await client.get(blocked.headers["Location"])).text()
    assert "حُظر المرسِل" in page and 'id="reply-form"' not in page and 'id="unblock-form"' in page
    refused = await post_form(client, base + "/reply", message="مرحبا")
    assert refused.status == 409 and "هذا المرسِل محظور" in await refused.text()
    assert (await post_form(client, base + "/unblock")).status == 303

    await post_form(client, base + "/reply", message="مرحبا")
    handed_back = await post_form(client, base + "/hand-back")
    assert handed_back.status == 303
    async with sessions() as session:
        conversation = await session.get_one(Conversation, arranged.conversation_id)
    assert (conversation.step, conversation.needs_staff_since) == (Step.IDLE, None)
    assert (await client.get("/whatsapp/999999")).status == 404


async def test_a_linked_conversation_shows_in_the_request_history(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    arranged = await handed_over(sessions, clock)
    _, number = await a_case(sessions, clock)
    await desk_member(client, sessions, clock)
    base = f"/whatsapp/{arranged.conversation_id}"
    unknown = await post_form(client, base + "/link", tracking_number="26-999999-9")
    assert unknown.status == 422 and "لا يوجد طلب يحمل رقم المتابعة هذا." in await unknown.text()
    assert (await post_form(client, base + "/link", tracking_number=number)).status == 303
    # The request's number without a link: its pages are other desks' (the desk would be refused there).
    page = await (await client.get(base)).text()
    assert f'<bdi dir="ltr" class="ltr">{number}</bdi>' in page and "/cases?" not in page
    clock.advance(timedelta(minutes=1))
    await post_form(client, base + "/reply", message="تم ربط محادثتكم بطلبكم")

    # The audit desk reads the request's history, the exchange in it; the conversation itself stays closed to it.
    await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    await sign_in(client, "auditor")
    history = await (await client.get(f"/cases?tracking_number={number}")).text()
    assert history.count('class="whatsapp-step"') == 5
    assert "رسالة واتساب من مقدم الطلب" in history and "رد المكتب الآلي عبر واتساب" in history
    assert "رد موظف عبر واتساب" in history and "Staff whatsapp_desk" in history
    assert history.index("أرغب في التحدث إلى موظف") < history.index("تم ربط محادثتكم بطلبكم")
    assert (await client.get(base)).status == 403


async def test_the_api_reads_and_acts(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(hours=30))
    _, number = await a_case(sessions, clock)
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    member = await desk_member(client, sessions, clock)
    headers = await api_headers(client)
    one = f"{API}/{arranged.conversation_id}"

    listed = await (await client.get(API)).json()
    assert [c["id"] for c in listed["waiting"]] == [arranged.conversation_id]
    assert listed["waiting"][0]["handover_reason"] == "asked" and listed["assigned_to_me"] == []
    shown = await (await client.get(one)).json()
    assert shown["window_open"] is False and len(shown["messages"]) == 4
    assert shown["messages"][0] == {
        "id": arranged.message_ids[0],
        "direction": "inbound",
        "body": "مرحبا",
        "at": shown["messages"][0]["at"],
        "sent_as": "",
        "staff_id": None,
        "staff": "",
        "delivery": None,
        "delivery_status": None,
        "case_id": None,
        "media": [],
    }

    replied = await client.post(one + "/reply", json={"message": "نعتذر عن التأخر"}, headers=headers)
    assert replied.status == 200
    body = await replied.json()
    last = body["messages"][-1]
    assert (last["sent_as"], last["staff"], last["delivery"]) == ("template", "Staff whatsapp_desk", "pending")
    assert body["assigned_to_id"] == member.id
    listed = await (await client.get(API)).json()
    assert [c["id"] for c in listed["assigned_to_me"]] == [arranged.conversation_id]

    bad = await client.post(one + "/reply", json={"message": "x", "extra": 1}, headers=headers)
    assert bad.status == 422 and (await bad.json())["fields"][0]["field"] == "extra"
    not_desk = await client.post(one + "/assign", json={"staff_id": auditor.id}, headers=headers)
    assert not_desk.status == 422
    problem = (await not_desk.json())["fields"][0]
    assert problem["field"] == "staff_id" and problem["messages"]["en"] == (
        "Member of staff must be an active member of the WhatsApp desk."
    )
    linked = await client.post(one + "/link", json={"tracking_number": number}, headers=headers)
    assert linked.status == 200 and (await linked.json())["tracking_number"] == number
    blocked = await client.post(one + "/block", json={"reason": "إساءة"}, headers=headers)
    assert blocked.status == 200 and (await blocked.json())["blocked"] is True
    refused = await client.post(one + "/reply", json={"message": "مرحبا"}, headers=headers)
    assert refused.status == 409 and (await refused.json())["error"] == "sender_blocked"
    assert (await client.post(one + "/unblock", headers=headers)).status == 200
    handed_back = await client.post(one + "/hand-back", json={}, headers=headers)
    assert handed_back.status == 200 and (await handed_back.json())["step"] == "idle"
    missing = await client.post(f"{API}/999999/hand-back", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"] == "conversation_not_found"
    # Without the header the staff cookie is no authority.
    assert (await client.post(one + "/unblock")).status == 403
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp")))
    assert len(rows) == 1 and rows[0].payload["template"] == "desk_reply"


async def test_other_roles_cannot_read_conversations(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock)
    for role in (Role.AUDIT_DESK, Role.FOLLOW_UP, Role.CALL_CENTRE, Role.MANAGER):
        username = role.value.replace("_", "")
        await make_staff(sessions, clock, role, username)
        await sign_in(client, username)
        assert (await client.get("/whatsapp")).status == 403
        assert (await client.get(f"/whatsapp/{arranged.conversation_id}")).status == 403
        refused = await client.get(f"{API}/{arranged.conversation_id}")
        assert refused.status == 403 and (await refused.json())["error"] == "forbidden"
        assert 'href="/whatsapp"' not in await (await client.get("/staff")).text()


async def test_an_id_of_thousands_of_digits_names_no_conversation(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    arranged = await handed_over(sessions, clock)
    await desk_member(client, sessions, clock)
    headers = await api_headers(client)
    # Past Python's 4,300 digits int() refuses the text: still simply not there, on every route.
    huge = "9" * 5000
    assert (await client.get(f"/whatsapp/{huge}")).status == 404
    assert (await client.get(f"/whatsapp/{huge}/media/1")).status == 404
    assert (await post_form(client, f"/whatsapp/{huge}/hand-back")).status == 404
    # The API's refusal comes from the edge (web/hostile_input.py), as for every id in a path beyond INTEGER.
    missing = await client.get(f"{API}/{huge}")
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"
    acted = await client.post(f"{API}/{huge}/hand-back", headers=headers)
    assert acted.status == 404 and (await acted.json())["error"] == "not_found"
    # A member of staff named by such a number is no member of the desk.
    assign = await client.post(f"{API}/{arranged.conversation_id}/assign", json={"staff_id": huge}, headers=headers)
    assert assign.status == 422 and (await assign.json())["fields"][0]["field"] == "staff_id"
    form = await post_form(client, f"/whatsapp/{arranged.conversation_id}/assign", staff_id=huge)
    assert form.status == 422


async def test_the_page_names_the_language_and_isolates_its_numbers(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    arranged = await handed_over(sessions, clock, language="en")
    stored = await client.app[ATTACHMENTS].put(io.BytesIO(PDF))
    await with_media(sessions, arranged, stored.key)
    async with transaction(sessions) as session:
        # The sender sent three files with the first message; one is kept, two are not (never received, or let
        # go when no request was made of them).
        (await session.get_one(DeskMessage, arranged.message_ids[0])).media_count = 3
    monkeypatch.setattr(inbox_lists, "SHOWN_MESSAGES", 2)
    await desk_member(client, sessions, clock)

    html = await (await client.get(f"/whatsapp/{arranged.conversation_id}")).text()
    assert '<dd id="conversation-language"><span lang="en">English</span></dd>' in html
    # What the sender wrote is set apart, aligned by its own first letter (bdi.free-text in majlis.css).
    assert '<p class="message-body"><bdi class="free-text">' in html
    assert "تُعرض أحدث \u20682\u2069 رسالة، والرسائل الأقدم (\u20682\u2069) محفوظة." in html
    english = await (await client.get(f"/whatsapp/{arranged.conversation_id}", params={"lang": "en"})).text()
    assert "Showing the latest \u20682\u2069 messages; \u20682\u2069 earlier ones are kept." in english

    monkeypatch.setattr(inbox_lists, "SHOWN_MESSAGES", 300)
    html = await (await client.get(f"/whatsapp/{arranged.conversation_id}", params={"lang": "ar"})).text()
    assert "evidence.pdf" in html
    assert "لا تُحفظ هنا الملفات المرسلة مع هذه الرسالة وعددها \u20682\u2069: إما أنها لم تُستلم" in html
    assert html.count('class="hint media-not-kept"') == 1


async def test_an_administrator_finds_no_conversation_and_the_desk_s_views_are_logged(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """Need to know: administrators pass the role guard but read no conversation (an empty inbox, 404 for one,
    its files and its actions); the desk's views of a conversation linked to a request are in the access log."""
    linked = await handed_over(sessions, clock)
    unlinked = await handed_over(sessions, clock, phone="+966500000009")
    case_id, _ = await a_case(sessions, clock)
    stored = await client.app[ATTACHMENTS].put(io.BytesIO(PDF))
    media_id = await with_media(sessions, linked, stored.key)
    async with transaction(sessions) as session:
        (await session.get_one(Conversation, linked.conversation_id)).case_id = case_id

    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    headers = await api_headers(client)
    listed = await client.get(API)
    nothing = {"waiting": [], "assigned_to_me": [], "recent": [], "waiting_total": 0, "page": 1, "pages": 1}
    assert listed.status == 200 and await listed.json() == {**nothing, "per_page": 50}
    page = await client.get("/whatsapp")
    assert page.status == 200 and f"conversation-{linked.conversation_id}" not in await page.text()
    one = linked.conversation_id
    assert (await client.get(f"/whatsapp/{one}")).status == 404
    assert (await client.get(f"/whatsapp/{one}/media/{media_id}")).status == 404
    assert (await post_form(client, f"/whatsapp/{one}/hand-back")).status == 404
    shown = await client.get(f"{API}/{one}")
    assert shown.status == 404 and (await shown.json())["error"] == "conversation_not_found"
    acted = await client.post(f"{API}/{one}/reply", json={"message": "x"}, headers=headers)
    assert acted.status == 404
    async with sessions() as session:
        assert (await session.get_one(Conversation, one)).step is Step.STAFF
        assert list(await session.scalars(select(PersonalDataAccess))) == []

    member = await desk_member(client, sessions, clock)
    assert f"conversation-{one}" in await (await client.get("/whatsapp")).text()
    assert (await client.get(f"/whatsapp/{one}")).status == 200
    assert (await client.get(f"{API}/{one}")).status == 200
    assert (await client.get(f"/whatsapp/{one}/media/{media_id}")).status == 200
    assert (await client.get(f"/whatsapp/{unlinked.conversation_id}")).status == 200
    async with sessions() as session:
        rows = list(await session.scalars(select(PersonalDataAccess).order_by(PersonalDataAccess.id)))
    assert {(r.staff_id, r.case_id) for r in rows} == {(member.id, case_id)}
    assert [r.via for r in rows] == [
        "GET /whatsapp",
        "GET /whatsapp/{conversation_id}",
        "GET /api/v1/whatsapp/conversations/{conversation_id}",
        "GET /whatsapp/{conversation_id}/media/{media_id}",
    ]
