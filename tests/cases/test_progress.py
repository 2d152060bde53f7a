"""The applicant's tracker (cases.progress): every status of a request maps to one stage or one ending."""

from __future__ import annotations

import pytest

from cases.models import CaseStatus
from cases.progress import Ending, Stage, StepState, progress_of

DONE, CURRENT, UPCOMING = StepState.DONE, StepState.CURRENT, StepState.UPCOMING


def shown(status: CaseStatus, **facts: object) -> list[tuple[str, StepState]]:
    options = {"audience_held": False, "referred": False, **facts}
    progress = progress_of(status, **options)  # type: ignore[arg-type]
    return [(step.stage.value, step.state) for step in progress.steps]


# Every status, with what its tracker shows: (status, audience held, referred) → the steps.
EXPECTED = {
    (CaseStatus.RECEIVED, False, False): [
        ("received", CURRENT),
        ("triaged", UPCOMING),
        ("scheduled", UPCOMING),
        ("confirmed", UPCOMING),
        ("held", UPCOMING),
        ("referred", UPCOMING),
        ("completed", UPCOMING),
    ],
    (CaseStatus.AWAITING_AUDIENCE, False, False): [
        ("received", DONE),
        ("triaged", CURRENT),
        ("scheduled", UPCOMING),
        ("confirmed", UPCOMING),
        ("held", UPCOMING),
        ("referred", UPCOMING),
        ("completed", UPCOMING),
    ],
    (CaseStatus.SCHEDULED, False, False): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", CURRENT),
        ("confirmed", UPCOMING),
        ("held", UPCOMING),
        ("referred", UPCOMING),
        ("completed", UPCOMING),
    ],
    (CaseStatus.CONFIRMED, False, False): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", DONE),
        ("confirmed", CURRENT),
        ("held", UPCOMING),
        ("referred", UPCOMING),
        ("completed", UPCOMING),
    ],
    (CaseStatus.UNDER_STUDY, True, False): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", DONE),
        ("confirmed", DONE),
        ("held", CURRENT),
        ("referred", UPCOMING),
        ("completed", UPCOMING),
    ],
    # Referred by the official after the audience.
    (CaseStatus.REFERRED, True, True): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", DONE),
        ("confirmed", DONE),
        ("held", DONE),
        ("referred", CURRENT),
        ("completed", UPCOMING),
    ],
    # Referred in writing by the audit desk: no audience was part of it.
    (CaseStatus.REFERRED, False, True): [
        ("received", DONE),
        ("triaged", DONE),
        ("referred", CURRENT),
        ("completed", UPCOMING),
    ],
    # Answered at the audience: completed without a referral.
    (CaseStatus.COMPLETED, True, False): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", DONE),
        ("confirmed", DONE),
        ("held", DONE),
        ("completed", CURRENT),
    ],
    (CaseStatus.COMPLETED, True, True): [
        ("received", DONE),
        ("triaged", DONE),
        ("scheduled", DONE),
        ("confirmed", DONE),
        ("held", DONE),
        ("referred", DONE),
        ("completed", CURRENT),
    ],
    (CaseStatus.COMPLETED, False, True): [
        ("received", DONE),
        ("triaged", DONE),
        ("referred", DONE),
        ("completed", CURRENT),
    ],
    (CaseStatus.COMPLETED, False, False): [("received", DONE), ("triaged", DONE), ("completed", CURRENT)],
}


@pytest.mark.parametrize(
    ("key", "steps"), EXPECTED.items(), ids=lambda v: "-".join(map(str, v)) if isinstance(v, tuple) else ""
)
def test_each_status_has_its_stage(key: tuple[CaseStatus, bool, bool], steps: list[tuple[str, StepState]]) -> None:
    status, held, referred = key
    assert shown(status, audience_held=held, referred=referred) == steps
    progress = progress_of(status, audience_held=held, referred=referred)
    assert progress.ending is None and not progress.waiting_for_applicant
    assert [s.stage for s in progress.steps if s.state is CURRENT] == [progress.current]


@pytest.mark.parametrize(
    ("status", "ending"),
    [
        (CaseStatus.REJECTED, Ending.REJECTED),
        (CaseStatus.DUPLICATE, Ending.MERGED),
        (CaseStatus.CLOSED_NO_SHOW, Ending.CLOSED_NO_SHOW),
    ],
)
def test_an_ended_request_shows_its_end_and_no_steps(status: CaseStatus, ending: Ending) -> None:
    for held in (False, True):
        progress = progress_of(status, audience_held=held, referred=held)
        assert progress.ending is ending and progress.steps == () and progress.current is None


@pytest.mark.parametrize(
    ("returns_to", "current"),
    [
        (None, Stage.RECEIVED),
        (CaseStatus.RECEIVED, Stage.RECEIVED),
        (CaseStatus.AWAITING_AUDIENCE, Stage.TRIAGED),
        (CaseStatus.REFERRED, Stage.REFERRED),
        # Never a status that is not a stage: it waits where it was received.
        (CaseStatus.NEEDS_INFORMATION, Stage.RECEIVED),
    ],
)
def test_waiting_for_the_applicant_stays_at_the_stage_it_returns_to(
    returns_to: CaseStatus | None, current: Stage
) -> None:
    progress = progress_of(
        CaseStatus.NEEDS_INFORMATION, audience_held=False, referred=current is Stage.REFERRED, returns_to=returns_to
    )
    assert progress.waiting_for_applicant and progress.current is current and progress.ending is None
    assert [s.stage for s in progress.steps if s.state is CURRENT] == [current]


def test_every_status_is_covered() -> None:
    """A new status added to the model must be placed on the tracker (or as an ending) here first."""
    covered = {key[0] for key in EXPECTED} | {
        CaseStatus.REJECTED,
        CaseStatus.DUPLICATE,
        CaseStatus.CLOSED_NO_SHOW,
        CaseStatus.NEEDS_INFORMATION,
    }
    assert covered == set(CaseStatus)
    for status in CaseStatus:
        progress_of(status, audience_held=False, referred=False)  # no status raises
