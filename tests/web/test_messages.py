"""Messages needing attention: listed with their error and SMS cost; sent again, or marked sent when uncertain;
each reader sees in full only the messages of the requests within their need to know, and the emergency line's
messages are the consular supervisor's alone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, PersonalDataAccess
from accounts.roles import Role
from cases import service as cases
from cases.models import Case
from followup import mailing
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify import outbox
from notify.links import AnswerLink
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import LINK, answer_link_payload
from notify.texts import sms_segments
from tests.factories import Client, csrf_token, details, make_staff, sign_in
from web.keys import LINKS

Sessions = async_sessionmaker[AsyncSession]
LONG_ARABIC = (
    "موعد مقابلة الطلب 26-000001-7: الأحد 29 نوفمبر 2026 م في قاعة المجلس. للتأكيد أو التغيير أو الإلغاء: " + LINK
)


async def message(sessions: Sessions, clock: FrozenClock, purpose: str, status: MessageStatus, **fields: Any) -> int:
    async with transaction(sessions) as session:
        row = await outbox.enqueue(
            session=session,
            clock=clock,
            purpose=purpose,
            channel=fields.pop("channel", "sms"),
            recipient=fields.pop("recipient", "+966501234567"),
            language="ar",
            body=fields.pop("body", "تم استلام طلبكم."),
            payload=fields.pop("payload", None),
        )
        row.status = status
        row.attempts = fields.pop("attempts", 1)
        for name, value in fields.items():
            setattr(row, name, value)
        return row.id


async def a_request(sessions: Sessions, clock: FrozenClock, entered_by: int | None = None) -> int:
    """A request received through the portal, or entered by this member of the desk or call centre."""
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url="http://x/status")).case
        case.entered_by_id = entered_by
        return case.id


async def get(sessions: Sessions, message_id: int) -> OutboxMessage:
    async with sessions() as session:
        return await session.get_one(OutboxMessage, message_id)


def row_of(page: str, message_id: int) -> str:
    found = re.search(rf'<tr id="message-{message_id}">(.*?)</tr>', page, re.S)
    assert found, f"message {message_id} is not listed"
    return found.group(1)


async def test_failed_uncertain_and_undelivered_messages_are_listed_with_their_cost(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    entered = await a_request(sessions, clock, entered_by=caller.id)
    link = answer_link_payload(appointment_id=7, expires_at=clock.now() + timedelta(days=5))
    failed = await message(
        sessions,
        clock,
        "confirm:7:sms",
        MessageStatus.FAILED,
        case_id=entered,
        body=LONG_ARABIC,
        payload=link,
        attempts=8,
        error_code="21211",
        last_error="Twilio answered HTTP 400 (error 21211): invalid 'To' number",
    )
    uncertain = await message(sessions, clock, "invite:7", MessageStatus.UNCERTAIN, channel="email", case_id=entered)
    clock.advance(timedelta(minutes=1))
    undelivered = await message(
        sessions,
        clock,
        "scheduled:7",
        MessageStatus.SENT,
        delivery_status="undelivered",
        error_code="30003",
        case_id=entered,
    )
    fine = await message(sessions, clock, "receipt", MessageStatus.SENT, delivery_status="delivered")
    pending = await message(sessions, clock, "confirmed:7", MessageStatus.PENDING)
    await sign_in(client, "caller")
    response = await client.get("/messages")
    page = await response.text()
    assert response.status == 200
    shown = [int(i) for i in re.findall(r'<tr id="message-(\d+)">', page)]
    assert shown == [undelivered, uncertain, failed]  # newest first
    assert fine not in shown and pending not in shown
    first = row_of(page, failed)
    assert "21211" in first and "invalid &#39;To&#39; number" in first and "confirm:7:sms" in first
    # Counted with the signed link the applicant receives, not the short marker stored in the body.
    sent_body = LONG_ARABIC.replace(
        LINK,
        client.app[LINKS].answer_page(
            AnswerLink(appointment_id=7, expires_at=datetime.fromisoformat(link["answer_link"]["expires_at"]))
        ),
    )
    assert sms_segments(sent_body) == 3 and sms_segments(LONG_ARABIC) == 2  # Arabic: 67 characters a part
    assert re.search(rf'class="segments"><bdi dir="ltr" class="ltr">{sms_segments(sent_body)}</bdi></td>', first)
    assert re.search(r'class="segments"></td>', row_of(page, uncertain))  # e-mail: no segments
    assert "30003" in row_of(page, undelivered)
    assert "mark-sent" in row_of(page, uncertain) and "mark-sent" not in first


async def test_sending_again_puts_the_message_back_in_the_queue(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    failed = await message(
        sessions, clock, "receipt", MessageStatus.FAILED, attempts=8, error_code="gave_up", last_error="timeout"
    )
    undelivered = await message(
        sessions,
        clock,
        "scheduled:1",
        MessageStatus.SENT,
        provider_id="SMold",
        delivery_status="undelivered",
        error_code="30003",
        last_error="unreachable",
    )
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    clock.advance(timedelta(hours=2))
    token = await csrf_token(client, "/messages")
    for message_id in (failed, undelivered):
        response = await client.post(f"/messages/{message_id}/retry", data={"csrf_token": token})
        assert response.status == 200 and 'id="notice"' in await response.text()
        row = await get(sessions, message_id)
        assert row.status is MessageStatus.PENDING and row.next_attempt_at == clock.now() and row.attempts == 0
        assert row.error_code is None and row.last_error is None and row.delivery_status is None
        assert row.provider_id is None
    async with sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "message.retry")))
    assert {(e.actor_id, e.target_id, e.details["status"]) for e in entries} == {
        (protocol.id, str(failed), "failed"),
        (protocol.id, str(undelivered), "sent"),
    }
    # Now pending: nothing to send again.
    again = await client.post(f"/messages/{failed}/retry", data={"csrf_token": token})
    assert again.status == 409 and "لا يُعاد إرسال" in await again.text()
    assert (await client.post("/messages/999999/retry", data={"csrf_token": token})).status == 404
    # A confirmation request whose audience has begun is not sent again: its link no longer works.
    link = answer_link_payload(appointment_id=1, expires_at=clock.now())
    stale = await message(sessions, clock, "confirm:1:sms", MessageStatus.FAILED, payload=link, error_code="30003")
    refused = await client.post(f"/messages/{stale}/retry", data={"csrf_token": token})
    assert refused.status == 409 and "لا تُرسل مجددًا" in await refused.text()
    assert (await get(sessions, stale)).status is MessageStatus.FAILED


async def test_only_an_uncertain_message_can_be_marked_sent(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    entered = await a_request(sessions, clock, entered_by=caller.id)
    failed = await message(sessions, clock, "scheduled:3", MessageStatus.FAILED, error_code="21211", case_id=entered)
    uncertain = await message(
        sessions, clock, "invite:3", MessageStatus.UNCERTAIN, channel="email", claimed_at=clock.now(), case_id=entered
    )
    await sign_in(client, "caller")
    token = await csrf_token(client, "/messages")
    refused = await client.post(f"/messages/{failed}/mark-sent", data={"csrf_token": token})
    assert refused.status == 409 and "لا تُسجَّل مُرسلةً إلا رسالة لا يُعرف مصيرها" in await refused.text()
    assert (await get(sessions, failed)).status is MessageStatus.FAILED
    marked = await client.post(f"/messages/{uncertain}/mark-sent", data={"csrf_token": token})
    assert marked.status == 200
    row = await get(sessions, uncertain)
    assert row.status is MessageStatus.SENT and row.sent_at == clock.now()
    assert f'id="message-{uncertain}"' not in await marked.text()


async def test_other_roles_cannot_see_messages(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    assert (await client.get("/messages")).status == 403


async def test_each_reader_sees_in_full_only_the_messages_its_work_needs(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    supervisor = await make_staff(sessions, clock, Role.CONSULAR_SUPERVISOR, "supervisor")
    own, other = await a_request(sessions, clock, entered_by=caller.id), await a_request(sessions, clock)
    mine = await message(sessions, clock, "scheduled:1", MessageStatus.FAILED, case_id=own, recipient="+966500000001")
    # A department's e-mail about a request the call centre does not reach: its address quoted in the error too.
    theirs = await message(
        sessions,
        clock,
        "followup:new:5:liaison@dept.gov.sa",
        MessageStatus.UNCERTAIN,
        channel="email",
        case_id=other,
        recipient="liaison@dept.gov.sa",
        body="إحالة جديدة",
        last_error="refused: liaison@dept.gov.sa",
    )
    monthly = await message(
        sessions, clock, mailing.PURPOSE, MessageStatus.FAILED, channel="email", recipient="head@dept.gov.sa"
    )
    desk_reply = await message(
        sessions, clock, "whatsapp_desk_reply:9", MessageStatus.FAILED, recipient="+966500000003"
    )
    alert = await message(sessions, clock, "emergency:1:1:0:sms", MessageStatus.FAILED, recipient="+966500000004")

    await sign_in(client, "caller")
    page = await (await client.get("/messages")).text()
    shown = {int(i) for i in re.findall(r'<tr id="message-(\d+)">', page)}
    assert shown == {mine, theirs, monthly, desk_reply}  # the alert is the supervisor's
    async with sessions() as session:
        own_number = (await session.get_one(Case, own)).tracking_number
        other_number = (await session.get_one(Case, other)).tracking_number
    assert "+966500000001" in row_of(page, mine) and own_number in row_of(page, mine)
    assert "head@dept.gov.sa" in row_of(page, monthly)
    hidden = row_of(page, theirs)
    assert "غير معروض" in hidden and "liaison@" not in hidden and other_number not in hidden
    assert ">followup<" in hidden and "mark-sent" not in hidden and "/retry" in hidden
    assert "+966500000003" not in row_of(page, desk_reply) and "غير معروض" in row_of(page, desk_reply)
    await client.get("/messages")  # read again within the hour: logged once
    async with sessions() as session:
        views = list(await session.scalars(select(PersonalDataAccess)))
    assert [(v.staff_id, v.case_id, v.via) for v in views] == [(caller.id, own, "GET /messages")]

    token = await csrf_token(client, "/messages")
    # Sent again all the same (nothing read, nothing decided), never marked sent, and the alert is not there.
    assert (await client.post(f"/messages/{theirs}/mark-sent", data={"csrf_token": token})).status == 404
    assert (await get(sessions, theirs)).status is MessageStatus.UNCERTAIN
    assert (await client.post(f"/messages/{alert}/retry", data={"csrf_token": token})).status == 404
    assert (await get(sessions, alert)).status is MessageStatus.FAILED
    assert (await client.post(f"/messages/{theirs}/retry", data={"csrf_token": token})).status == 200
    assert (await get(sessions, theirs)).status is MessageStatus.PENDING

    await sign_in(client, "supervisor")
    page = await (await client.get("/messages")).text()
    assert {int(i) for i in re.findall(r'<tr id="message-(\d+)">', page)} == {alert}
    assert "+966500000004" in row_of(page, alert)
    token = await csrf_token(client, "/messages")
    assert (await client.post(f"/messages/{mine}/retry", data={"csrf_token": token})).status == 404
    assert (await client.post(f"/messages/{alert}/retry", data={"csrf_token": token})).status == 200
    async with sessions() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "message.retry")))
    assert {(e.actor_id, e.target_id) for e in entries} == {(caller.id, str(theirs)), (supervisor.id, str(alert))}


async def test_an_administrator_sees_no_applicant_in_the_messages(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    failed = await message(
        sessions, clock, "scheduled:2", MessageStatus.FAILED, case_id=await a_request(sessions, clock)
    )
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    row = row_of(await (await client.get("/messages")).text(), failed)
    assert "+966501234567" not in row and "غير معروض" in row


async def test_the_list_reads_right_in_arabic_and_is_one_card_per_message_on_a_phone(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """The channel by its name, the provider's English error marked as English, codes and counts left to right,
    and every cell labelled for the card it becomes below 64rem (web/static/messages.css)."""
    caller = await make_staff(sessions, clock, Role.CALL_CENTRE, "caller")
    case_id = await a_request(sessions, clock, entered_by=caller.id)
    failed = await message(
        sessions,
        clock,
        "scheduled:7",
        MessageStatus.FAILED,
        case_id=case_id,
        channel="whatsapp",
        attempts=8,
        error_code="63016",
        last_error="Twilio answered HTTP 400: outside the allowed window",
    )
    await sign_in(client, "caller")
    page = await (await client.get("/messages?lang=ar")).text()
    row = row_of(page, failed)
    assert '<table id="messages" class="messages-list">' in page and "messages.css" in page
    cells = re.findall(r"<td( [^>]*)?>", row)
    assert cells and all('data-label="' in attributes for attributes in cells)
    channel = re.search(r'<td data-label="[^"]+">(.*?)</td>', row, re.S)
    assert channel and channel.group(1) == "واتساب"
    assert '<bdi dir="ltr" lang="en">Twilio answered HTTP 400: outside the allowed window</bdi>' in row
    assert '<strong><bdi dir="ltr" class="ltr">63016</bdi></strong>' in row
    assert '<bdi dir="ltr" class="ltr">8</bdi>' in row
    unknown = await message(sessions, clock, "scheduled:8", MessageStatus.FAILED, case_id=case_id, channel="fax")
    page = await (await client.get("/messages?lang=en")).text()
    assert '<bdi dir="ltr" class="ltr">fax</bdi>' in row_of(page, unknown)  # a channel with no name: its code
