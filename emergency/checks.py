"""Checking what the missions directory and the duty roster are given: countries, phones abroad, languages.

Countries are ISO 3166-1 alpha-2 codes as Babel (CLDR) names them, in Arabic and English. Phones are any
country's, typed in international form, kept in E.164; an alert goes to them by SMS and by a call, so they
must be able to take an SMS.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from babel import Locale
from phonenumbers import PhoneNumberType

from cases.digits import ascii_digits
from majlis.errors import N_, FieldError, required, too_long
from majlis.i18n import in_language

# CLDR's two-letter codes that name no country a citizen can be in: groupings (EU, EZ, UN), the unknown
# region, pseudo-locales, and codes reserved for islands already inside another country's code.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "CP", "CQ", "DG", "EA", "IC", "AC", "TA"})
_SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
# As intake checks an applicant's e-mail: one @, a dot after it, no spaces.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 254
NAME_LIMIT = 200
_LANGUAGE = re.compile(r"[a-z]{2,3}")
PHONE_ABROAD_MESSAGE = N_(
    "{field} must be a mobile number of any country in international form, such as +61 412 345 678."
)


@cache
def _countries() -> dict[str, dict[str, str]]:
    english = Locale("en").territories
    arabic = Locale("ar").territories
    return {
        code: {"en": name, "ar": arabic.get(code, name)}
        for code, name in english.items()
        if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    }


def country_codes() -> list[str]:
    """Every country code a mission or a report may name."""
    return sorted(_countries())


def country_name(code: str, language: str) -> str:
    """The country's name in the reader's language (Arabic for "ar", English otherwise); the code if unknown."""
    names = _countries().get(code.upper())
    if names is None:
        return code
    return in_language(language, names["ar"], names["en"])


def country_choices(language: str) -> list[tuple[str, str]]:
    """(code, name) for a form's list, by name in the reader's language."""
    return sorted(((code, country_name(code, language)) for code in _countries()), key=lambda c: c[1])


def clean_country(field: str, value: str, errors: list[FieldError]) -> str:
    code = value.strip().upper()
    if not code:
        errors.append(required(field))
    elif code not in _countries():
        errors.append(
            FieldError(field, "unknown_country", N_("{field} must be a country's two-letter code, such as AU or AE."))
        )
    return code


def phone_abroad(raw: str) -> str | None:
    """The number in E.164 when it is a valid number of any country that takes SMS, typed with + or 00."""
    cleaned = ascii_digits(raw.strip())
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not cleaned.startswith("+"):
        return None
    digits = "".join(ch for ch in cleaned[1:] if ch not in " -.()")
    if not digits.isascii() or not digits.isdigit():
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _SMS_CAPABLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_phone(field: str, value: str, errors: list[FieldError]) -> str:
    if not value.strip():
        errors.append(required(field))
        return ""
    found = phone_abroad(value)
    if found is None:
        errors.append(FieldError(field, "invalid_phone", PHONE_ABROAD_MESSAGE))
        return value.strip()
    return found


def clean_name(field: str, value: str, errors: list[FieldError], limit: int = NAME_LIMIT) -> str:
    value = " ".join(value.split())
    if not value:
        errors.append(required(field))
    elif len(value) > limit:
        errors.append(too_long(field, limit))
    return value


def clean_email(field: str, value: str, errors: list[FieldError]) -> str:
    value = value.strip().lower()
    if not value:
        errors.append(required(field))
    elif len(value) > MAX_EMAIL or not _EMAIL.fullmatch(value):
        errors.append(FieldError(field, "invalid_email", N_("{field} is not a valid e-mail address.")))
    return value


@cache
def _language_names() -> dict[str, dict[str, str]]:
    english = Locale("en").languages
    arabic = Locale("ar").languages
    return {
        code: {"en": name, "ar": arabic.get(code, name)} for code, name in english.items() if _LANGUAGE.fullmatch(code)
    }


def language_name(code: str, language: str) -> str:
    names = _language_names().get(code)
    return code if names is None else in_language(language, names["ar"], names["en"])


def clean_languages(field: str, values: list[str], errors: list[FieldError]) -> list[str]:
    """Language codes (ar, en, fr …), each once, in the order given; at least one."""
    codes: list[str] = []
    for value in values:
        code = value.strip().lower()
        if code and code not in codes:
            codes.append(code)
    if not codes:
        errors.append(required(field))
    elif any(code not in _language_names() for code in codes) or len(codes) > 12:
        errors.append(FieldError(field, "unknown_language", N_("{field} must be language codes such as ar, en or fr.")))
    return codes


def split_languages(text: str) -> list[str]:
    """Languages as typed on a form or the command line: "ar, en" or "ar en"."""
    return [part for part in re.split(r"[\s,،]+", text) if part]
