"""The auditor's JSON shapes (web/audit_api.py), also what the pages and the CSV/XLSX files are made from.

Nothing here can carry an applicant's name, national ID or phone: a request is named by its tracking number
alone, and the fields are filled from the fairness chain, which holds none (fairness/models.py).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SeatOut(BaseModel):
    slot_id: int
    seat: int = Field(description="The seat's number in its slot")
    starts_at: str = Field(description="When the audience starts (ISO 8601)")
    room: str = Field(description="The room's name")
    branch: str = Field(description="The reception centre's code")
    mode: str = Field(description="in_person or video")
    women_section: bool
    accessible: bool


class AheadOut(BaseModel):
    """A request placed before this one in the same run: higher in priority order."""

    tracking_number: str
    score: float


class JustificationOut(BaseModel):
    by: str = Field(
        description="raised (a change raised this request), lowered (a change lowered the one passed), "
        "by_hand (a seat chosen by hand or on the official's directive), one_appointment (the one passed "
        "already held an appointment)"
    )
    field: str = Field(description="The field the recorded change set (urgency, queue_position …)")
    before: str
    after: str
    reason: str = Field(description="The reason's code")
    text: str = Field(description="The reason as staff wrote it")


class PassedOut(BaseModel):
    """An older request, of equal or higher score by rule, that could have sat in this seat and did not."""

    tracking_number: str
    base_score: float
    score: float
    submitted_at: str
    justification: JustificationOut | None = Field(description="What allows the pass; none: unjustified")


class PlacementOut(BaseModel):
    seq: int = Field(description="The entry's position in the fairness chain")
    hash: str = Field(description="The entry's SHA-256 hash (hex)")
    at: datetime
    kind: str = Field(description="placement, or move (by hand, to another seat)")
    actor: str | None = Field(description="The member of staff who made it; none: Majlis, by rule")
    tracking_number: str
    rule: str = Field(description="allocation_run, urgent_on_routing, backfill, by_hand, directive, move …")
    score: float = Field(description="The effective priority score when placed")
    base_score: float = Field(description="The score by rule alone, without any hand-made change")
    urgency: str
    category: str = Field(description="The category's code")
    rank: int | None = Field(description="Its place in the run's priority order")
    total: int | None = Field(description="How many the run placed")
    seat: SeatOut
    placed_before: int = Field(description="How many the run placed before it")
    before: list[AheadOut] = Field(description="The first of those placed before it")
    passed: list[PassedOut]
    unjustified: bool = Field(description="It passed an older request with no recorded justification")
    justification: str = Field(description="The justification written on the entry")
    explanation: str = Field(description="The placement explained in one English sentence, as recorded")


class AnchorOut(BaseModel):
    day: str
    seq: int
    hash: str


class ChainOut(BaseModel):
    intact: bool
    entries: int = Field(description="How many entries were checked")
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = Field(description="The first entry altered, removed or out of order")
    problem: str | None = Field(description="altered, removed, reordered or rewritten (against an anchor)")
    description: str | None = Field(description="What is wrong, in plain English")
    anchors_checked: int = Field(description="How many anchors (given, and from the anchor file) matched the chain")
    anchors_in_file: int = Field(description="How many anchors the anchor file (outside the database) holds")
    anchor_file_problem: str | None = Field(description="Why the anchor file could not be read, if it could not")
    anchors: list[AnchorOut] = Field(description="The last anchors sent out (as recorded; checked against the chain)")


AUDIT_OUTPUTS: tuple[type[BaseModel], ...] = (
    SeatOut,
    AheadOut,
    JustificationOut,
    PassedOut,
    PlacementOut,
    AnchorOut,
    ChainOut,
)
