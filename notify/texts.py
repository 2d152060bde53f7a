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
