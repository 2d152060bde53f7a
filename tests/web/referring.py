"""Requests referred to departments, for the department's pages and API (and their browser test)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from followup import attachments, referrals
from followup.attachments import AttachmentStore, Upload
from followup.models import AttachmentOwner, Referral, ReferralEvent, ReferralSource
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.links import Links
from priority.score import Urgency
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
DIRECTIVE = "يُحال إلى الجهة المختصة لدراسة حالة الأسرة وإفادة صاحب الطلب بالنتيجة."
# The applicant of tests.factories.details: a national ID and a phone the department must not see.
ID_NUMBER = "1000000008"
PHONE_DIGITS = "501234567"


@dataclass(frozen=True)
class Referred:
    tracking_number: str
    case_id: int
    referral_id: int
    generation: int

    def token(self, links: Links) -> str:
        return links.referral_token(self.referral_id, self.generation)

    def page(self, links: Links) -> str:
        return f"/r/{self.token(links)}"


async def department(sessions: Sessions, code: str, name_ar: str, name_en: str) -> int:
    return await add_department(sessions, code, name_ar=name_ar, name_en=name_en)


async def refer(
    sessions: Sessions, clock: FrozenClock, *codes: str, tracking_number: str | None = None
) -> list[Referred]:
    """A new request (or the one given) referred in writing to the departments of these codes."""
    number = tracking_number or await new_case(sessions, clock)
    async with transaction(sessions) as session:
        found = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert found is not None
        case = (await cases.lock_cases(session=session, case_ids=[found.id]))[found.id]
        chosen = await referrals.departments_by_code(session=session, codes=list(codes))
        made = await referrals.refer(
            session=session,
            clock=clock,
            case=case,
            department_ids=[d.id for d in chosen],
            directive=DIRECTIVE,
            source=ReferralSource.AUDIT_DESK,
            category_code="general",
            urgency=Urgency.NORMAL,
            actor_id=None,
            status_url=URL,
        )
        return [Referred(number, case.id, r.id, r.generation) for r in made]


async def staff_file(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore, case_id: int, name: str, content: bytes
) -> int:
    """A file kept with the request itself (not with any referral), as staff attach evidence."""
    async with transaction(sessions) as session:
        [row] = await attachments.attach(
            session=session,
            clock=clock,
            store=store,
            case_id=case_id,
            uploads=[Upload(filename=name, file=io.BytesIO(content))],
            added_by=AttachmentOwner.STAFF,
        )
        return row.id


async def referral(sessions: Sessions, referral_id: int) -> Referral:
    async with sessions() as session:
        found = await session.get(Referral, referral_id)
    assert found is not None
    return found


async def events(sessions: Sessions, referral_id: int) -> list[ReferralEvent]:
    async with sessions() as session:
        return await referrals.events_of(session=session, referral_id=referral_id)


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
