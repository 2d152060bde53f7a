"""The demo's WhatsApp desk: its staff account (`whatsapp`), a conversation handed over to staff and waiting in
the inbox, and a finished conversation that made a request, documented in that request's history.

The messages are written as the desk writes them (rows of the conversation, the hand-over through
whatsapp_desk.inbox), on moments counted back from when the demo runs; the request goes through intake like any
other, on channel whatsapp. A conversation already there is left as it is, so running the demo again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from cases import service as cases
from cases.intake import check_request
from cases.models import Case, Channel
from majlis.clock import Clock, FrozenClock
from notify.models import WhatsAppContact
from whatsapp_desk import inbox
from whatsapp_desk.models import Conversation, DeskMessage, Direction, HandoverReason, Step

USERNAME = "whatsapp"
FULL_NAME = "منى الشمري"
WAITING_PHONE = "+966503330201"
FINISHED_PHONE = "+966503330202"

MENU = (
    "مرحبًا بكم في مكتب الاستقبال والتواصل على واتساب. كيف نخدمكم؟\n"
    "1. طلب جديد\n2. شكوى\n3. متابعة طلب\n4. التحدث إلى موظف"
)
# Each exchange: (minutes before the demo's moment, who speaks: "in" the sender, "out" the bot, the words).
WAITING = (
    (42, "in", "السلام عليكم"),
    (42, "out", MENU),
    (41, "in", "4"),
    (41, "out", "شكرًا لكم. سيرد عليكم أحد موظفينا هنا في أقرب وقت."),
    (40, "in", "أرغب في معرفة هل يمكن لابني حضور المقابلة نيابة عني، فأنا مريض ولا أستطيع الحضور."),
)  # fmt: skip
FINISHED_APPLICANT = {
    "kind": "citizen", "id_number": "1000000131", "name": "نايف سعود العتيبي", "gender": "male",
    "phone": FINISHED_PHONE, "language": "ar",
}  # fmt: skip
FINISHED_REQUEST = {
    "kind": "complaint", "subject": "انقطاع المياه عن الحي",
    "text": "انقطعت المياه عن حي الملقا منذ خمسة أيام دون إشعار أو موعد لعودتها.", "branch": "riyadh",
}  # fmt: skip
# The finished conversation, three hours before the demo's moment; the last answer is the tracking number.
FINISHED = (
    (185, "in", "مرحبا"),
    (185, "out", MENU),
    (184, "in", "2"),
    (184, "out", "فضلًا أرسلوا اسمكم الكامل كما في الهوية."),
    (183, "in", "نايف سعود العتيبي"),
    (183, "out", "فضلًا أرسلوا رقم الهوية الوطنية (يبدأ بالرقم 1) أو رقم الإقامة (يبدأ بالرقم 2)."),
    (182, "in", "١٠٠٠٠٠٠١٣١"),
    (182, "out", "فضلًا أرسلوا موضوع الشكوى في كلمات قليلة."),
    (181, "in", "انقطاع المياه عن الحي"),
    (181, "out", "فضلًا اكتبوا الشكوى كاملة."),
    (180, "in", "انقطعت المياه عن حي الملقا منذ خمسة أيام دون إشعار أو موعد لعودتها."),
    (180, "out", "يرجى مراجعة الطلب، ثم أرسلوا 1 لإرساله."),
    (179, "in", "1"),
)  # fmt: skip


@dataclass(frozen=True)
class WhatsAppShown:
    """What `majlis demo` prints of the WhatsApp desk."""

    waiting_conversation_id: int
    # The request the finished conversation made; its history shows the exchange.
    tracking_number: str


async def load(*, session: AsyncSession, clock: Clock, status_url: str, password: str) -> WhatsAppShown:
    """Adds the desk's account and its two conversations unless they are there already."""
    if await accounts.user_by_username(session=session, username=USERNAME) is None:
        await accounts.create_user(
            session=session,
            clock=clock,
            username=USERNAME,
            full_name=FULL_NAME,
            role=Role.WHATSAPP_DESK,
            gender="female",
            password=password,
        )
    now = clock.now()
    waiting = await _conversation(session, WAITING_PHONE)
    if waiting is None:
        waiting = await _write(session, WAITING_PHONE, WAITING, now=now, case_id=None)
        asked_at = now - timedelta(minutes=WAITING[2][0])
        await inbox.hand_over(
            session=session, clock=FrozenClock(asked_at), conversation=waiting, reason=HandoverReason.ASKED
        )
    finished = await _conversation(session, FINISHED_PHONE)
    if finished is None:
        submitted_at = now - timedelta(minutes=FINISHED[-1][0])
        details = check_request(FINISHED_APPLICANT, FINISHED_REQUEST, channel=Channel.WHATSAPP)
        submission = await cases.submit(
            session=session, clock=FrozenClock(submitted_at), details=details, status_url=status_url
        )
        case = submission.case
        thanks = (
            FINISHED[-1][0],
            "out",
            f"شكرًا لكم. استلمنا طلبكم برقم المتابعة {case.tracking_number}، وسنوافيكم بالمستجدات برسائل نصية.",
        )
        finished = await _write(session, FINISHED_PHONE, (*FINISHED, thanks), now=now, case_id=case.id)
    else:
        case = await session.get_one(Case, finished.case_id)
    return WhatsAppShown(waiting_conversation_id=waiting.id, tracking_number=case.tracking_number)


async def _conversation(session: AsyncSession, phone: str) -> Conversation | None:
    return await session.scalar(select(Conversation).where(Conversation.phone == phone))


async def _write(
    session: AsyncSession,
    phone: str,
    exchange: tuple[tuple[int, str, str], ...],
    *,
    now: datetime,
    case_id: int | None,
) -> Conversation:
    """The conversation and its messages; its number's 24-hour window opened by the sender's last message."""
    moments = [now - timedelta(minutes=minutes) for minutes, _, _ in exchange]
    last_in = max(at for at, (_, who, _) in zip(moments, exchange, strict=True) if who == "in")
    conversation = Conversation(
        phone=phone,
        language="ar",
        step=Step.IDLE,
        purpose=None,
        state={},
        started_at=moments[0],
        last_inbound_at=last_in,
        last_outbound_at=max(at for at, (_, who, _) in zip(moments, exchange, strict=True) if who == "out"),
        case_id=case_id,
    )
    session.add(conversation)
    await session.flush()
    session.add_all(
        DeskMessage(
            conversation_id=conversation.id,
            direction=Direction.INBOUND if who == "in" else Direction.OUTBOUND,
            body=words,
            at=at,
            sent_as="" if who == "in" else "reply",
            case_id=case_id,
            media_count=0,
        )
        for at, (_, who, words) in zip(moments, exchange, strict=True)
    )
    contact = await session.get(WhatsAppContact, phone)
    if contact is None:
        session.add(WhatsAppContact(phone=phone, last_inbound_at=last_in))
    elif contact.last_inbound_at is None or contact.last_inbound_at < last_in:
        contact.last_inbound_at = last_in
    await session.flush()
    return conversation
