"""Message texts in Arabic and English.

Bodies never carry the request's text (privacy): only the tracking number,
dates, places and a link. An Arabic SMS segment holds 70 characters, so the
receipt is kept short; the registered sender name (MAJLIS) says who writes, so
the bodies do not repeat it.
"""

from __future__ import annotations

GSM_SEGMENT = 160
UNICODE_SEGMENT = 70
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_segments(body: str) -> int:
    """How many SMS segments the body takes (70 characters each once any is not GSM-7)."""
    if all(ch in _GSM_BASIC for ch in body):
        per, multi = GSM_SEGMENT, 153
    else:
        per, multi = UNICODE_SEGMENT, 67
    if len(body) <= per:
        return 1
    return -(-len(body) // multi)


def receipt_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """The SMS sent right after a request is received."""
    if language == "en":
        return f"Request {tracking_number} received. Track it: {status_url}"
    return f"تم استلام طلبكم رقم {tracking_number}. للمتابعة: {status_url}"


def needs_information_sms(*, language: str, tracking_number: str, missing: str, status_url: str) -> str:
    """Asks the applicant for what the audit desk found missing (the desk's words, not the request's)."""
    if language == "en":
        return f"Request {tracking_number} needs more information: {missing}. Details: {status_url}"
    return f"طلبكم رقم {tracking_number} يحتاج إلى استكمال ما يلي: {missing}. للتفاصيل: {status_url}"


def rejected_sms(*, language: str, tracking_number: str, reason: str, status_url: str) -> str:
    if language == "en":
        return f"Request {tracking_number} cannot be accepted: {reason}. Details: {status_url}"
    return f"نأسف لتعذّر قبول طلبكم رقم {tracking_number}: {reason}. للتفاصيل: {status_url}"


def merged_sms(*, language: str, tracking_number: str, original_number: str, status_url: str) -> str:
    """Tells the applicant a repeated request was joined to the first one; nothing they wrote is lost."""
    if language == "en":
        return (
            f"Request {tracking_number} repeats request {original_number}; they are now one, "
            f"and what you wrote is kept. Follow {original_number}: {status_url}"
        )
    return (
        f"طلبكم رقم {tracking_number} مكرر للطلب رقم {original_number}، وقد ضُمّ إليه مع حفظ ما كتبتموه. "
        f"تابعوا الطلب رقم {original_number}: {status_url}"
    )


def scheduled_sms(*, language: str, tracking_number: str, when: str, place: str, status_url: str) -> str:
    """Tells the applicant the audience's date and place; the confirmation request follows three days before."""
    if language == "en":
        return f"Request {tracking_number} has an audience on {when} at {place}. Details: {status_url}"
    return f"حُدد لطلبكم رقم {tracking_number} موعد مقابلة {when} في {place}. للتفاصيل: {status_url}"


def audience_cancelled_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """Tells the applicant the audience will not take place then; a new date follows with its own message."""
    if language == "en":
        return f"The audience of request {tracking_number} on {when} is cancelled; a new date will follow. {status_url}"
    return f"أُلغي موعد مقابلة الطلب رقم {tracking_number} في {when}، وسيُرسل إليكم موعد جديد. {status_url}"


def audience_moved_sms(*, language: str, tracking_number: str, when: str, place: str, status_url: str) -> str:
    if language == "en":
        return f"The audience of request {tracking_number} has moved to {when} at {place}. {status_url}"
    return f"تغيّر موعد مقابلة الطلب رقم {tracking_number} إلى {when} في {place}. {status_url}"


# --- the confirmation request, three days before --------------------------------------------
# `link` is where the signed answer link goes; the dispatcher writes it in when it sends.

REPLY_CHOICES = {
    "ar": "للتأكيد أرسلوا 1، ولتغيير الموعد 2، وللإلغاء 3.",
    "en": "Reply 1 to confirm, 2 to change the date, 3 to cancel.",
}


def confirmation_sms(
    *, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str = ""
) -> str:
    """SMS cannot be answered in Saudi Arabia: it carries the link to answer on the portal, and the arrival code."""
    code_en = f" Arrival code: {arrival}." if arrival else ""
    code_ar = f" رمز الحضور: {arrival}." if arrival else ""
    if language == "en":
        return (
            f"Audience for request {tracking_number}: {when} at {place}.{code_en} Confirm, change or cancel: {link}"
        )
    return f"موعد مقابلة الطلب {tracking_number}: {when} في {place}.{code_ar} للتأكيد أو التغيير أو الإلغاء: {link}"


def confirmation_whatsapp(
    *, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str = ""
) -> str:
    """The free-form message inside the 24-hour window; outside it the approved template carries the same."""
    code_en = f" Your arrival code: {arrival}." if arrival else ""
    code_ar = f" رمز حضوركم: {arrival}." if arrival else ""
    if language == "en":
        return (
            f"Your audience for request {tracking_number} is on {when} at {place}.{code_en} "
            f"{REPLY_CHOICES['en']} Or answer here: {link}"
        )
    return (
        f"موعد مقابلتكم للطلب رقم {tracking_number} هو {when} في {place}.{code_ar} "
        f"{REPLY_CHOICES['ar']} أو أجيبوا من هنا: {link}"
    )


def confirmation_call(*, language: str, tracking_number: str, when: str, place: str) -> str:
    """What the voice call says; the keypad answers it."""
    if language == "en":
        return (
            f"Hello. This is the office of the open-door audience. Your audience for request {tracking_number} "
            f"is on {when}, at {place}. To confirm, press 1. To change the date, press 2. To cancel, press 3."
        )
    return (
        f"السلام عليكم. معكم مكتب اللقاء المفتوح. موعد مقابلتكم للطلب رقم {tracking_number} "
        f"هو {when} في {place}. للتأكيد اضغطوا 1، ولتغيير الموعد اضغطوا 2، وللإلغاء اضغطوا 3."
    )


def confirmation_email(
    *, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str = ""
) -> tuple[str, str]:
    """Subject and text of the e-mail that asks for confirmation (the invitation rides with it)."""
    if language == "en":
        code = f"Show this arrival code at the reception centre's kiosk or desk: {arrival}\n\n" if arrival else ""
        return (
            f"Please confirm your audience — request {tracking_number}",
            f"Your audience for request {tracking_number} is on {when} at {place}.\n\n{code}"
            f"Please confirm it, or ask for another date, or cancel it, on this page:\n{link}\n",
        )
    code_ar = f"اعرضوا رمز الحضور هذا على جهاز الاستقبال أو في المكتب: {arrival}\n\n" if arrival else ""
    return (
        f"تأكيد موعد المقابلة — الطلب رقم {tracking_number}",
        f"موعد مقابلتكم للطلب رقم {tracking_number} هو {when} في {place}.\n\n{code_ar}"
        f"نرجو تأكيد الموعد أو طلب موعد آخر أو إلغاءه من هذه الصفحة:\n{link}\n",
    )


def invitation_email(*, language: str, tracking_number: str, when: str, place: str, cancelled: bool) -> tuple[str, str]:
    """Subject and text of the e-mail carrying the calendar invitation (or its cancellation)."""
    if language == "en":
        if cancelled:
            return (
                f"Audience cancelled — request {tracking_number}",
                f"The audience for request {tracking_number} on {when} will not take place. A new date will follow.\n",
            )
        return (
            f"Your audience — request {tracking_number}",
            f"Your audience for request {tracking_number} is on {when} at {place}. "
            "The invitation is attached for your calendar.\n",
        )
    if cancelled:
        return (
            f"إلغاء موعد المقابلة — الطلب رقم {tracking_number}",
            f"أُلغي موعد مقابلة الطلب رقم {tracking_number} في {when}، وسيُرسل إليكم موعد جديد.\n",
        )
    return (
        f"موعد مقابلتكم — الطلب رقم {tracking_number}",
        f"موعد مقابلتكم للطلب رقم {tracking_number} هو {when} في {place}. الدعوة مرفقة لتقويمكم.\n",
    )


def audience_summary(*, language: str, tracking_number: str) -> str:
    """The calendar entry's title."""
    if language == "en":
        return f"Open-door audience — request {tracking_number}"
    return f"المقابلة في اللقاء المفتوح — الطلب رقم {tracking_number}"


# --- stage notices ------------------------------------------------------------------------------


def confirmed_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    if language == "en":
        return f"Thank you: the audience of request {tracking_number} on {when} is confirmed. {status_url}"
    return f"شكرًا لكم، تأكد موعد مقابلة الطلب رقم {tracking_number} في {when}. {status_url}"


def rescheduling_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant asked for another date: the old one is freed and a new one follows."""
    if language == "en":
        return (
            f"As you asked, the audience of request {tracking_number} on {when} is freed; "
            f"a new date will follow. {status_url}"
        )
    return f"بناءً على طلبكم أُلغي موعد الطلب رقم {tracking_number} في {when}، وسيُرسل إليكم موعد جديد. {status_url}"


def referred_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    if language == "en":
        return f"Request {tracking_number} has been referred to the competent department. Follow it: {status_url}"
    return f"أُحيل طلبكم رقم {tracking_number} إلى الجهة المختصة. للمتابعة: {status_url}"


def completed_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    if language == "en":
        return f"Request {tracking_number} is complete. Thank you. Rate our service: {status_url}"
    return f"اكتملت معالجة طلبكم رقم {tracking_number}. شكرًا لكم، ويسعدنا تقييم خدمتنا: {status_url}"


# --- after the audience day -----------------------------------------------------------------------


def no_show_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant missed the audience; the request waits again once, keeping its place by priority."""
    if language == "en":
        return (
            f"We missed you at the audience of request {tracking_number} on {when}. "
            f"Your request keeps its priority and a new date will follow. {status_url}"
        )
    return (
        f"لم تحضروا مقابلة الطلب رقم {tracking_number} في {when}. "
        f"يبقى طلبكم بأولويته وسيُرسل إليكم موعد جديد. {status_url}"
    )


def no_show_closed_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """A second audience missed: the request is closed; a new request can always be made."""
    if language == "en":
        return (
            f"Request {tracking_number} is closed: its audience on {when} was missed a second time. "
            f"You are welcome to submit a new request. {status_url}"
        )
    return (
        f"أُغلق طلبكم رقم {tracking_number} لعدم حضور المقابلة للمرة الثانية في {when}. "
        f"يسعدنا استقبال طلب جديد منكم. {status_url}"
    )


def not_reached_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant came but the session ended before the official reached them: owed a new date now."""
    if language == "en":
        return (
            f"We are sorry the audience of request {tracking_number} on {when} ended before your turn. "
            f"A new date will follow shortly. {status_url}"
        )
    return (
        f"نعتذر لانتهاء لقاء {when} قبل دوركم في الطلب رقم {tracking_number}. "
        f"سيُرسل إليكم موعد جديد قريبًا. {status_url}"
    )


def audience_rejected_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    if language == "en":
        return f"After the audience, request {tracking_number} could not be accepted. Details: {status_url}"
    return f"بعد المقابلة، تعذّر قبول طلبكم رقم {tracking_number}. للتفاصيل: {status_url}"


def under_study_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    if language == "en":
        return f"After the audience, request {tracking_number} is being studied as the official directed. {status_url}"
    return f"بعد المقابلة، يجري درس طلبكم رقم {tracking_number} بتوجيه من المسؤول. للمتابعة: {status_url}"
