"""The desk: enter a request for a walk-in or a caller, read it back, correct it, save it."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases.models import Case, Channel
from majlis.clock import FrozenClock
from tests.factories import Client, csrf_token, form_data, make_staff, sign_in

Sessions = async_sessionmaker[AsyncSession]
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str, form_action: str) -> list[tuple[str, str]]:
    """The hidden fields of the form posting to form_action."""
    start = html.index(f'action="{form_action}"')
    end = html.index("</form>", start)
    return [
        (name, value.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&"))
        for name, value in HIDDEN.findall(html[start:end])
    ]


async def test_read_back_correct_and_save(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    clerk = await make_staff(sessions, clock, Role.CALL_CENTRE, "calls")
    await sign_in(client, "calls")
    page = await (await client.get("/desk")).text()
    assert 'value="call_centre" selected' in page  # a caller's request is recorded as such
    token = await csrf_token(client, "/desk")

    typed = {
        **form_data(subject="طلب مقابلتة"),
        "channel": "call_centre",
        "csrf_token": token,
        "idempotency_key": "desk-1",
        "applicant.special_care": "wheelchair",
    }
    review = await client.post("/desk/review", data=typed)
    assert review.status == 200
    html = await review.text()
    assert "طلب مقابلتة" in html and "مستخدم كرسي متحرك" in html

    # The applicant spots a typo: back to the form with everything kept.
    back = await client.post("/desk/edit", data=hidden_fields(html, "/desk/edit"))
    form_html = await back.text()
    assert 'value="طلب مقابلتة"' in form_html
    assert 'value="wheelchair" checked' in form_html

    corrected = {**typed, "subject": "طلب مقابلة"}
    html = await (await client.post("/desk/review", data=corrected)).text()
    async with sessions() as session:
        assert await session.scalar(select(Case)) is None  # nothing saved before the applicant agrees
    saved = await client.post("/desk/requests", data=hidden_fields(html, "/desk/requests"))
    assert saved.status == 200
    assert 'id="tracking-number"' in await saved.text()

    async with sessions() as session:
        case = await session.scalar(select(Case))
        actions = [e.action for e in await session.scalars(select(AuditEntry).where(AuditEntry.actor_id == clerk.id))]
    assert case is not None
    assert case.subject == "طلب مقابلة"
    assert case.channel is Channel.CALL_CENTRE and case.entered_by_id == clerk.id
    assert "case.intake" in actions


async def test_desk_save_is_idempotent_per_form(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    token = await csrf_token(client, "/desk")
    data = {**form_data(), "channel": "walk_in", "csrf_token": token, "idempotency_key": "double-click"}
    first = await (await client.post("/desk/requests", data=data)).text()
    second = await (await client.post("/desk/requests", data=data)).text()
    number = re.compile(r'id="tracking-number"><bdi dir="ltr" class="ltr">([0-9-]+)<')
    assert number.search(first).group(1) == number.search(second).group(1)  # type: ignore[union-attr]


async def test_desk_cannot_record_a_portal_channel(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "desk")
    token = await csrf_token(client, "/desk")
    response = await client.post("/desk/review", data={**form_data(), "channel": "portal", "csrf_token": token})
    assert response.status == 422
    assert 'id="channel-error"' in await response.text()


async def test_staff_find_a_case_by_tracking_number(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await make_staff(sessions, clock, Role.CALL_CENTRE, "calls")
    created = await (
        await client.post(
            "/api/v1/requests",
            json={
                "applicant": {
                    "kind": "citizen",
                    "national_id": "1000000008",
                    "name": "نورة",
                    "gender": "female",
                    "phone": "0501234567",
                },
                "kind": "enquiry",
                "subject": "استفسار",
                "text": "نص",
                "branch": "jeddah",
            },
        )
    ).json()
    await sign_in(client, "audit")
    found = await client.get("/cases", params={"tracking_number": created["tracking_number"].replace("-", " ")})
    html = await found.text()
    assert found.status == 200 and "نورة" in html and "+966501234567" in html
    # A well-formed number nobody was given is not found; one whose check digit fails is named as mistyped.
    missing = await client.get("/cases", params={"tracking_number": "26-000999-8"})
    assert missing.status == 404
    mistyped = await client.get("/cases", params={"tracking_number": "26-000001-1"})
    assert mistyped.status in (200, 422) and 'id="found-count"' not in await mistyped.text()
    # The call centre neither entered this request nor calls about an audience of it: not its to see.
    await sign_in(client, "calls")
    hidden = await client.get("/cases", params={"tracking_number": created["tracking_number"]})
    assert hidden.status == 404 and "نورة" not in await hidden.text()
