"""Checking a report as the agent typed it, before anything is saved.

Every problem is collected (not just the first), each naming its field, as requests' intake does
(cases/intake.py), so the agent's screen shows them all at once and the API lists them in one 422.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from cases.identity import ApplicantKind, IdentityProblem, check_identity_number
from cases.models import Language
from emergency import checks
from emergency.models import ReportType, Severity
from majlis.bidi import without_bidi_controls
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required, too_long

MAX_NAME = 200
MAX_CITY = 120
MAX_ACCOUNT = 5000

_NATIONAL_ID_MESSAGES = {
    IdentityProblem.LENGTH: N_("{field} must be exactly 10 digits."),
    IdentityProblem.PREFIX: N_("A national ID starts with 1."),
    IdentityProblem.CHECK_DIGIT: N_("{field} is not valid: its check digit does not match. Check the number."),
}


@dataclass(frozen=True)
class ReportDetails:
    """A report as checked and normalised, ready to be routed and saved."""

    national_id: str
    caller_name: str
    # E.164 (+<country code><number>), a number that takes SMS, of any country.
    phone: str
    # ISO 3166-1 alpha-2, upper case.
    country: str
    city: str
    type: ReportType
    severity: Severity
    account: str
    language: Language


Raw = Mapping[str, object]
E = TypeVar("E", bound=StrEnum)


@functools.cache
def _countries_by_what_is_typed() -> dict[str, str]:
    """Every country by what may be typed for it: its ISO code, its English and its Arabic name, folded."""
    typed: dict[str, str] = {}
    for code in checks.country_codes():
        for said in (code, checks.country_name(code, "en"), checks.country_name(code, "ar")):
            typed[" ".join(said.casefold().split())] = code
    return typed


def _text(raw: Raw, key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _required_text(raw: Raw, key: str, limit: int, errors: list[FieldError]) -> str:
    value = _text(raw, key)
    if not value:
        errors.append(required(key))
    elif len(value) > limit:
        errors.append(too_long(key, limit))
    return value


def _national_id(raw: Raw, errors: list[FieldError]) -> str:
    typed = _text(raw, "national_id")
    if not typed:
        errors.append(required("national_id"))
        return ""
    number, problem = check_identity_number(ApplicantKind.CITIZEN, typed)
    if problem is not None:
        errors.append(FieldError("national_id", problem.value, _NATIONAL_ID_MESSAGES[problem]))
    return number


def _phone(raw: Raw, errors: list[FieldError]) -> str:
    # The report number goes to it by SMS: a mobile number (or one its country does not tell from a fixed line).
    return checks.clean_phone("phone", _text(raw, "phone"), errors)


def _country(raw: Raw, errors: list[FieldError]) -> str:
    typed = _text(raw, "country")
    if not typed:
        errors.append(required("country"))
        return ""
    code = _countries_by_what_is_typed().get(" ".join(typed.casefold().split()))
    if code is None:
        errors.append(
            FieldError(
                "country",
                "invalid_country",
                N_("{field} must be a country's two-letter ISO code or its name, such as AE, AU or GB."),
            )
        )
    return code or ""


def _choice(raw: Raw, key: str, cls: type[E], errors: list[FieldError], default: E | None = None) -> E | None:
    typed = _text(raw, key).lower()
    if not typed:
        if default is None:
            errors.append(required(key))
        return default
    try:
        return cls(typed)
    except ValueError:
        errors.append(invalid_choice(key, (m.value for m in cls)))
        return None


def check_report(raw: Raw) -> ReportDetails:
    """The report checked and normalised; InvalidInput lists every problem."""
    errors: list[FieldError] = []
    national_id = _national_id(raw, errors)
    caller_name = _required_text(raw, "caller_name", MAX_NAME, errors)
    phone = _phone(raw, errors)
    country = _country(raw, errors)
    city = _required_text(raw, "city", MAX_CITY, errors)
    kind = _choice(raw, "type", ReportType, errors)
    severity = _choice(raw, "severity", Severity, errors)
    account = _required_text(raw, "account", MAX_ACCOUNT, errors)
    language = _choice(raw, "language", Language, errors, default=Language.AR)
    if errors or kind is None or severity is None or language is None:
        raise InvalidInput(errors)
    return ReportDetails(
        national_id=national_id,
        # Shown in lists beside other reports: nothing in it may reorder what follows (majlis/bidi.py).
        caller_name=" ".join(without_bidi_controls(caller_name).split()),
        phone=phone,
        country=country,
        city=" ".join(city.split()),
        type=kind,
        severity=severity,
        account=account,
        language=language,
    )
