"""The API's input and output shapes; they also make the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from cases.identity import ApplicantKind
from cases.intake import CARE_NEEDS, ApplicantDetails, RequestDetails
from cases.intake_fields import (
    ID_FIELDS,
    Email,
    IdentityNumber,
    MobilePhone,
    PersonName,
    RequestText,
    Subject,
    gender_of_people,
    identity_number,
)
from cases.models import Channel, Gender, Language, RequestKind
from followup import referrals

ApplicantKindName = Literal["citizen", "resident", "company"]
RequestKindName = Literal["audience_in_person", "audience_video", "petition", "complaint", "suggestion", "enquiry"]
CareNeed = Literal["elderly", "wheelchair", "transport", "interpreter"]


class ApplicantIn(BaseModel):
    """Who the request is from. Citizens send national_id, residents iqama, companies cr_number."""

    model_config = ConfigDict(extra="forbid")

    kind: ApplicantKindName
    national_id: IdentityNumber = Field(description="Citizens: 10 digits, starts with 1, Luhn check digit")
    iqama: IdentityNumber = Field(description="Residents: 10 digits, starts with 2, Luhn check digit")
    cr_number: IdentityNumber = Field(description="Companies: commercial registration, 10 digits")
    name: PersonName
    gender: Literal["male", "female"] | None = Field(
        default=None, validate_default=True, description="Required for people"
    )
    phone: MobilePhone
    email: Email = None
    language: Literal["ar", "en"] = "ar"
    special_care: list[CareNeed] = Field(default_factory=list, max_length=len(CARE_NEEDS))

    _identity = field_validator("national_id", "iqama", "cr_number")(identity_number)

    _gender = field_validator("gender")(gender_of_people)

    def details(self) -> ApplicantDetails:
        kind = ApplicantKind(self.kind)
        number = getattr(self, ID_FIELDS[kind])
        assert number is not None  # identity_number requires the kind's own number
        return ApplicantDetails(
            kind=kind,
            id_number=number,
            name=self.name,
            gender=Gender(self.gender) if self.gender else None,
            phone=self.phone,
            email=self.email,
            language=Language(self.language),
            special_care=tuple(c for c in CARE_NEEDS if c in self.special_care),
        )


class RequestIn(BaseModel):
    """A new request to the official."""

    model_config = ConfigDict(extra="forbid")

    applicant: ApplicantIn
    kind: RequestKindName
    subject: Subject
    text: RequestText
    branch: str = Field(
        max_length=16,
        pattern=r"^[a-z0-9-]+$",
        examples=["riyadh"],
        description="The code of an open reception centre (an administrator manages them; 422 naming branch if none)",
    )
    channel: Literal["portal", "walk_in", "call_centre", "whatsapp", "email"] = Field(
        default="portal",
        description=(
            "The public files by the portal only; the other channels need the staff session of a desk that "
            "receives requests there (422 naming channel without a session, 403 for another role)"
        ),
    )

    def details(self) -> RequestDetails:
        """The request as the domain saves it."""
        return RequestDetails(
            applicant=self.applicant.details(),
            kind=RequestKind(self.kind),
            subject=self.subject,
            text=self.text,
            branch=self.branch,
            channel=Channel(self.channel),
        )


class RequestCreated(BaseModel):
    tracking_number: str = Field(examples=["26-000417-5"])
    status: str = Field(examples=["received"])
    submitted_at: datetime


class StatusStep(BaseModel):
    status: str
    status_label: dict[str, str]
    at: datetime
    note: str = Field(description="A note for the applicant, in the language of Accept-Language; empty when none")


class AudiencePlaceOut(BaseModel):
    """Where the applicant comes: the reception centre and the hall or video room."""

    branch: str = Field(examples=["riyadh"], description="The reception centre's code")
    centre: str = Field(description="The reception centre's name, in the language of Accept-Language")
    room: str = Field(description="The hall or video room, by its name")
    address: str = Field(description="The centre's address, in the language of Accept-Language (may be empty)")


class AudienceOut(BaseModel):
    """The request's audience ahead, as its applicant sees it; texts in the language of Accept-Language."""

    starts_at: datetime
    ends_at: datetime
    mode: Literal["in_person", "video"]
    mode_label: str = Field(examples=["By video, from the women's section of the reception centre"])
    place: AudiencePlaceOut
    state: Literal["scheduled", "confirmed", "arrived", "in_audience"]
    state_label: str
    date: str = Field(description="The day in Gregorian and Umm al-Qura Hijri together, as people read it")
    time: str = Field(description="From and to, Riyadh time")
    arrive_by: datetime = Field(description="When to be at the reception centre")
    bring: list[str] = Field(
        description=(
            "What to bring and when to arrive, one item each; a time or number inside the sentence is wrapped "
            "in Unicode isolates (U+2068 … U+2069) so it keeps its order in Arabic"
        )
    )
    arrival_code: str = Field(
        description="Shown or scanned at the centre's kiosk or desk on arrival", examples=["418-07316942"]
    )
    calendar_url: str = Field(
        description="The audience as an iCalendar file (GET, with the same phone query)",
        examples=["/api/v1/requests/26-000417-5/calendar.ics"],
    )


class ReferralStageOut(BaseModel):
    """A referral's stage as the applicant reads it (never the directive, the department's answer or an escalation)."""

    stage: Literal["referred", "answered", "completed"]
    at: datetime
    department: str = Field(description="The department's name in the language of Accept-Language")
    text: str = Field(description="The stage in plain words, in the language of Accept-Language")
    outcome: str = Field(description="The outcome the follow-up team approved, for a completed stage; else empty")


class RequestStatus(BaseModel):
    tracking_number: str
    status: str
    status_label: dict[str, str] = Field(description="The status in Arabic and English")
    kind: str
    submitted_at: datetime
    history: list[StatusStep] = Field(
        description="Each step; a note only when it was written for the applicant (never staff's notes)"
    )
    appointment: AudienceOut | None = Field(description="The audience ahead (not yet ended); null when there is none")
    referral_stages: list[ReferralStageOut] = Field(
        default_factory=list,
        description="The referrals' stages in time order: to whom, that a department answered, the approved outcome",
    )


class FieldProblem(BaseModel):
    field: str = Field(examples=["applicant.national_id"])
    code: str = Field(examples=["check_digit"])
    message: str = Field(description="In the language the client asked for (Accept-Language)")
    messages: dict[str, str] = Field(description="The message in Arabic and English")


class ErrorOut(BaseModel):
    error: str = Field(examples=["invalid_input"])
    message: str
    messages: dict[str, str]
    fields: list[FieldProblem] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"]


# --- audience day (web/audience_api.py) ---------------------------------------------------------

ID_LIMIT = 2_147_483_647  # the database's integer keys; a larger number names nothing


class ArrivalIn(BaseModel):
    """A check-in at the desk: one identification of the appointment, and the desk's branch."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "oneOf": [
                {"required": ["appointment_id"]},
                {"required": ["arrival_code"]},
                {"required": ["tracking_number", "phone_last4"]},
            ]
        },
    )

    appointment_id: int | None = Field(default=None, ge=1, le=ID_LIMIT, description="As the desk's search shows it")
    arrival_code: str | None = Field(
        default=None, max_length=64, description="From the confirmation message", examples=["418-07316942"]
    )
    tracking_number: str | None = Field(default=None, max_length=64, examples=["26-000417-5"])
    phone_last4: str | None = Field(
        default=None, max_length=16, description="The last 4 digits of the phone given with the request"
    )
    branch: str = Field(max_length=16, description="The branch of the desk checking the applicant in")


class ArrivalOut(BaseModel):
    appointment_id: int
    queue_number: int = Field(description="1, 2, … in each session, in order of arrival; the hall screen shows it")
    arrived_at: datetime
    late: bool = Field(
        description="Came later than the grace minutes after the slot's start: heard after those on time"
    )
    session_id: int


class CurrentOut(BaseModel):
    """The audience before the official now."""

    audience_id: int
    queue_number: int
    tracking_number: str


class InLineOut(BaseModel):
    """One arrived applicant in the order of the day."""

    queue_number: int
    tracking_number: str
    applicant_name: str
    late: bool
    arrived_at: datetime
    state: Literal["arrived", "in_audience", "held", "no_show", "released", "scheduled", "confirmed"] = Field(
        description="The appointment's state"
    )
    waiting: bool = Field(description="Arrived and not yet called")
    audience_id: int | None = Field(description="Set once called; the outcome is recorded against it")
    called_at: datetime | None
    ended_at: datetime | None
    outcome: Literal["answered", "referred", "rejected", "needs_study"] | None


class HallSessionOut(BaseModel):
    """One of today's in-person sessions, with its order of the day (who is called first, first)."""

    id: int
    branch: str | None
    room: str | None
    starts_at: datetime
    ends_at: datetime
    current: CurrentOut | None
    line: list[InLineOut]


class CallNextIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    current_id: int | None = Field(
        ge=1,
        le=ID_LIMIT,
        description=(
            "The audience the console shows as current (null when none). A press whose current is no longer "
            "current changes nothing and answers moved: false with the audience now current."
        ),
    )


class CallNextOut(BaseModel):
    moved: bool = Field(description="False when the queue had already moved: nobody else was called")
    current: CurrentOut | None = Field(description="The audience now before the official; null when nobody is left")


def _codes_from_text(value: object) -> object:
    """The earlier form, one string of codes separated by commas, read as the list it names."""
    return referrals.department_codes(value) if isinstance(value, str) else value


# Departments by code: a list, or one string separated by commas (split before the list is checked, so
# both are held to the same limits). A code is at most 40 characters; fifty is more than any referral names.
DepartmentCodes = Annotated[
    list[Annotated[str, Field(max_length=40)]],
    Field(max_length=50),
    BeforeValidator(_codes_from_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 50},
                {"type": "string", "description": "Codes separated by commas"},
            ]
        }
    ),
]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    outcome: Literal["answered", "referred", "rejected", "needs_study"]
    directive: str = Field(max_length=4000, description="The official's words, for staff; never sent to the applicant")
    referred_to: DepartmentCodes = Field(
        default_factory=list,
        description="For a referral: the departments' codes (GET /api/v1/triage/departments), as an array, or as "
        "one string separated by commas (the earlier form). An unknown or retired code is refused by name.",
        examples=[["health", "hrsd"]],
    )


class OutcomeOut(BaseModel):
    audience_id: int
    tracking_number: str
    outcome: Literal["answered", "referred", "rejected", "needs_study"]
    directive: str
    referred_to: str = Field(description="The departments' codes, separated by commas; empty unless referred")
    called_at: datetime
    ended_at: datetime | None
    outcome_at: datetime | None


class TimedAudienceOut(BaseModel):
    tracking_number: str
    mode: Literal["in_person", "video"]
    room: str
    queue_number: int | None
    started_at: datetime
    ended_at: datetime
    minutes: float
    over_reference: bool


class DayReportOut(BaseModel):
    """The day's audiences against the source documents' 6 minutes, and how the day went, across every branch."""

    day: date
    appointments: int
    arrived: int
    on_time: int
    late: int
    held: int
    no_shows: int
    released: int
    in_audience: int = Field(description="Called but without an outcome yet")
    reference_minutes: float
    mean_minutes: float | None
    median_minutes: float | None
    over_reference: int = Field(description="Audiences longer than the reference")
    mean_wait_minutes: float | None = Field(description="From arrival to call")
    audiences: list[TimedAudienceOut]
