"""The shapes of the department's API (web/department_api.py): what it takes and gives back; they also make the
OpenAPI document."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from followup import information, referrals


class DepartmentUpdateIn(BaseModel):
    """News of the department's work."""

    model_config = ConfigDict(extra="forbid")

    update: str = Field(max_length=referrals.MAX_NOTE)


class DepartmentQuestionIn(BaseModel):
    """A question for the applicant; it goes by SMS and the deadlines pause until the answer."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=information.MAX_QUESTION)


class DepartmentAnswerIn(BaseModel):
    """The department's answer; with files, send it as multipart/form-data (DepartmentAnswerForm)."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=referrals.MAX_NOTE)


class DepartmentAnswerForm(DepartmentAnswerIn):
    """The answer as multipart/form-data: the text and up to the configured number of files."""

    files: list[bytes] = Field(
        default_factory=list,
        description="PDF, JPEG or PNG, one part each, checked by content; at most MAJLIS_ATTACHMENT_MAX_BYTES each",
        json_schema_extra={"items": {"type": "string", "format": "binary"}},
    )


class DepartmentReturnIn(BaseModel):
    """Why the referral is not the department's; it goes back to the follow-up team."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=referrals.MAX_NOTE)


BODIES: Mapping[str, type[BaseModel]] = {
    "update": DepartmentUpdateIn,
    "ask": DepartmentQuestionIn,
    "answer": DepartmentAnswerIn,
    "return": DepartmentReturnIn,
}


class DepartmentNameOut(BaseModel):
    code: str
    name_ar: str
    name_en: str


class ReferredRequestOut(BaseModel):
    """The request as the department reads it: no phone (the department asks the applicant through Majlis)."""

    tracking_number: str
    kind: str
    subject: str
    text: str
    submitted_at: datetime
    applicant_name: str
    applicant_id_number: str


class ReferralFileOut(BaseModel):
    id: int
    filename: str = Field(description="The name sent, cleaned; the extension says what the content is")
    content_type: str
    size: int
    added_by: Literal["applicant", "department", "staff"]
    added_at: datetime
    url: str = Field(description="Where the department downloads it, under the same link")


class ReferralStepOut(BaseModel):
    kind: str = Field(examples=["acknowledged"])
    label: str = Field(description="In the language of Accept-Language")
    at: datetime
    by: str
    text: str


class DepartmentReferralOut(BaseModel):
    """One referral as its department reads it; labels and dates in the language of Accept-Language."""

    id: int
    state: Literal["sent", "acknowledged", "awaiting_applicant", "answered", "returned", "closed"]
    state_label: str
    department: DepartmentNameOut
    directive: str
    referred_at: datetime
    first_response_due_at: datetime
    first_response_due: str = Field(description="In Gregorian and Umm al-Qura Hijri, Riyadh time")
    solution_due_at: datetime
    solution_due: str = Field(description="In Gregorian and Umm al-Qura Hijri, Riyadh time")
    next_update_due_at: datetime | None
    paused: bool = Field(description="The deadlines are stopped while the applicant is asked for information")
    acknowledged_at: datetime | None
    answered_at: datetime | None
    answer: str
    request: ReferredRequestOut
    files: list[ReferralFileOut]
    history: list[ReferralStepOut]
    actions: list[Literal["acknowledge", "update", "ask", "answer", "return"]] = Field(
        description="The steps the department may take now"
    )
    waiting: str = Field(description="Why no step can be taken now, when none can")


class LiaisonReferralOut(BaseModel):
    id: int
    tracking_number: str
    subject: str
    state: str
    state_label: str
    solution_due_at: datetime
    overdue: bool
    working_minutes_left: int | None = Field(
        description="Working minutes to the nearest clock owed (negative when overdue); none when nothing is owed"
    )
    clock: str = Field(description="first_response, update or solution; empty when nothing is owed")
    standing: str = Field(description="The same in words, in the language of Accept-Language")
    left_at: datetime | None = Field(description="When it was closed or returned, for those no longer open")
    page: str


class LiaisonReferralsOut(BaseModel):
    department: DepartmentNameOut | None = Field(description="None for an account that belongs to no department")
    open: list[LiaisonReferralOut] = Field(description="Overdue first, then by working time left")
    recent: list[LiaisonReferralOut] = Field(description="Closed or returned in the last 30 days, latest first")


INPUTS: tuple[type[BaseModel], ...] = (
    DepartmentUpdateIn,
    DepartmentQuestionIn,
    DepartmentAnswerIn,
    DepartmentAnswerForm,
    DepartmentReturnIn,
)
OUTPUTS: tuple[type[BaseModel], ...] = (DepartmentReferralOut, LiaisonReferralsOut)
