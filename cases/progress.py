"""Where a request is, as its applicant follows it: the stages of the status tracker.

received → triaged → scheduled → confirmed → held → referred → completed. The request's status says which
stage it has reached; two facts the status alone does not hold say which stages it went through: whether an
audience was held (a request referred in writing, or completed by the audit desk, never had one) and whether
it was referred to a department. Stages a request went past without needing them (a written referral has no
audience) are left out of its tracker rather than shown as done. A rejected, merged or closed request has no
tracker: its end is shown instead.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cases.models import CaseStatus


class Stage(enum.StrEnum):
    RECEIVED = "received"
    TRIAGED = "triaged"
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    HELD = "held"
    REFERRED = "referred"
    COMPLETED = "completed"


STAGES = tuple(Stage)
AUDIENCE_STAGES = frozenset({Stage.SCHEDULED, Stage.CONFIRMED, Stage.HELD})
AFTER_AUDIENCE = frozenset({Stage.REFERRED, Stage.COMPLETED})


class Ending(enum.StrEnum):
    """How a request ended without being completed."""

    REJECTED = "rejected"
    MERGED = "merged"
    CLOSED_NO_SHOW = "closed_no_show"


class StepState(enum.StrEnum):
    DONE = "done"
    CURRENT = "current"
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class Step:
    stage: Stage
    state: StepState


@dataclass(frozen=True)
class Progress:
    """The tracker of one request: its steps in order, or (`ending`) how it ended and no steps."""

    steps: tuple[Step, ...]
    current: Stage | None
    ending: Ending | None = None
    # The request waits for information from the applicant (asked by the audit desk or a department).
    waiting_for_applicant: bool = False


_STAGE_OF: dict[CaseStatus, Stage] = {
    CaseStatus.RECEIVED: Stage.RECEIVED,
    CaseStatus.AWAITING_AUDIENCE: Stage.TRIAGED,
    CaseStatus.SCHEDULED: Stage.SCHEDULED,
    CaseStatus.CONFIRMED: Stage.CONFIRMED,
    # The official heard the request and asked for it to be studied: the audience is behind it.
    CaseStatus.UNDER_STUDY: Stage.HELD,
    CaseStatus.REFERRED: Stage.REFERRED,
    CaseStatus.COMPLETED: Stage.COMPLETED,
}
_ENDING_OF: dict[CaseStatus, Ending] = {
    CaseStatus.REJECTED: Ending.REJECTED,
    CaseStatus.DUPLICATE: Ending.MERGED,
    CaseStatus.CLOSED_NO_SHOW: Ending.CLOSED_NO_SHOW,
}


def progress_of(
    status: CaseStatus, *, audience_held: bool, referred: bool, returns_to: CaseStatus | None = None
) -> Progress:
    """The tracker for a request in `status`.

    `audience_held`: an audience of the request was held; `referred`: it was referred to a department;
    `returns_to`: while it waits for information, the status it goes back to once answered (where it is).
    """
    if status in _ENDING_OF:
        return Progress(steps=(), current=None, ending=_ENDING_OF[status])
    waiting = status is CaseStatus.NEEDS_INFORMATION
    if waiting:
        back = returns_to if returns_to in _STAGE_OF else CaseStatus.RECEIVED
        assert back is not None
        current = _STAGE_OF[back]
    else:
        current = _STAGE_OF[status]
    at = STAGES.index(current)
    steps = []
    for index, stage in enumerate(STAGES):
        if index < at:
            # Past stages that never happened: no audience before a written referral or a completion,
            # no referral before a completion straight after the audience.
            if stage in AUDIENCE_STAGES and current in AFTER_AUDIENCE and not audience_held:
                continue
            if stage is Stage.REFERRED and not referred:
                continue
            steps.append(Step(stage, StepState.DONE))
        elif index == at:
            steps.append(Step(stage, StepState.CURRENT))
        else:
            steps.append(Step(stage, StepState.UPCOMING))
    return Progress(steps=tuple(steps), current=current, waiting_for_applicant=waiting)
