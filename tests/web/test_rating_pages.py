"""Rating through the web on SQLite and PostgreSQL: protocol enrols a desk tablet, the desk pairs it, a walk-in
intake shows on that tablet's screen (and no other's) and its rating is saved; the completion SMS, sent by the
dispatcher, carries a link that rates once, after which (and when expired or forged) a bilingual page refuses
and nothing changes; the API does the same with its statuses."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.outbox import Dispatcher
from quality import invites
from quality.models import DeskTablet, Rating, Visit
from tests.conftest import RecordingChannel
from tests.factories import Client, csrf_token, details, make_staff, sign_in
from web.keys import LINKS
from web.rating_pages import TABLET_COOKIE

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example/status"


def browser(client: Client) -> Client:
    """Another browser on the same server (the tablet), with cookies of its own."""
    jar = CookieJar(unsafe=True, treat_as_secure_origin=[str(client.server.make_url("/"))])
    return TestClient(client.server, cookie_jar=jar)  # type: ignore[return-value]  # the same server


async def ratings_count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Rating)) or 0)


async def test_a_desk_tablet_is_enrolled_paired_and_rates_the_desks_intake(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/manage/desk-tablets")
    bad = await client.post("/manage/desk-tablets", data={"branch": "riyadh", "name": "", "csrf_token": token})
    assert bad.status == 422
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DeskTablet)) == 0
    page = await client.post("/manage/desk-tablets", data={"branch": "riyadh", "name": "Desk 3", "csrf_token": token})
    assert page.status == 200
    link = re.search(r'href="(http[^"]+/rate-tablet/enrol/[^"]+)"', await page.text())
    assert link is not None
    enrol_path = "/rate-tablet/enrol/" + link.group(1).rsplit("/", 1)[1]

    tablet, other = browser(client), browser(client)
    try:
        assert (await tablet.get("/rate-tablet")).status == 403
        assert (await tablet.get("/rate-tablet/enrol/not-a-token", allow_redirects=False)).status == 403
        enrolled = await tablet.get(enrol_path, allow_redirects=False)
        assert enrolled.status == 303 and TABLET_COOKIE in enrolled.cookies
        idle = await tablet.get("/rate-tablet")
        assert idle.status == 200 and 'id="rate-idle"' in await idle.text()
        assert await (await tablet.get("/rate-tablet/pending")).json() == {"invite": None}

        # The desk pairs the tablet with itself, then takes a walk-in's request.
        await client.post("/logout", data={"csrf_token": await csrf_token(client, "/staff")})
        await sign_in(client, "desk")
        async with sessions() as session:
            tablet_id = (await session.scalars(select(DeskTablet.id))).one()
        token = await csrf_token(client, "/desk/tablet")
        paired = await client.post(
            "/desk/tablet", data={"tablet": str(tablet_id), "csrf_token": token}, allow_redirects=False
        )
        assert paired.status == 303 and paired.headers["Location"] == "/desk/tablet?done=paired"
        assert 'id="paired-with"' in await (await client.get("/desk/tablet?done=paired")).text()
        async with transaction(sessions) as session:
            case = (
                await cases.submit(
                    session=session,
                    clock=clock,
                    details=details(channel="walk_in"),
                    status_url=URL,
                    entered_by_id=desk.id,
                )
            ).case
            case_id, applicant = case.id, case.applicant_name

        pending = await (await tablet.get("/rate-tablet/pending")).json()
        assert isinstance(pending["invite"], int)
        screen = await (await tablet.get("/rate-tablet")).text()
        assert desk.full_name in screen and applicant not in screen and case.tracking_number not in screen
        assert screen.count('name="score"') == 5 and 'dir="rtl"' in screen
        # A tablet not enrolled sees nothing and cannot rate it.
        assert (await other.get("/rate-tablet/pending")).status == 403
        form_token = await csrf_token(tablet, "/rate-tablet")
        wrong = await tablet.post(
            f"/rate-tablet/{pending['invite']}", data={"score": "9", "comment": "", "csrf_token": form_token}
        )
        assert wrong.status == 422 and await ratings_count(sessions) == 0
        sent = await tablet.post(
            f"/rate-tablet/{pending['invite']}",
            data={"score": "5", "comment": "Kind and quick", "csrf_token": form_token},
            allow_redirects=False,
        )
        assert sent.status == 303 and sent.headers["Location"] == "/rate-tablet?thanks=1"
        assert 'id="rate-thanks"' in await (await tablet.get("/rate-tablet?thanks=1")).text()
        async with sessions() as session:
            rating = (await session.scalars(select(Rating))).one()
        assert (rating.case_id, rating.score, rating.comment, rating.staff_id, rating.visit) == (
            case_id, 5, "Kind and quick", desk.id, Visit.INTAKE
        )  # fmt: skip
        assert await (await tablet.get("/rate-tablet/pending")).json() == {"invite": None}
        unpaired = await client.post("/desk/tablet/unpair", data={"csrf_token": token}, allow_redirects=False)
        assert unpaired.status == 303
    finally:
        await tablet.close()
        await other.close()


async def test_the_completion_sms_links_to_a_page_that_rates_once(
    client: Client, sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    staff = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url=URL)).case
        await cases.complete(session=session, clock=clock, case=case, actor_id=staff.id, note="done", status_url=URL)
        other = (
            await cases.submit(
                session=session, clock=clock, details=details(applicant_phone="+966501112233"), status_url=URL
            )
        ).case
        await invites.after_audience(session=session, clock=clock, case=other, appointment_id=3, staff_id=staff.id)
    dispatcher = Dispatcher(sessions=sessions, clock=clock, channels=recorder.channels(), links=client.app[LINKS])
    await dispatcher.run_once()
    done = next(o for o in recorder.sent if o.purpose.startswith("stage:completed:"))
    audience = next(o for o in recorder.sent if o.purpose.startswith("rate:audience:"))
    path = "/rate/" + done.body.split("/rate/")[1].split()[0]
    assert "{rating_link}" not in done.body
    assert case.tracking_number in done.body and done.channel == "sms"

    page = await client.get(path)
    text = await page.text()
    assert page.status == 200 and text.count('name="score"') == 5 and "Staff" in text
    assert page.headers["Cache-Control"] == "no-store" and case.applicant_name not in text
    # The faces are drawn by Majlis (web/templates/_face.html), one per score, hidden from screen readers: no emoji
    # that a device without a colour-emoji font would show as an empty box.
    assert [f'data-score="{n}"' in text for n in range(1, 6)] == [True] * 5 and text.count('class="face-svg') == 5
    assert not any(0x1F300 <= ord(c) <= 0x1FAFF for c in text)
    token = await csrf_token(client, path)
    assert (await client.post(path, data={"score": "0", "csrf_token": token})).status == 422
    assert await ratings_count(sessions) == 0
    rated = await client.post(path, data={"score": "2", "comment": "Slow", "csrf_token": token}, allow_redirects=False)
    assert rated.status == 303 and rated.headers["Location"] == f"{path}?done=1"
    assert 'id="rate-thanks"' in await (await client.get(f"{path}?done=1")).text()
    # Used: refused in both languages, nothing more saved.
    again = await client.post(path, data={"score": "5", "csrf_token": token})
    again_text = await again.text()
    assert again.status == 409 and 'lang="ar"' in again_text and "already been rated" in again_text
    assert (await client.get(path)).status == 409 and await ratings_count(sessions) == 1
    # Forged, and another app's secret: not found.
    forged = path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")
    assert (await client.get(forged)).status == 404
    assert (await client.get("/rate/nonsense")).status == 404

    # The API, on the audience's link: what is rated, bad input named (422), saved (201), used (409).
    api = "/api/v1/ratings/" + audience.body.split("/rate/")[1].split()[0]
    shown = await client.get(api)
    assert shown.status == 200
    about = await shown.json()
    assert (about["visit"], about["staff"], about["staff_role"]) == ("audience", "Staff", "follow_up")
    assert about["expires_at"].startswith("2026-12-08")
    invalid = await client.post(api, json={"score": 7, "comment": "x" * 501, "extra": 1})
    body = await invalid.json()
    assert invalid.status == 422 and {f["field"] for f in body["fields"]} >= {"score", "comment"}
    assert set(body["messages"]) == {"ar", "en"}
    saved = await client.post(api, json={"score": 4, "comment": "Good"})
    assert saved.status == 201 and (await saved.json())["visit"] == "audience"
    used = await client.post(api, json={"score": 4})
    assert used.status == 409 and (await used.json())["error"] == "rating_used"
    assert (await client.get(api[:-2] + "zz")).status == 404
    assert await ratings_count(sessions) == 2

    # Expired: 410 on the page and the API, for a link not yet used.
    async with transaction(sessions) as session:
        third = (
            await cases.submit(
                session=session, clock=clock, details=details(applicant_phone="+966501119999"), status_url=URL
            )
        ).case
        late = await invites.after_audience(
            session=session, clock=clock, case=third, appointment_id=4, staff_id=staff.id
        )
        assert late is not None
        late_token = client.app[LINKS].rating_token(late.id, late.expires_at)
    clock.advance(invites.LINK_LIFETIME + timedelta(seconds=1))
    assert (await client.get(f"/rate/{late_token}")).status == 410
    gone = await client.post(f"/api/v1/ratings/{late_token}", json={"score": 3})
    assert gone.status == 410 and (await gone.json())["error"] == "rating_expired"
    assert await ratings_count(sessions) == 2
