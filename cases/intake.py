"""Checking what an applicant or a desk typed, before anything is saved.

One check for every intake (the API, the portal's and desks' forms, the WhatsApp desk's conversation): a pydantic
model whose fields carry the rules (cases.intake_fields). Every problem is collected (not just the first), each
naming its field, so a form can show all of them at once and the API can list them in one 422.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from cases.identity import ApplicantKind
from cases.intake_fields import (
    CARE_NEEDS,
    MAX_EMAIL,
    MAX_NAME,
    MAX_SUBJECT,
    MAX_TEXT,
    Email,
    MobilePhone,
    PersonName,
    RequestText,
    Subject,
    check_number,
    gender_of_people,
    refused,
)
from cases.models import Channel, Gender, Language, RequestKind
from majlis.errors import N_, InvalidInput, field_errors

# Re-exported: other domains bound their own texts by these.
__all__ = [
    "CARE_NEEDS",
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_SUBJECT",
    "MAX_TEXT",
    "ApplicantDetails",
    "RequestDetails",
    "check_request",
]


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
    # A branch code; whether it is an open centre is the database's to say (cases.branches).
    branch: str
    channel: Channel

    def fingerprint(self) -> str:
        """A digest of the content, so a retried submission can be told from a different one."""
        payload = json.dumps(asdict(self), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


Raw = Mapping[str, object]


def _draft_identity(value: str | None, info: ValidationInfo) -> str | None:
    """The identity number checked by the rule of the applicant's kind (the form's one field for all kinds)."""
    kind = info.data.get("kind")
    if kind is None:
        return value  # the kind itself is refused; its number cannot be judged
    if value is None:
        raise refused("missing", N_("{field} is required."))
    return check_number(ApplicantKind(kind), value)


class ApplicantDraft(BaseModel):
    """The applicant as an intake gives it: one identity number, whose rule the kind decides."""

    model_config = ConfigDict(extra="ignore")

    kind: ApplicantKind
    id_number: Annotated[str | None, Field(default=None, max_length=32, validate_default=True)]
    name: PersonName
    gender: Gender | None = Field(default=None, validate_default=True)
    phone: MobilePhone
    email: Email = None
    language: Language = Language.AR
    special_care: list[Literal["elderly", "wheelchair", "transport", "interpreter"]] = Field(default_factory=list)

    _identity = field_validator("id_number")(_draft_identity)
    _gender = field_validator("gender")(gender_of_people)

    def details(self) -> ApplicantDetails:
        assert self.id_number is not None  # _draft_identity requires it
        return ApplicantDetails(
            kind=self.kind,
            id_number=self.id_number,
            name=self.name,
            gender=self.gender,
            phone=self.phone,
            email=self.email,
            language=self.language,
            special_care=tuple(c for c in CARE_NEEDS if c in self.special_care),
        )


# The shape of a branch code only; cases.branches.require_open checks it names an open centre.
BranchCode = Annotated[str, Field(max_length=16, pattern=r"^[a-z0-9-]+$")]


class RequestDraft(BaseModel):
    model_config = ConfigDict(extra="ignore")

    applicant: ApplicantDraft
    kind: RequestKind
    subject: Subject
    text: RequestText
    branch: BranchCode
    channel: Channel = Channel.PORTAL


def _given(raw: Raw) -> dict[str, object]:
    # Forms and conversations send every field, empty when not filled: an empty one is not given, so the model
    # says it is required rather than not one of the choices.
    return {k: v for k, v in raw.items() if v not in ("", None, [], ())}


def check_request(applicant: Raw, request: Raw, *, channel: Channel | None = None) -> RequestDetails:
    """The whole request checked and normalised; InvalidInput lists every problem.

    When the channel is given (a desk records its own), the raw value is ignored.
    """
    payload = {**_given(request), "applicant": _given(applicant)}
    if channel is not None:
        payload["channel"] = channel
    try:
        draft = RequestDraft.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
    return RequestDetails(
        applicant=draft.applicant.details(),
        kind=draft.kind,
        subject=draft.subject,
        text=draft.text,
        branch=draft.branch,
        channel=draft.channel,
    )
