"""The status page is a progress tracker, on SQLite and PostgreSQL: passed stages ticked, the current one marked
aria-current="step", future ones plain, one plain line for where the request is; a closed request shows its end;
never a score, a rank or a note written for staff."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Case, StatusChange
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import service as triage
from tests.factories import Client, make_staff
from tests.priority.test_triage import new_case
from tests.web.asking import PHONES, placed
from tests.web.test_applicant_appointment import INTERNAL, status_page

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
STEP = re.compile(r'<li class="tracker-step step-(\w+)" id="stage-(\w+)"( aria-current="step")?>')


def steps(page: str) -> list[tuple[str, str, bool]]:
    """(stage, state, marked current) of each step of the tracker, in order."""
    return [(stage, state, bool(current)) for state, stage, current in STEP.findall(page)]


def tracker_line(page: str) -> str:
    found = re.search(r'id="tracker-line">(.*?)</p>', page, re.DOTALL)
    assert found is not None
    return found.group(1)


async def test_a_scheduled_request_shows_its_stage_and_its_audience_in_plain_words(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    status, page = await status_page(client, number, PHONES[0])
    assert status == 200
    assert steps(page) == [
        ("received", "done", False),
        ("triaged", "done", False),
        ("scheduled", "current", True),
        ("confirmed", "upcoming", False),
        ("held", "upcoming", False),
        ("referred", "upcoming", False),
        ("completed", "upcoming", False),
    ]
    assert page.count('aria-current="step"') == 1
    line = tracker_line(page)
    # The day, the time and the centre, and what to do next: confirm three days before.
    assert "موعد مقابلتكم يوم" in line and "الرياض" in line and "قبله بثلاثة أيام" in line
    assert "29 نوفمبر 2026" in line
    # The tracking number isolated left to right in the Arabic heading.
    assert f'<bdi dir="ltr" class="ltr">{number}</bdi>' in page.split("</h1>")[0]
    # The allocation wrote its score and rank on the step that scheduled the request: staff's words only.
    async with sessions() as session:
        notes = list(
            await session.scalars(
                select(StatusChange.note)
                .join(Case, Case.id == StatusChange.case_id)
                .where(Case.tracking_number == number)
            )
        )
    assert any(INTERNAL.search(note) for note in notes)
    assert not INTERNAL.search(page), INTERNAL.findall(page)
    assert not any(note and note in page for note in notes)

    english = (await status_page(client, number, PHONES[0], Cookie="majlis_lang=en"))[1]
    assert "Your audience is on <bdi>Sunday, November 29, 2026" in tracker_line(english)
    assert "<bdi>10:00" in tracker_line(english) and "<bdi>Riyadh</bdi>" in tracker_line(english)
    assert "Please confirm when asked three days before." in tracker_line(english)
    assert not INTERNAL.search(english)


async def test_a_new_request_is_received_with_everything_ahead(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock, applicant_phone=PHONES[1])
    page = (await status_page(client, number, PHONES[1], Cookie="majlis_lang=en"))[1]
    assert [(stage, state) for stage, state, _ in steps(page)][:2] == [("received", "current"), ("triaged", "upcoming")]
    assert [state for _, state, _ in steps(page)].count("upcoming") == 6
    assert "The audit desk is reviewing it" in tracker_line(page)


async def test_a_rejected_request_shows_its_end_instead_of_the_tracker(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await new_case(sessions, clock, applicant_phone=PHONES[2])
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "rejecter")).id
    async with transaction(sessions) as session:
        await triage.reject(
            session=session, clock=clock, tracking_number=number, actor_id=actor, reason="خارج الاختصاص", status_url=URL
        )
    page = (await status_page(client, number, PHONES[2]))[1]
    assert steps(page) == [] and 'class="tracker-steps"' not in page
    assert "تعذّر قبول طلبكم" in tracker_line(page)
    # The reason written for the applicant stays in the history, as the SMS said it.
    assert "خارج الاختصاص" in page
