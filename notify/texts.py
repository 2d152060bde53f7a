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
