"""A referred request as staff and as its applicant read it, on SQLite and PostgreSQL.

Staff (the case lookup, the audit desk's case page) read every exchange on the referrals merged with the
status changes in time order; the applicant (the status page and its API) reads the stages in plain words:
to whom and when, that a department answered, the outcome approved — never the directive, the answer, the
team's notes, a return or an escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from followup import escalation, referrals
from followup.models import Referral
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready
from tests.web.test_applicant_appointment import status_json, status_page
from web.case_history import staff_history
from web.i18n import Catalogs

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
PHONE = "+966501234567"
# What staff wrote, which the applicant must never read.
DIRECTIVE = "يحال إلى الجهة المختصة لدراسته وإفادة صاحبه."  # tests.priority.test_triage.ready's referral text
STAFF_ONLY = {
    "answer": "ANSWER: the unit was found vacant at inspection",
    "reminder": "REMINDER: please answer by Tuesday",
    "call": "CALL: spoke to the liaison, file with legal",
    "escalation": "ESCALATION: silent for two days",
    "return": "RETURN: the matter belongs to the municipality",
}
HOUSING_OUTCOME = "خُصصت لك وحدة سكنية، وتتصل بك الوزارة لتسليمها."
HEALTH_OUTCOME = "تتولى وزارة الإسكان طلبك."


def riyadh(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=RIYADH)


@dataclass(frozen=True)
class Followed:
    number: str
    case_id: int


async def _referral(sessions: Sessions, case_id: int, department_id: int) -> Referral:
    async with sessions() as session:
        return next(
            r for r in await referrals.of_case(session=session, case_id=case_id) if r.department_id == department_id
        )


async def followed_to_the_end(sessions: Sessions, clock: FrozenClock) -> Followed:
    """Referred to housing and health; housing acknowledges and answers, health is reminded, called, escalated
    and returns it; both are closed, the last completing the request."""
    housing = await add_department(sessions, "housing", name_ar="وزارة الإسكان", name_en="Ministry of Housing")
    health = await add_department(sessions, "health", name_ar="وزارة الصحة", name_en="Ministry of Health")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    team = (await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")).id
    clock.set(riyadh(29, 9, month=11))
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, route="written_referral", departments="housing, health")
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
    to_housing = (await _referral(sessions, case.id, housing)).id
    to_health = (await _referral(sessions, case.id, health)).id

    async def step(at: datetime, action: Any, **kwargs: Any) -> None:
        clock.set(at)
        async with transaction(sessions) as session:
            await action(session=session, clock=clock, **kwargs)

    link = {"generation": 1, "actor_id": None, "by": "Huda (housing liaison)"}
    await step(riyadh(30, 10, month=11), referrals.acknowledge, referral_id=to_housing, **link)
    await step(
        riyadh(30, 11, month=11),
        referrals.remind,
        referral_id=to_health,
        actor_id=team,
        by_sms=True,
        note=STAFF_ONLY["reminder"],
    )
    await step(
        riyadh(30, 11, 30, month=11), referrals.note_call, referral_id=to_health, actor_id=team, text=STAFF_ONLY["call"]
    )
    await step(
        riyadh(1, 9), escalation.escalate_now, referral_id=to_health, actor_id=team, reason=STAFF_ONLY["escalation"]
    )
    await step(
        riyadh(1, 10), referrals.answer, referral_id=to_housing, text=STAFF_ONLY["answer"], status_url=URL, **link
    )
    await step(
        riyadh(1, 12),
        referrals.return_to_team,
        referral_id=to_health,
        generation=None,
        actor_id=None,
        by="Sami (health liaison)",
        reason=STAFF_ONLY["return"],
    )
    await step(
        riyadh(2, 9), referrals.close, referral_id=to_housing, actor_id=team, outcome=HOUSING_OUTCOME, status_url=URL
    )
    await step(
        riyadh(2, 9, 30), referrals.close, referral_id=to_health, actor_id=team, outcome=HEALTH_OUTCOME, status_url=URL
    )
    return Followed(number=number, case_id=case.id)


async def test_staff_read_every_exchange_merged_with_the_status_changes_in_time_order(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    followed = await followed_to_the_end(sessions, clock)
    async with sessions() as session:
        history = await staff_history(
            session=session, case_id=followed.case_id, catalogs=Catalogs(), language="en", now=clock.now()
        )
    entries = history.entries
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    # From the referral on: each department's exchanges and the request's changes, one list.
    referred_at = next(i for i, e in enumerate(entries) if e.step == "Referred to a department")
    assert entries[0].step == "Received"
    assert [(e.step, e.department, e.by) for e in entries[referred_at:]] == [
        ("Referred to a department", "", "Staff audit_desk"),
        ("Referred to the department", "Ministry of Housing", "Staff audit_desk"),
        ("Referred to the department", "Ministry of Health", "Staff audit_desk"),
        ("Acknowledged by the department", "Ministry of Housing", "Huda (housing liaison)"),
        ("Reminder sent", "Ministry of Health", "Staff follow_up"),
        ("Phone call", "Ministry of Health", "Staff follow_up"),
        ("Escalated", "Ministry of Health", "Staff follow_up"),
        ("Answered by the department", "Ministry of Housing", "Huda (housing liaison)"),
        ("Returned: not the department's", "Ministry of Health", "Sami (health liaison)"),
        ("Referral closed with its outcome", "Ministry of Housing", "Staff follow_up"),
        ("Referral closed with its outcome", "Ministry of Health", "Staff follow_up"),
        ("Completed", "", "Staff follow_up"),
    ]
    notes = [e.note for e in entries[referred_at:]]
    assert notes[1] == DIRECTIVE and notes[7] == STAFF_ONLY["answer"] and notes[9] == HOUSING_OUTCOME
    assert notes[4] == f"By e-mail and SMS\n{STAFF_ONLY['reminder']}"
    assert notes[6] == f"Level 1: Head of Ministry of Health (head of health)\n{STAFF_ONLY['escalation']}"
    assert [(line.department, line.state, line.referral.escalation_level) for line in history.referrals] == [
        ("Ministry of Housing", "Closed", 0),
        ("Ministry of Health", "Closed", 1),
    ]

    # The same on the pages: the case lookup (any of the request's staff) and the audit desk's case page.
    await sign_in(client, "followup")
    page = await (await client.get("/cases", params={"tracking_number": followed.number, "lang": "ar"})).text()
    for text in (DIRECTIVE, *STAFF_ONLY.values(), HOUSING_OUTCOME, "Huda (housing liaison)", "وزارة الصحة"):
        assert text in page, text
    assert page.index(STAFF_ONLY["reminder"]) < page.index(STAFF_ONLY["call"]) < page.index(STAFF_ONLY["answer"])
    assert 'id="referrals"' in page
    await sign_in(client, "auditor")
    page = await (await client.get(f"/audit/cases/{followed.number}")).text()
    assert STAFF_ONLY["escalation"] in page and page.index(STAFF_ONLY["answer"]) < page.index(STAFF_ONLY["return"])
    # A department's liaison officer reads their own referrals only, never a request's whole history.
    await make_staff(sessions, clock, Role.DEPARTMENT_LIAISON, "liaison", department_code="health")
    await sign_in(client, "liaison")
    assert (await client.get("/cases", params={"tracking_number": followed.number})).status == 403


async def test_the_applicant_reads_the_stages_and_nothing_staff_wrote(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    followed = await followed_to_the_end(sessions, clock)
    status, page = await status_page(client, followed.number, PHONE)
    assert status == 200
    assert 'id="referral-stages"' in page
    for text in (DIRECTIVE, *STAFF_ONLY.values(), "Huda", "Sami", "head of health"):
        assert text not in page, text
    stages = page[page.index('id="referral-stages"') : page.index("</ol>", page.index('id="referral-stages"'))]
    assert stages.count("<li") == 5
    assert "أُحيل الطلب إلى \u2068وزارة الإسكان\u2069" in stages and "أُحيل الطلب إلى \u2068وزارة الصحة\u2069" in stages
    assert HOUSING_OUTCOME in stages and HEALTH_OUTCOME in stages

    english = await status_json(client, followed.number, PHONE, language="en")
    assert [(s["stage"], s["department"].strip("\u2068\u2069")) for s in english["referral_stages"]] == [
        ("referred", "Ministry of Housing"),
        ("referred", "Ministry of Health"),
        ("answered", "Ministry of Housing"),
        ("completed", "Ministry of Housing"),
        ("completed", "Ministry of Health"),
    ]
    assert english["referral_stages"][0]["text"].startswith("Referred to \u2068Ministry of Housing\u2069 on ")
    assert english["referral_stages"][3]["outcome"] == HOUSING_OUTCOME
    body = str(english)
    for text in (DIRECTIVE, *STAFF_ONLY.values()):
        assert text not in body, text
