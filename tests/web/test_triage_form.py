"""The audit desk's triage as one form: one submit saves every part, a refused field saves nothing and is named
beside its field, the route starts from what the applicant asked for, and the page says what was done."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from priority.models import Route, Triage
from priority.score import Urgency
from scheduler.models import UnavailableDay
from tests.factories import Client, api_payload, csrf_token, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def submit(client: Client, **overrides: object) -> str:
    body = await (await client.post("/api/v1/requests", json=api_payload(**overrides))).json()
    return str(body["tracking_number"])


async def triage_of(sessions: Sessions, number: str) -> Triage | None:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        return await session.get(Triage, case.id)


async def status_of(sessions: Sessions, number: str) -> CaseStatus:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        return case.status


async def test_the_route_starts_from_what_the_applicant_asked_for(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    video = await submit(client)  # kind audience_video
    complaint = await submit(client, kind="complaint", applicant_phone="+966501234568", text="شكوى من تأخر معاملة")
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    page = await (await client.get(f"/audit/cases/{video}?lang=en")).text()
    assert '<option value="audience_video" selected>' in page
    assert "The applicant asked for: Audience by video" in page
    page = await (await client.get(f"/audit/cases/{complaint}?lang=en")).text()
    assert '<option value="written_referral" selected>' in page
    assert '<option value="audience_video" selected>' not in page
    # One form for the triage; asking the applicant and rejecting stay apart, the irreversible ones ask first.
    assert page.count(f'action="/audit/cases/{complaint}/triage"') == 1
    for gone in ("verify", "classify", "route", "move-up", "unavailable-days"):
        assert f'action="/audit/cases/{complaint}/{gone}"' not in page
    assert f'action="/audit/cases/{complaint}/needs-information"' in page
    assert 'id="reject-form" data-confirm="Reject this request?' in page


async def test_one_submit_saves_every_part_and_says_so(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = await csrf_token(client, f"/audit/cases/{number}")
    saved = await client.post(
        f"/audit/cases/{number}/triage",
        data={
            "csrf_token": token,
            "verified": "1",
            "category": "family_personal_status",
            "urgency": "",  # as the category implies
            "route": "audience_video",
            "points": "20",
            "change_reason": "health_or_safety",
            "change_text": "الأطفال في خطر",
            "days": "2026-12-20, 2026-12-27",
        },
        allow_redirects=False,
    )
    assert saved.status == 303, await saved.text()
    assert saved.headers["Location"] == f"/audit/cases/{number}"
    row = await triage_of(sessions, number)
    assert row is not None and row.verified_at is not None
    assert row.category_code == "family_personal_status" and row.urgency is Urgency.NORMAL
    assert row.route is Route.AUDIENCE_VIDEO and row.women_section  # a woman's video audience
    assert row.queue_adjustment == 20
    assert await status_of(sessions, number) is CaseStatus.AWAITING_AUDIENCE
    async with sessions() as session:
        days = list(await session.scalars(select(UnavailableDay.day).order_by(UnavailableDay.day)))
    assert [d.isoformat() for d in days] == ["2026-12-20", "2026-12-27"]
    page = await (await client.get(f"/audit/cases/{number}?lang=ar")).text()
    assert 'role="status"' in page and f"حُفظ فرز الطلب رقم \u2068{number}\u2069." in page
    english = await (await client.get(f"/audit/cases/{number}?lang=en")).text()
    assert "The triage of request" not in english  # shown once


async def test_a_refused_field_saves_nothing_and_is_named_beside_it(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = await csrf_token(client, f"/audit/cases/{number}")
    refused = await client.post(
        f"/audit/cases/{number}/triage?lang=en",
        data={
            "csrf_token": token,
            "verified": "1",
            "category": "housing",
            "urgency": "critical",  # above what the category implies, with no reason given
            "route": "audience_in_person",
            "points": "9000",
            "days": "next friday",
        },
    )
    assert refused.status == 422
    page = await refused.text()
    for field in ("change_reason", "points", "days"):
        assert f'id="{field}-error"' in page, field
        assert f'aria-describedby="{field}-error"' in page, field
    assert "Raising the urgency above what the category implies needs a reason." in page
    assert "nothing was saved" in page
    # What the desk chose is shown again.
    assert '<option value="critical" selected>' in page and 'value="next friday"' in page
    assert await triage_of(sessions, number) is None  # not even the verification
    assert await status_of(sessions, number) is CaseStatus.RECEIVED


async def test_routing_before_verifying_is_refused_whole(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = await csrf_token(client, f"/audit/cases/{number}")
    refused = await client.post(
        f"/audit/cases/{number}/triage?lang=en",
        data={"csrf_token": token, "category": "housing", "route": "audience_in_person"},
    )
    assert refused.status == 422
    assert "Verify the request and set its category and urgency before routing it." in await refused.text()
    assert await triage_of(sessions, number) is None  # the classification was not kept either
    # Deciding the route later saves the classification alone.
    later = await client.post(
        f"/audit/cases/{number}/triage",
        data={"csrf_token": token, "category": "housing", "route": ""},
        allow_redirects=False,
    )
    assert later.status == 303
    row = await triage_of(sessions, number)
    assert row is not None and row.category_code == "housing" and row.route is None and row.verified_at is None


async def test_other_roles_cannot_triage(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    number = await submit(client)
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/staff")
    refused = await client.post(
        f"/audit/cases/{number}/triage",
        data={"csrf_token": token, "verified": "1", "category": "housing", "route": "audience_in_person"},
        allow_redirects=False,
    )
    assert refused.status == 403
    assert await triage_of(sessions, number) is None
