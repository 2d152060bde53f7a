"""The fairness record's demo: a request moved up the queue on a court date and placed ahead of an older one of the
same category, so that after `make run` the auditor's pages show a pass with its recorded justification.

Two requests for an in-person audience, both "general" and normal: the older submitted six days ago, the newer two
days ago. The audit desk classified both; then, on the newer one's court date, moved it up the queue with that
reason; the weekly allocation placed it in an earlier seat than the older one. The chain records the pass and the
change that allows it (scheduler.placement_chain). Each step goes through the service the page calls, on a clock
set to when it happened. Run again, the demo adds nothing: the older request is found by its applicant's national
ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import StaffUser
from cases import service as cases
from cases.intake import check_request
from cases.models import Applicant, Case, Channel
from fairness import explain
from majlis.clock import Clock, FrozenClock
from priority import service as triage
from scheduler import service as scheduling

# National IDs with valid check digits that belong to nobody.
OLDER: Final[tuple[dict[str, Any], dict[str, Any]]] = (
    {"kind": "citizen", "id_number": "1000000206", "name": "بندر ناصر الشمري", "gender": "male",
     "phone": "0503330201", "language": "ar"},
    {"kind": "audience_in_person", "subject": "طلب مقابلة بشأن تعويض نزع ملكية",
     "text": "نزعت ملكية أرضي لصالح مشروع طريق ولم يصرف التعويض بعد.", "branch": "riyadh"},
)  # fmt: skip
NEWER: Final[tuple[dict[str, Any], dict[str, Any]]] = (
    {"kind": "citizen", "id_number": "1000000214", "name": "هند سالم الغامدي", "gender": "female",
     "phone": "0503330202", "language": "ar"},
    {"kind": "audience_in_person", "subject": "طلب مقابلة قبل موعد جلسة المحكمة",
     "text": "لدي جلسة في المحكمة العامة بعد أسبوعين في قضية إرث، وأرجو عرض أمري قبلها.", "branch": "riyadh"},
)  # fmt: skip
# The audit desk's reason for moving the newer request up: read by staff and auditors, never by the applicant.
COURT_DATE: Final = "جلسة المحكمة العامة بعد أسبوعين، وقد تفوت المتقدمة فرصة عرض أمرها قبلها."
STAFF: Final = ("audit", "protocol")


@dataclass(frozen=True)
class FairnessShown:
    """What `majlis demo` prints: the request placed ahead, the one it passed."""

    placed: str
    passed: str


async def _case_of(session: AsyncSession, id_number: str) -> Case | None:
    return await session.scalar(
        select(Case).join(Applicant, Applicant.id == Case.applicant_id).where(Applicant.id_number == id_number)
    )


async def load(*, session: AsyncSession, clock: Clock, status_url: str) -> FairnessShown | None:
    """The two requests and the pass, made once; None when the demo's staff are missing."""
    staff = {u.username: u.id for u in await session.scalars(select(StaffUser).where(StaffUser.username.in_(STAFF)))}
    if len(staff) < len(STAFF):
        return None
    older, newer = await _case_of(session, OLDER[0]["id_number"]), await _case_of(session, NEWER[0]["id_number"])
    if older is None or newer is None:
        now = clock.now()
        steps = FrozenClock(now)
        numbers = []
        for (applicant, request), days in ((OLDER, 6), (NEWER, 2)):
            steps.set(now - timedelta(days=days, hours=-1))
            details = check_request(applicant, request, channel=Channel.WALK_IN)
            submission = await cases.submit(session=session, clock=steps, details=details, status_url=status_url)
            number = submission.case.tracking_number
            steps.advance(timedelta(hours=2))
            await triage.verify(session=session, clock=steps, tracking_number=number, actor_id=staff["audit"])
            await triage.classify(
                session=session, clock=steps, tracking_number=number, actor_id=staff["audit"], category="general",
                urgency="normal",
            )  # fmt: skip
            await triage.route(
                session=session, clock=steps, tracking_number=number, actor_id=staff["audit"],
                to="audience_in_person", status_url=status_url,
            )  # fmt: skip
            numbers.append(number)
        steps.set(now - timedelta(hours=3))
        await triage.move_up(
            session=session, clock=steps, tracking_number=numbers[1], actor_id=staff["audit"], points=60,
            change_reason="legal_deadline", change_text=COURT_DATE,
        )  # fmt: skip
        await scheduling.run_allocation(session=session, clock=clock, actor_id=staff["protocol"], status_url=status_url)
        older, newer = await _case_of(session, OLDER[0]["id_number"]), await _case_of(session, NEWER[0]["id_number"])
        assert older is not None and newer is not None
    placed = await explain.placement_explanations(session=session, case_id=newer.id)
    if not any(p.passed for p in placed):
        return None  # the calendar had no seat for it (a database someone changed by hand)
    return FairnessShown(placed=newer.tracking_number, passed=older.tracking_number)
