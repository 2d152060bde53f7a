"""Message texts in Arabic and English.

Bodies never carry the request's text (privacy): only the tracking number,
dates, places and a link. An Arabic SMS segment holds 70 characters, so the
receipt is kept short.
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
        return f"Majlis: request {tracking_number} received. Track it: {status_url}"
    return f"مجلس: وصل طلبكم رقم {tracking_number}. للمتابعة: {status_url}"


def needs_information_sms(*, language: str, tracking_number: str, missing: str, status_url: str) -> str:
    """Asks the applicant for what the audit desk found missing (the desk's words, not the request's)."""
    if language == "en":
        return f"Majlis: request {tracking_number} needs more information: {missing}. Details: {status_url}"
    return f"مجلس: طلبكم رقم {tracking_number} بحاجة إلى استكمال: {missing}. للتفاصيل: {status_url}"


def rejected_sms(*, language: str, tracking_number: str, reason: str, status_url: str) -> str:
    if language == "en":
        return f"Majlis: request {tracking_number} cannot be accepted: {reason}. Details: {status_url}"
    return f"مجلس: نعتذر عن قبول طلبكم رقم {tracking_number}: {reason}. للتفاصيل: {status_url}"


def merged_sms(*, language: str, tracking_number: str, original_number: str, status_url: str) -> str:
    """Tells the applicant a repeated request was joined to the first one; nothing they wrote is lost."""
    if language == "en":
        return (
            f"Majlis: request {tracking_number} repeats request {original_number}; they are now one, "
            f"and what you wrote is kept. Follow {original_number}: {status_url}"
        )
    return (
        f"مجلس: طلبكم رقم {tracking_number} مكرر للطلب رقم {original_number}، فضُمّ إليه مع حفظ ما كتبتموه. "
        f"تابعوا الطلب رقم {original_number}: {status_url}"
    )
