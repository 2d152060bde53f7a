"""Checking what an applicant or a desk typed, before anything is saved.

Every problem is collected (not just the first), each naming its field, so a
form can show all of them at once and the API can list them in one 422.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TypeVar

from cases.identity import ApplicantKind, IdentityProblem, check_identity_number
from cases.models import Branch, Channel, Gender, Language, RequestKind
from cases.phones import to_e164
from majlis.bidi import without_bidi_controls
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required, too_long

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


@dataclass(frozen=True)
class ApplicantDetails:
    kind: ApplicantKind
    id_number: str
    name: str
    gender: Gender | None
    phone: str
    email: str | None
    language: Language
    special_care: tuple[str, ...]


@dataclass(frozen=True)
class RequestDetails:
    """A request as checked and normalised, ready to be saved."""

    applicant: ApplicantDetails
    kind: RequestKind
    subject: str
    text: str
    branch: Branch
    channel: Channel

    def fingerprint(self) -> str:
        """A digest of the content, so a retried submission can be told from a different one."""
        payload = json.dumps(asdict(self), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


Raw = Mapping[str, object]
E = TypeVar("E", bound=StrEnum)


def _text(raw: Raw, key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _choice(
    raw: Raw, key: str, field: str, cls: type[E], errors: list[FieldError], default: E | None = None
) -> E | None:
    value = _text(raw, key)
    if not value:
        if default is not None:
            return default
        errors.append(required(field))
        return None
    try:
        return cls(value)
    except ValueError:
        errors.append(invalid_choice(field, (m.value for m in cls)))
        return None


def _required_text(
    raw: Raw, key: str, field: str, limit: int, errors: list[FieldError], *, displayed: bool = False
) -> str:
    value = _text(raw, key)
    if displayed:
        # Names and subjects are shown in lists beside others: nothing in them may reorder what follows.
        value = without_bidi_controls(value).strip()
    if not value:
        errors.append(required(field))
    elif len(value) > limit:
        errors.append(too_long(field, limit))
    return value


def check_applicant(raw: Raw, errors: list[FieldError]) -> ApplicantDetails | None:
    """The applicant's details, or None with the problems added to errors."""
    before = len(errors)
    kind = _choice(raw, "kind", "applicant.kind", ApplicantKind, errors)
    id_number = ""
    raw_id = _text(raw, "id_number")
    if not raw_id:
        errors.append(required("applicant.id_number"))
    elif kind is not None:
        id_number, problem = check_identity_number(kind, raw_id)
        if problem is not None:
            prefix = problem is IdentityProblem.PREFIX
            message = PREFIX_MESSAGES[kind] if prefix else IDENTITY_MESSAGES[problem]
            errors.append(FieldError("applicant.id_number", problem.value, message))
    name = _required_text(raw, "name", "applicant.name", MAX_NAME, errors, displayed=True)
    gender: Gender | None = None
    if kind is ApplicantKind.COMPANY and not _text(raw, "gender"):
        gender = None  # a company's representative may not be named yet
    else:
        gender = _choice(raw, "gender", "applicant.gender", Gender, errors)
    phone = ""
    raw_phone = _text(raw, "phone")
    if not raw_phone:
        errors.append(required("applicant.phone"))
    else:
        phone = to_e164(raw_phone) or ""
        if not phone:
            errors.append(FieldError("applicant.phone", "invalid_phone", PHONE_MESSAGE))
    email = _text(raw, "email") or None
    if email is not None and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        errors.append(FieldError("applicant.email", "invalid_email", EMAIL_MESSAGE))
    language = _choice(raw, "language", "applicant.language", Language, errors, default=Language.AR)
    care = raw.get("special_care") or ()
    if isinstance(care, str):
        care = (care,)
    if not isinstance(care, list | tuple) or any(c not in CARE_NEEDS for c in care):
        errors.append(invalid_choice("applicant.special_care", CARE_NEEDS))
        care = ()
    if len(errors) > before or kind is None or language is None:
        return None
    return ApplicantDetails(
        kind=kind,
        id_number=id_number,
        name=" ".join(name.split()),
        gender=gender,
        phone=phone,
        email=email.lower() if email else None,
        language=language,
        special_care=tuple(c for c in CARE_NEEDS if c in care),
    )


def check_request(applicant: Raw, request: Raw, *, channel: Channel | None = None) -> RequestDetails:
    """The whole request checked and normalised; InvalidInput lists every problem.

    When the channel is given (a desk records its own), the raw value is ignored.
    """
    errors: list[FieldError] = []
    details = check_applicant(applicant, errors)
    kind = _choice(request, "kind", "kind", RequestKind, errors)
    subject = _required_text(request, "subject", "subject", MAX_SUBJECT, errors, displayed=True)
    text = _required_text(request, "text", "text", MAX_TEXT, errors)
    branch = _choice(request, "branch", "branch", Branch, errors)
    if channel is None:
        channel = _choice(request, "channel", "channel", Channel, errors, default=Channel.PORTAL)
    if errors or details is None or kind is None or branch is None or channel is None:
        raise InvalidInput(errors)
    return RequestDetails(
        applicant=details,
        kind=kind,
        subject=" ".join(subject.split()),
        text=text,
        branch=branch,
        channel=channel,
    )
