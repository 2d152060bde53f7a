"""The emergency reports API's JSON shapes (web/emergency_api.py), strict on input, listed in the OpenAPI document.

A report's body is emergency/intake.py's model itself, so one 422 names every bad field (an unknown country, an
invalid phone abroad …) in Arabic and English, as the agent's form does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from emergency.intake import ReportDraft
from web.api_models import ID_LIMIT


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmergencyReportIn(ReportDraft):
    """A report as the agent registers it: the agent's form's own check (emergency.intake), extra fields refused."""

    model_config = ConfigDict(extra="forbid")


class AcknowledgeIn(_Body):
    """Acknowledge takes nothing: the signed-in member of staff acknowledges (an empty object, or no body)."""


class UpdateIn(_Body):
    note: str = Field(max_length=8000, description="News on the report, for its history")


class SolveIn(_Body):
    outcome: str = Field(max_length=8000, description="What was done, as the citizen will read it by SMS")
    handed_over: bool = Field(
        default=False, description="True: handed over to another authority; false: solved by the mission"
    )


class ReassignIn(_Body):
    mission_id: int = Field(ge=1, le=ID_LIMIT, description="The mission the report is sent to")
    reason: str = Field(max_length=8000)


class ReportMissionOut(BaseModel):
    id: int
    code: str
    name_ar: str
    name_en: str
    country: str
    time_zone: str = Field(description="The IANA zone every time of its reports is also read in")


LOCAL = "in the mission's local time (ISO 8601 with its offset)"
RIYADH = "in Riyadh time (ISO 8601 with +03:00)"


class ReportEventOut(BaseModel):
    kind: str
    at: datetime
    at_mission: str = Field(description=f"When, {LOCAL}")
    at_riyadh: str = Field(description=f"When, {RIYADH}")
    by: str = Field(description="Who: a member of staff's name, the duty officer's, or empty for Majlis itself")
    note: str


class EmergencyReportOut(BaseModel):
    number: str
    state: Literal["open", "acknowledged", "solved", "handed_over"]
    severity: Literal["life_threatening", "urgent", "normal"]
    type: str
    country: str
    country_name: str = Field(description="In the reader's language")
    city: str
    mission: ReportMissionOut
    through_central_desk: bool = Field(description="The covering mission is not live yet: the central desk has it")
    covering_mission: ReportMissionOut | None
    national_id: str
    caller_name: str
    phone: str
    language: str
    account: str
    source: str
    created_at: datetime
    created_at_mission: str = Field(description=f"Registered, {LOCAL}")
    created_at_riyadh: str = Field(description=f"Registered, {RIYADH}")
    acknowledge_due_at: datetime
    acknowledge_due_at_mission: str = Field(description=f"To be acknowledged by, {LOCAL}")
    acknowledge_due_at_riyadh: str = Field(description=f"To be acknowledged by, {RIYADH}")
    solve_due_at: datetime
    solve_due_at_mission: str = Field(description=f"To be solved or handed over by, {LOCAL}")
    solve_due_at_riyadh: str = Field(description=f"To be solved or handed over by, {RIYADH}")
    acknowledged_at: datetime | None
    acknowledged_at_mission: str | None = Field(description=f"Acknowledged, {LOCAL}")
    acknowledged_at_riyadh: str | None = Field(description=f"Acknowledged, {RIYADH}")
    acknowledged_by: str
    solved_at: datetime | None
    solved_at_mission: str | None = Field(description=f"Solved or handed over, {LOCAL}")
    solved_at_riyadh: str | None = Field(description=f"Solved or handed over, {RIYADH}")
    outcome: str
    escalation_level: int = Field(
        description="0 the duty officer, 1 the head of mission, 2 the consular deputy, 3 the deputy told the "
        "solution is overdue, 4 and up the deputy reminded each day until solved"
    )
    overdue: bool = Field(description="A deadline still owed has passed")


class EmergencyReportDetailOut(EmergencyReportOut):
    events: list[ReportEventOut]


class EmergencyReportListOut(BaseModel):
    reports: list[EmergencyReportOut]
    page: int | None = Field(
        description="Which page `reports` is (?page=, from 1; past the last, the last); null for the open queue, "
        "which comes whole"
    )
    pages: int | None = Field(description="How many pages there are; null for the open queue")
    per_page: int | None = Field(description="Reports a page; null for the open queue")
    total: int = Field(description="How many reports the list holds in all")


INPUTS: tuple[type[BaseModel], ...] = (EmergencyReportIn, AcknowledgeIn, UpdateIn, SolveIn, ReassignIn)
OUTPUTS: tuple[type[BaseModel], ...] = (
    ReportMissionOut,
    ReportEventOut,
    EmergencyReportOut,
    EmergencyReportDetailOut,
    EmergencyReportListOut,
)
