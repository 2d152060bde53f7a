"""Phone numbers, stored in E.164; Saudi numbers may be typed the local way."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from cases.digits import ascii_digits

DEFAULT_REGION = "SA"

# The receipt and the audience notices go by SMS, so the number must take SMS.
_SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def to_e164(raw: str) -> str | None:
    """The number in E.164 (+9665…), or None when it is not a valid mobile number."""
    cleaned = raw.strip().translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    plus = cleaned.startswith("+")
    digits = ascii_digits(cleaned.lstrip("+").replace("(", "").replace(")", ""))
    if not digits.isdigit():
        return None
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) not in _SMS_CAPABLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def same_phone(stored_e164: str, raw: str) -> bool:
    """True when raw is the stored number, however it was typed."""
    return to_e164(raw) == stored_e164
