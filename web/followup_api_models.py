"""The follow-up team's JSON shapes (web/followup_api.py), strict on input, listed in the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RemindIn(_Body):
    sms: bool = Field(default=False, description="Also by SMS to the liaison officers who have a mobile")
    note: str = Field(default="", max_length=4000, description="Added to the reminder e-mail")


class CallIn(_Body):
    note: str = Field(max_length=4000, description="What was said on the phone")


class EscalateIn(_Body):
    reason: str = Field(max_length=4000)


class ExtendIn(_Body):
    amount: int = Field(ge=1, le=10_000, description="How much more working time, in the unit given")
    unit: Literal["hours", "working_days"] = Field(
        description="Working days are the department calendar's (its longest day's working time)"
    )
    reason: str = Field(max_length=4000)


class CloseIn(_Body):
    outcome: str = Field(
        max_length=4000,
        description="The outcome the applicant is told; closing the last open referral completes the request",
    )


class ReferIn(_Body):
    departments: list[str] = Field(max_length=50, description="Department codes")
    directive: str = Field(max_length=4000)


class ReferralDepartmentOut(BaseModel):
    code: str
    name_ar: str
    name_en: str


class FollowUpItemOut(BaseModel):
    tracking_number: str
    referral_id: int | None = Field(description="None for a referred request with no open referral")
    department: ReferralDepartmentOut | None
    state: str = Field(description="The referral's state, or unreferred")
    team_action: str | None = Field(
        description="review_and_close, refer_or_close, close_returned or refer; none while with a department"
    )
    clock: str | None = Field(description="The nearest clock still owed: first_response, update or solution")
    due_at: datetime | None
    working_minutes_left: int | None = Field(
        description="Working minutes to that clock, negative once overdue; frozen while paused"
    )
    overdue: bool
    paused: bool = Field(description="Waiting for the applicant: the clocks are stopped")
    escalation_level: int
    waiting_since: datetime | None = Field(description="Since when the team's action has been awaited")


class FollowUpCountsOut(BaseModel):
    items: int
    overdue: int
    team_action: int
    paused: int
    unreferred: int


class FollowUpOut(BaseModel):
    now: datetime
    counts: FollowUpCountsOut = Field(description="Over the whole list, whatever the filters")
    items: list[FollowUpItemOut] = Field(
        description="The team's own work first (longest waiting first), then overdue first, then least time left"
    )


class ReferralEventOut(BaseModel):
    kind: str
    at: datetime
    by: str = Field(description="The member of staff, the department's label through its link, or empty (the sweep)")
    text: str
    details: dict[str, str]


class ReferralOut(BaseModel):
    id: int
    tracking_number: str
    department: ReferralDepartmentOut
    state: str
    source: str
    directive: str
    created_at: datetime
    first_response_due_at: datetime
    next_update_due_at: datetime | None
    solution_due_at: datetime
    extended_minutes: int
    paused_since: datetime | None
    acknowledged_at: datetime | None
    answered_at: datetime | None
    answer: str
    closed_at: datetime | None
    outcome: str
    escalation_level: int
    events: list[ReferralEventOut]


FOLLOWUP_INPUTS: tuple[type[BaseModel], ...] = (RemindIn, CallIn, EscalateIn, ExtendIn, CloseIn, ReferIn)
FOLLOWUP_OUTPUTS: tuple[type[BaseModel], ...] = (FollowUpOut, ReferralOut)
