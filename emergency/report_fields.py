"""Field types of an emergency report as the agent types it (emergency/intake.py): a phone abroad, the country
the citizen is in, the city, and the choices, each running the line's rule once.

A refusal carries the rule's code and message (cases.intake_fields.refused), so majlis.errors.field_errors gives
the field's bilingual error on the agent's form, the API and the terminal alike.
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from cases.intake_fields import refused
from cases.models import Language
from emergency import checks
from emergency.models import ReportType, Severity
from majlis.errors import N_

MAX_CITY = 120
MAX_COUNTRY = 120
MAX_PHONE = 60


@functools.cache
def _countries_by_what_is_typed() -> dict[str, str]:
    """Every country by what may be typed for it: its ISO code, its English and its Arabic name, folded."""
    typed: dict[str, str] = {}
    for code in checks.country_codes():
        for said in (code, checks.country_name(code, "en"), checks.country_name(code, "ar")):
            typed[" ".join(said.casefold().split())] = code
    return typed


def _phone_abroad(value: str) -> str:
    # The report number goes to it by SMS: a mobile number (or one its country does not tell from a fixed line).
    if not value.strip():
        raise refused("missing", N_("{field} is required."))
    phone = checks.phone_abroad(value)
    if phone is None:
        raise refused("invalid_phone", checks.PHONE_ABROAD_MESSAGE)
    return phone


def _country(value: str) -> str:
    if not value.strip():
        raise refused("missing", N_("{field} is required."))
    code = _countries_by_what_is_typed().get(" ".join(value.casefold().split()))
    if code is None:
        raise refused(
            "invalid_country", N_("{field} must be a country's two-letter ISO code or its name, such as AE, AU or GB.")
        )
    return code


def _place(value: str) -> str:
    place = " ".join(value.split())
    if not place:
        raise refused("missing", N_("{field} is required."))
    return place


def _folded(value: object) -> object:
    # An agent or a script may type a choice in capitals or with spaces around it.
    return value.strip().lower() if isinstance(value, str) else value


PhoneAbroad = Annotated[
    str,
    Field(max_length=MAX_PHONE, description="A mobile number abroad with its country code; stored in E.164"),
    AfterValidator(_phone_abroad),
]
Country = Annotated[
    str,
    Field(max_length=MAX_COUNTRY, description="ISO 3166-1 alpha-2 code (AE, AU …) or the country's name"),
    AfterValidator(_country),
]
City = Annotated[str, Field(max_length=MAX_CITY), AfterValidator(_place)]
TypeOfReport = Annotated[ReportType, BeforeValidator(_folded)]
SeverityOfReport = Annotated[Severity, BeforeValidator(_folded)]
LanguageOfCitizen = Annotated[Language, BeforeValidator(_folded), Field(description="ar or en: the citizen's messages")]
