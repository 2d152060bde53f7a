"""Field types that carry the rules of a new request, for every intake: the API, the forms, the WhatsApp desk.

Each type runs the domain's own rule (cases.identity, cases.phones, majlis.bidi) once. A refusal is a
PydanticCustomError whose type is the rule's code and whose context carries its message (marked for translation),
which majlis.errors.field_errors turns into the field's error.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from cases.identity import ApplicantKind, IdentityProblem, check_identity_number
from cases.phones import to_e164
from majlis.bidi import without_bidi_controls
from majlis.errors import N_

MAX_NAME = 200
MAX_SUBJECT = 200
MAX_TEXT = 5000
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

CARE_NEEDS = ("elderly", "wheelchair", "transport", "interpreter")

IDENTITY_MESSAGES = {
    IdentityProblem.LENGTH: N_("{field} must be exactly 10 digits."),
    IdentityProblem.CHECK_DIGIT: N_("{field} is not valid: its check digit does not match. Check the number."),
}
PHONE_MESSAGE = N_("{field} is not a valid mobile number. Example: 0501234567 or +966501234567.")
EMAIL_MESSAGE = N_("{field} is not a valid e-mail address.")
# Only people's numbers have a fixed first digit.
PREFIX_MESSAGES = {
    ApplicantKind.CITIZEN: N_("A national ID starts with 1."),
    ApplicantKind.RESIDENT: N_("An iqama number starts with 2."),
}

# The kind each identity field belongs to, and what is wrong with a number of that kind.
ID_FIELDS = {ApplicantKind.CITIZEN: "national_id", ApplicantKind.RESIDENT: "iqama", ApplicantKind.COMPANY: "cr_number"}


def refused(code: str, message: str, **params: str) -> PydanticCustomError:
    """A field refused by a domain rule: the code, and the message to translate with its parameters."""
    return PydanticCustomError(code, message, {"domain_message": message, **params})


def identity_number(value: str | None, info: ValidationInfo) -> str | None:
    """The number normalised by the rule of the applicant's kind; required for that kind, refused for another."""
    kind = info.data.get("kind")
    if kind is None:
        return value  # the kind itself is refused; its number cannot be judged
    kind = ApplicantKind(kind)
    if ID_FIELDS[kind] != info.field_name:
        if value is not None:
            raise refused("extra_forbidden", N_("{field} is not a field of this API."))
        return None
    if value is None or not value.strip():
        raise refused("missing", N_("{field} is required."))
    return check_number(kind, value)


def check_number(kind: ApplicantKind, value: str) -> str:
    """The identity number normalised, or the refusal naming what is wrong with it for this kind."""
    if not value.strip():
        raise refused("missing", N_("{field} is required."))
    number, problem = check_identity_number(kind, value)
    if problem is IdentityProblem.PREFIX:
        raise refused(problem.value, PREFIX_MESSAGES[kind])
    if problem is not None:
        raise refused(problem.value, IDENTITY_MESSAGES[problem])
    return number


def _national_id(value: str) -> str:
    return check_number(ApplicantKind.CITIZEN, value)


def gender_of_people(value: object, info: ValidationInfo) -> object:
    """A person's gender is required (it decides the women's section); a company's representative may be unnamed."""
    if value is None and info.data.get("kind") in (ApplicantKind.CITIZEN, ApplicantKind.RESIDENT):
        raise refused("missing", N_("{field} is required."))
    return value


def _mobile(value: str) -> str:
    phone = to_e164(value)
    if phone is None:
        raise refused("invalid_phone", PHONE_MESSAGE)
    return phone


def _displayed(value: str) -> str:
    # Shown in lists beside others: nothing in it may reorder what follows, and spaces are collapsed.
    text = " ".join(without_bidi_controls(value).split())
    if not text:
        raise refused("missing", N_("{field} is required."))
    return text


def _written(value: str) -> str:
    if not value.strip():
        raise refused("missing", N_("{field} is required."))
    return value.strip()


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    email = value.strip()
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise refused("invalid_email", EMAIL_MESSAGE)
    return email.lower()


IdentityNumber = Annotated[str | None, Field(default=None, max_length=32, validate_default=True)]
# A citizen's own number, where only citizens are served (the emergency line).
NationalId = Annotated[
    str,
    Field(max_length=32, description="A citizen's national ID: 10 digits, starts with 1, Luhn check digit"),
    AfterValidator(_national_id),
]
MobilePhone = Annotated[
    str, Field(max_length=32, description="A mobile number; stored in E.164 (+9665…)"), AfterValidator(_mobile)
]
Email = Annotated[str | None, Field(default=None, max_length=MAX_EMAIL), AfterValidator(_email)]


# Names and subjects are shown in lists beside others: bidi controls removed, spaces collapsed, not empty.
PersonName = Annotated[str, Field(max_length=MAX_NAME), AfterValidator(_displayed)]
Subject = Annotated[str, Field(max_length=MAX_SUBJECT), AfterValidator(_displayed)]
# A request's own words: trimmed, not empty, its marks and line breaks kept.
RequestText = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_written)]
