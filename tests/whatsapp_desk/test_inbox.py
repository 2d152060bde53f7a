"""The staff inbox of the WhatsApp desk: hand-over, assignment, replies through the real dispatcher and the real
twilio library against the fake Twilio API (a WhatsApp message inside the 24-hour window, the approved template
outside it), hand-back, linking to a request, blocking; each staff step in the audit log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import audit
from accounts.roles import Role
from cases import service as cases
from cases.identity import luhn_check_digit
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import MessageStatus, OutboxMessage, WhatsAppContact
from tests.conftest import make_settings, start_client
from tests.factories import Client, csrf_token, details, make_staff, sign_in
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio, Inbound
from tests.whatsapp_desk.inbox_arrange import SENDER, handed_over
from web.keys import DISPATCHER, SESSIONS
from whatsapp_desk import inbox, inbox_lists, texts
from whatsapp_desk.models import Conversation, DeskMessage, Direction, HandoverReason, Step

Sessions = async_sessionmaker[AsyncSession]
DESK_REPLY_SID = "HX" + "d" * 32
URL = "http://127.0.0.1:8080/status"
OTHER_ID = "198765432" + luhn_check_digit("198765432")


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def live(database_url: str, clock: FrozenClock, twilio_api: FakeTwilio) -> AsyncIterator[Client]:
    settings = make_settings(
        database_url,
        notify_backend="providers",
        public_url="https://majlis.example",
        twilio_account_sid=FAKE_ACCOUNT_SID,
        twilio_auth_token=FAKE_AUTH_TOKEN,
        twilio_api_base=twilio_api.base_url,
        twilio_whatsapp_from="+966110000000",
        twilio_voice_from="+966110000001",
        whatsapp_templates={inbox.DESK_REPLY_TEMPLATE: DESK_REPLY_SID},
    )
    client = await start_client(create_app(settings, clock=clock))
    yield client
    await client.close()


@pytest.fixture
def sessions(live: Client) -> Sessions:
    return live.app[SESSIONS]


async def conversation(sessions: Sessions, conversation_id: int) -> Conversation:
    async with sessions() as session:
        return await session.get_one(Conversation, conversation_id)


async def actions(sessions: Sessions, conversation_id: int) -> list[tuple[str, int | None]]:
    async with sessions() as session:
        rows = await audit.for_target(session=session, target_type=inbox.AUDITED, target_id=conversation_id)
    return [(row.action, row.actor_id) for row in rows]


async def test_a_hand_over_waits_in_the_inbox_once_and_keeps_its_place(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(minutes=30))
    first = await conversation(sessions, arranged.conversation_id)
    assert first.step is Step.STAFF and first.handover_reason is HandoverReason.ASKED
    assert first.needs_staff_since == clock.now() - timedelta(minutes=30)

    # The bot hands it over again (a file could not be read): still waiting since the first time, for the first reason.
    async with transaction(sessions) as session:
        again = await session.get_one(Conversation, arranged.conversation_id)
        await inbox.hand_over(session=session, clock=clock, conversation=again, reason=HandoverReason.MEDIA)
    second = await conversation(sessions, arranged.conversation_id)
    assert (second.step, second.needs_staff_since, second.handover_reason) == (
        Step.STAFF,
        first.needs_staff_since,
        HandoverReason.ASKED,
    )


async def test_the_inbox_lists_the_longest_waiting_first_then_mine_then_recent(
    sessions: Sessions, clock: FrozenClock
) -> None:
    me = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    newer = await handed_over(sessions, clock, phone="+966500000001", ago=timedelta(minutes=5))
    older = await handed_over(sessions, clock, phone="+966500000002", ago=timedelta(hours=2))
    held = await handed_over(sessions, clock, phone="+966500000003", ago=timedelta(hours=1))
    done = await handed_over(sessions, clock, phone="+966500000004", ago=timedelta(hours=3))
    async with transaction(sessions) as session:
        await inbox.assign(
            session=session, clock=clock, conversation_id=held.conversation_id, staff_id=me.id, actor_id=me.id
        )
        await inbox.hand_back(session=session, clock=clock, conversation_id=done.conversation_id, actor_id=me.id)
    async with sessions() as session:
        found = await inbox_lists.inbox(session=session, reader_id=me.id)
    assert [line.conversation.id for line in found.waiting] == [older.conversation_id, newer.conversation_id]
    assert [line.conversation.id for line in found.mine] == [held.conversation_id]
    assert found.mine[0].assignee == "Staff whatsapp_desk"
    assert [line.conversation.id for line in found.recent] == [done.conversation_id]
    # Each line shows the last thing said: the bot's promise of a person.
    assert found.waiting[0].last_message is not None
    assert found.waiting[0].last_message.body == "سيرد عليكم أحد موظفينا هنا"


async def test_assignment_goes_to_a_member_of_the_desk_only(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock)
    lead = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "lead")
    member = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "member")
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    for wrong in (auditor.id, 999_999):
        with pytest.raises(InvalidInput) as refused:
            async with transaction(sessions) as session:
                await inbox.assign(
                    session=session,
                    clock=clock,
                    conversation_id=arranged.conversation_id,
                    staff_id=wrong,
                    actor_id=lead.id,
                )
        assert [e.field for e in refused.value.errors] == ["staff_id"]
    assert (await conversation(sessions, arranged.conversation_id)).assigned_to_id is None

    async with transaction(sessions) as session:
        await inbox.assign(
            session=session, clock=clock, conversation_id=arranged.conversation_id, staff_id=member.id, actor_id=lead.id
        )
    assert (await conversation(sessions, arranged.conversation_id)).assigned_to_id == member.id
    assert await actions(sessions, arranged.conversation_id) == [("whatsapp.assigned", lead.id)]
    with pytest.raises(inbox.ConversationNotFound):
        async with transaction(sessions) as session:
            await inbox.assign(
                session=session, clock=clock, conversation_id=424242, staff_id=member.id, actor_id=lead.id
            )


async def test_a_reply_inside_the_window_goes_as_a_whatsapp_message(
    live: Client, sessions: Sessions, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(hours=23))
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    text = "السلام عليكم، اطلعنا على رسالتكم.\nسنتابع طلبكم اليوم."
    async with transaction(sessions) as session:
        message = await inbox.reply(
            session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id, text=f"  {text} "
        )
    assert (message.direction, message.body, message.sent_as, message.staff_id) == (
        Direction.OUTBOUND,
        text,
        "session",
        staff.id,
    )

    report = await live.app[DISPATCHER].run_once()
    assert report.sent == 1 and report.failed == 0
    [sent] = twilio_api.accepted
    assert sent.params["To"] == f"whatsapp:{SENDER}" and sent.params["From"] == "whatsapp:+966110000000"
    assert sent.params["Body"] == text
    assert "ContentSid" not in sent.params and "ContentVariables" not in sent.params
    async with sessions() as session:
        row = await session.get_one(OutboxMessage, message.outbox_id)
    assert (row.channel, row.status, row.provider_id, row.payload["sent_as"]) == (
        "whatsapp",
        MessageStatus.SENT,
        sent.sid,
        "session",
    )
    # Whoever answers holds the conversation, and it stays with staff.
    after = await conversation(sessions, arranged.conversation_id)
    assert (after.step, after.assigned_to_id, after.last_outbound_at) == (Step.STAFF, staff.id, clock.now())
    assert await actions(sessions, arranged.conversation_id) == [("whatsapp.replied", staff.id)]


async def test_a_reply_outside_the_window_goes_as_the_approved_template(
    live: Client, sessions: Sessions, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(hours=24, minutes=1))
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    async with transaction(sessions) as session:
        message = await inbox.reply(
            session=session,
            clock=clock,
            conversation_id=arranged.conversation_id,
            actor_id=staff.id,
            text="نعتذر عن التأخر.\n\nتمت معالجة طلبكم.",
        )
    assert message.sent_as == "template"

    assert (await live.app[DISPATCHER].run_once()).sent == 1
    [sent] = twilio_api.accepted
    assert sent.params["ContentSid"] == DESK_REPLY_SID and "Body" not in sent.params
    # A template's variable holds the text on one line.
    assert json.loads(sent.params["ContentVariables"]) == {"1": "نعتذر عن التأخر. تمت معالجة طلبكم."}
    async with sessions() as session:
        row = await session.get_one(OutboxMessage, message.outbox_id)
    assert row.payload["sent_as"] == "template" and row.payload["template"] == "desk_reply"


async def test_a_reply_written_in_the_window_and_sent_after_it_closed_goes_as_the_template(
    live: Client, sessions: Sessions, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(hours=23, minutes=59))
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    async with transaction(sessions) as session:
        message = await inbox.reply(
            session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id, text="شكرًا لكم"
        )
    assert message.sent_as == "session"
    clock.advance(timedelta(minutes=2))
    await live.app[DISPATCHER].run_once()
    [sent] = twilio_api.accepted
    # The dispatcher decides when it sends: WhatsApp would refuse free text now.
    assert sent.params["ContentSid"] == DESK_REPLY_SID and json.loads(sent.params["ContentVariables"]) == {
        "1": "شكرًا لكم"
    }
    # And the desk reads how it went, not how it was meant to go.
    await sign_in(live, "desk1")
    shown = await (await live.get(f"/api/v1/whatsapp/conversations/{arranged.conversation_id}")).json()
    assert (shown["messages"][-1]["sent_as"], shown["messages"][-1]["delivery"]) == ("template", "sent")
    page = await (await live.get(f"/whatsapp/{arranged.conversation_id}")).text()
    assert "قالب معتمد (خارج نافذة الأربع والعشرين ساعة)" in page


async def test_replies_that_could_not_reach_the_sender_are_refused_before_anything_is_written(
    sessions: Sessions, clock: FrozenClock
) -> None:
    arranged = await handed_over(sessions, clock, ago=timedelta(days=2))
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")

    async def reply(text: str = "مرحبا", *, template_available: bool = True) -> None:
        async with transaction(sessions) as session:
            await inbox.reply(
                session=session,
                clock=clock,
                conversation_id=arranged.conversation_id,
                actor_id=staff.id,
                text=text,
                template_available=template_available,
            )

    with pytest.raises(InvalidInput) as empty:
        await reply("   ")
    assert [(e.field, e.code) for e in empty.value.errors] == [("message", "missing")]
    with pytest.raises(InvalidInput) as long:
        await reply("x" * (inbox.MAX_REPLY + 1))
    assert [(e.field, e.code) for e in long.value.errors] == [("message", "too_long")]
    with pytest.raises(inbox.InboxRefused) as closed:
        await reply(template_available=False)
    assert closed.value.code == "window_closed"
    async with transaction(sessions) as session:
        contact = await session.get_one(WhatsAppContact, SENDER)
        contact.opted_out_at = clock.now()
    with pytest.raises(inbox.InboxRefused) as stopped:
        await reply()
    assert stopped.value.code == "opted_out"
    async with sessions() as session:
        outbound = await session.scalar(select(DeskMessage).where(DeskMessage.staff_id.is_not(None)))
        queued = await session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp"))
    assert outbound is None and queued is None


async def test_hand_back_returns_the_conversation_to_the_bot(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await handed_over(sessions, clock)
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    async with transaction(sessions) as session:
        await inbox.reply(
            session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id, text="تم، شكرًا"
        )
        await inbox.hand_back(session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id)
    after = await conversation(sessions, arranged.conversation_id)
    assert (after.step, after.needs_staff_since, after.handover_reason, after.assigned_to_id) == (
        Step.IDLE,
        None,
        None,
        None,
    )
    assert [a for a, _ in await actions(sessions, arranged.conversation_id)] == [
        "whatsapp.replied",
        "whatsapp.handed_back",
    ]


async def test_linking_documents_the_exchange_in_the_request(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        earlier = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        case = (
            await cases.submit(session=session, clock=clock, details=details(subject="طلب آخر"), status_url=URL)
        ).case
    # The first two messages belonged to an earlier request, a day before; the rest are this hand-over's.
    arranged = await handed_over(sessions, clock)
    async with transaction(sessions) as session:
        for message_id in arranged.message_ids[:2]:
            message = await session.get_one(DeskMessage, message_id)
            message.case_id, message.at = earlier.id, message.at - timedelta(days=1)
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")

    with pytest.raises(InvalidInput) as unknown:
        async with transaction(sessions) as session:
            await inbox.link_case(
                session=session,
                clock=clock,
                conversation_id=arranged.conversation_id,
                tracking_number="26-999999-9",
                actor_id=staff.id,
            )
    assert [(e.field, e.code) for e in unknown.value.errors] == [("tracking_number", "unknown")]

    async with transaction(sessions) as session:
        await inbox.link_case(
            session=session,
            clock=clock,
            conversation_id=arranged.conversation_id,
            tracking_number=case.tracking_number,
            actor_id=staff.id,
        )
        # Two replies to one request: each its own outbox row.
        for text in ("تم ربط محادثتكم بطلبكم", "وسنفيدكم بالمستجدات"):
            await inbox.reply(
                session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id, text=text
            )
    async with sessions() as session:
        documented = await inbox_lists.messages_of_case(session=session, case_id=case.id)
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp")))
    assert [m.id for m in documented[:2]] == arranged.message_ids[2:]
    async with sessions() as session:
        assert [m.id for m in await inbox_lists.messages_of_case(session=session, case_id=earlier.id)] == (
            arranged.message_ids[:2]
        )
    assert [m.body for m in documented[2:]] == ["تم ربط محادثتكم بطلبكم", "وسنفيدكم بالمستجدات"]
    assert [m.staff_id for m in documented] == [None, None, staff.id, staff.id]
    assert [r.case_id for r in rows] == [case.id, case.id]
    assert (await conversation(sessions, arranged.conversation_id)).case_id == case.id
    assert ("whatsapp.linked", staff.id) in await actions(sessions, arranged.conversation_id)


async def test_only_a_request_of_the_sender_can_be_linked(sessions: Sessions, clock: FrozenClock) -> None:
    stranger_phone, other_phone = "+966559876543", "+966551112222"
    async with transaction(sessions) as session:
        stranger = (
            await cases.submit(
                session=session,
                clock=clock,
                details=details(
                    applicant_phone=stranger_phone, applicant_national_id=OTHER_ID, applicant_name="سالم الدوسري"
                ),
                status_url=URL,
            )
        ).case
        # The sender's own applicant record, once given with another phone: still the sender's request.
        theirs = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        by_other_phone = (
            await cases.submit(
                session=session,
                clock=clock,
                details=details(applicant_phone=other_phone, subject="طلب سابق"),
                status_url=URL,
            )
        ).case
    assert theirs.applicant_id == by_other_phone.applicant_id and by_other_phone.phone == other_phone
    arranged = await handed_over(sessions, clock)
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")

    async def link(number: str) -> None:
        async with transaction(sessions) as session:
            await inbox.link_case(
                session=session,
                clock=clock,
                conversation_id=arranged.conversation_id,
                tracking_number=number,
                actor_id=staff.id,
            )

    with pytest.raises(InvalidInput) as refused:
        await link(stranger.tracking_number)
    assert [(e.field, e.code) for e in refused.value.errors] == [("tracking_number", "not_the_senders")]
    after = await conversation(sessions, arranged.conversation_id)
    assert after.case_id is None
    async with sessions() as session:
        assert await inbox_lists.messages_of_case(session=session, case_id=stranger.id) == []
    assert await actions(sessions, arranged.conversation_id) == []
    await link(by_other_phone.tracking_number)
    assert (await conversation(sessions, arranged.conversation_id)).case_id == by_other_phone.id


async def test_a_blocked_sender_leaves_the_inbox_and_gets_no_reply_until_unblocked(
    sessions: Sessions, clock: FrozenClock
) -> None:
    arranged = await handed_over(sessions, clock)
    staff = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")

    async def step(action: str, **kwargs: str) -> None:
        async with transaction(sessions) as session:
            perform = getattr(inbox, action)
            await perform(
                session=session, clock=clock, conversation_id=arranged.conversation_id, actor_id=staff.id, **kwargs
            )

    with pytest.raises(InvalidInput) as no_reason:
        await step("block", reason=" ")
    assert [e.field for e in no_reason.value.errors] == ["reason"]
    await step("block", reason="رسائل مسيئة متكررة")
    blocked = await conversation(sessions, arranged.conversation_id)
    assert (blocked.blocked_at, blocked.blocked_by_id, blocked.block_reason) == (
        clock.now(),
        staff.id,
        "رسائل مسيئة متكررة",
    )
    assert (blocked.needs_staff_since, blocked.step) == (None, Step.IDLE)
    with pytest.raises(inbox.InboxRefused) as refused:
        await step("reply", text="مرحبا")
    assert refused.value.code == "sender_blocked"
    with pytest.raises(inbox.InboxRefused):
        await step("block", reason="مرة أخرى")

    await step("unblock")
    unblocked = await conversation(sessions, arranged.conversation_id)
    assert (unblocked.blocked_at, unblocked.blocked_by_id, unblocked.block_reason) == (None, None, "")
    with pytest.raises(inbox.InboxRefused) as again:
        await step("unblock")
    assert again.value.code == "not_blocked"
    assert await actions(sessions, arranged.conversation_id) == [
        ("whatsapp.blocked", staff.id),
        ("whatsapp.unblocked", staff.id),
    ]


async def test_talk_to_staff_through_the_webhook_then_staff_replies_inside_and_outside_the_window(
    live: Client, sessions: Sessions, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    sender = Inbound(live, "https://majlis.example", FAKE_AUTH_TOKEN)
    await sender.whatsapp("السلام عليكم")
    assert "موظفينا" in await sender.whatsapp("4")
    # While staff hold it the bot says nothing; the message waits in the inbox with the rest.
    assert "<Message>" not in await sender.whatsapp("أود الاستفسار عن موعد مقابلتي")
    await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    await sign_in(live, "desk1")
    [waiting] = (await (await live.get("/api/v1/whatsapp/conversations")).json())["waiting"]
    assert (waiting["phone"], waiting["handover_reason"]) == (SENDER, "asked")
    assert waiting["last_message"] == "أود الاستفسار عن موعد مقابلتي"

    page = f"/whatsapp/{waiting['id']}"
    token = await csrf_token(live, page)
    answered = await live.post(page + "/reply", data={"csrf_token": token, "message": "موعدكم يوم الأحد القادم."})
    assert answered.status == 200 and "ردّك في طريقه إلى المرسِل." in await answered.text()
    await live.app[DISPATCHER].run_once()
    assert [r.params.get("Body") for r in twilio_api.accepted] == ["موعدكم يوم الأحد القادم."]

    clock.advance(timedelta(hours=25))
    await sign_in(live, "desk1")  # a new day, a new sign-in
    token = await csrf_token(live, page)
    late_reply = await live.post(page + "/reply", data={"csrf_token": token, "message": "هل من جديد لديكم؟"})
    assert late_reply.status == 200 and "القالب المعتمد" in await late_reply.text()
    await live.app[DISPATCHER].run_once()
    late = twilio_api.accepted[-1].params
    assert late["ContentSid"] == DESK_REPLY_SID and "Body" not in late
    assert json.loads(late["ContentVariables"]) == {"1": "هل من جديد لديكم؟"}

    # Handed back, the sender's next message gets the menu again.
    assert (await live.post(page + "/hand-back", data={"csrf_token": token})).status == 200
    menu = await sender.whatsapp("شكرًا")
    assert f"1. {texts.text('ar', texts.MENU_NEW_REQUEST)}" in menu and "1. تقديم طلب جديد" in menu
    async with sessions() as session:
        back = await session.get_one(Conversation, waiting["id"])
    assert back.needs_staff_since is None and back.step is Step.MENU
