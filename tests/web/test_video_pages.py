"""The video pages: the official's console, the room console and screen, check-in and the outcome."""

from __future__ import annotations

import re
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup import referrals
from followup.models import Referral
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from rooms import service as rooms
from tests.conftest import make_settings, start_client
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.followup.arrange import add_department
from tests.rooms.test_rooms import put_on_roster
from tests.video.arrange import SUNDAY, video_audiences
from tests.web.notices_seen import shown_once
from video import service as video
from video.models import VideoOutcome, VideoState
from web.keys import VIDEO_TOKENS

Sessions = async_sessionmaker[AsyncSession]
TOKEN = re.compile(r'data-audience-id="(\d+)" data-token="([^"]+)"')


async def _room_and_case(sessions: Sessions, audience_id: int) -> tuple[int, int]:
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        return audience.room_id, audience.case_id


async def test_the_official_sees_todays_audiences_with_tokens_of_his_side(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await video_audiences(sessions, clock)
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "official")
    response = await client.get("/official")
    assert response.status == 200
    page = await response.text()
    tokens = dict(TOKEN.findall(page))
    assert list(tokens) == [str(first), str(second)]  # in the day's order
    for audience_id, token in tokens.items():
        grant = client.app[VIDEO_TOKENS].check(token, now=clock.now())
        assert (grant.audience_id, grant.role) == (int(audience_id), "official")
    assert 'data-video-role="official"' in page and "/static/video.js" in page
    assert "<script>" not in page  # the CSP allows files only: data goes in data-* attributes
    # The official's home after signing in is his console, once the second step (owed by his role) is passed.
    await client.post("/logout", data={"csrf_token": await csrf_token(client, "/official")})
    token = await csrf_token(client)
    signed = await client.post(
        "/login",
        data={"username": "official", "password": "correct-horse-battery", "csrf_token": token},
        allow_redirects=False,
    )
    assert signed.headers["Location"] == "/login/enrol?next=%2Fofficial"


async def test_the_official_console_refuses_other_roles(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    for role in (Role.WOMEN_SECTION, Role.PROTOCOL, Role.AUDIT_DESK):
        await make_staff(sessions, clock, role, role.value.replace("_", ""))
        await sign_in(client, role.value.replace("_", ""))
        assert (await client.get("/official")).status == 403, role
    # An administrator may open the page, but sees no applicant there (need to know: cases/need_to_know.py),
    # holds no token of the official's side and records no outcome.
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await sign_in(client, "admin")
    page = await (await client.get("/official")).text()
    assert "data-audience-id" not in page and "data-token" not in page and "call-button" not in page
    token = await csrf_token(client, "/official")
    form = {"csrf_token": token, "outcome": "answered", "directive": "x"}
    refused = await client.post(f"/official/audiences/{audience_id}/outcome", data=form)
    assert refused.status == 403


async def test_a_women_section_member_off_the_roster_is_refused_the_room(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    room_id, _ = await _room_and_case(sessions, audience_id)
    on_duty = await make_staff(sessions, clock, Role.WOMEN_SECTION, "onduty")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "offduty")
    async with transaction(sessions) as session:
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room_id,
            staff_id=on_duty.id,
            day=SUNDAY.date(),
            starts=time(8),
            ends=time(16),
        )
    await sign_in(client, "offduty")
    assert f'href="/rooms/{room_id}/console"' not in await (await client.get("/staff")).text()
    for page in ("console", "screen"):
        assert (await client.get(f"/rooms/{room_id}/{page}")).status == 403
    token = await csrf_token(client, "/staff")
    refused = await client.post(f"/rooms/{room_id}/audiences/{audience_id}/check-in", data={"csrf_token": token})
    assert refused.status == 403

    await sign_in(client, "onduty")
    console = await client.get(f"/rooms/{room_id}/console")
    assert console.status == 200
    text = await console.text()
    [(shown, room_token)] = TOKEN.findall(text)
    grant = client.app[VIDEO_TOKENS].check(room_token, now=clock.now())
    assert (grant.audience_id, grant.role, int(shown)) == (audience_id, "room", audience_id)
    assert 'id="device-check"' in text and 'id="mic-level"' in text and 'id="emergency-end"' in text
    screen = await (await client.get(f"/rooms/{room_id}/screen")).text()
    assert "screen-waiting" in screen and "<button" not in screen and "<a " not in screen
    assert (await client.get("/rooms/999/console")).status == 404


async def test_without_a_roster_any_women_section_member_runs_the_room(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    room_id, _ = await _room_and_case(sessions, audience_id)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "women")
    assert (await client.get(f"/rooms/{room_id}/console")).status == 200
    assert f'href="/rooms/{room_id}/console"' in await (await client.get("/staff")).text()  # her start page
    await sign_in(client, "official")
    assert (await client.get(f"/rooms/{room_id}/console")).status == 403


async def test_check_in_starts_the_applicants_waiting_time(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await video_audiences(sessions, clock)
    room_id, _ = await _room_and_case(sessions, first)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await sign_in(client, "women")
    token = await csrf_token(client, f"/rooms/{room_id}/console")
    response = await client.post(
        f"/rooms/{room_id}/audiences/{first}/check-in", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == f"/rooms/{room_id}/console"
    await shown_once(client, response, "سُجِّل حضور المراجع.")
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
        assert audience is not None and audience.checked_in_at == clock.now()
        other = await video.get_audience(session=session, audience_id=second)
        assert other is not None and other.checked_in_at is None
    page = await (await client.get(f"/rooms/{room_id}/console")).text()
    assert 'data-checked-in="1"' in page
    unknown = await client.post(f"/rooms/{room_id}/audiences/999/check-in", data={"csrf_token": token})
    assert unknown.status == 404
    # Once the session is over, a check-in is refused with the arrival rule's message, and nothing is recorded.
    checked_at = clock.now()
    clock.set(SUNDAY.replace(hour=12, minute=5))  # the session ran 10:00–12:00
    late = await client.post(f"/rooms/{room_id}/audiences/{second}/check-in", data={"csrf_token": token})
    assert late.status == 409
    async with sessions() as session:
        other = await video.get_audience(session=session, audience_id=second)
        assert other is not None and other.checked_in_at is None
    clock.set(checked_at)
    # The official's console shows her waiting since then.
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "official")
    assert f'data-waiting-since="{clock.now().isoformat()}"' in await (await client.get("/official")).text()


async def test_the_outcome_goes_to_the_requests_history(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    first, second = await video_audiences(sessions, clock)
    _, case_id = await _room_and_case(sessions, first)
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "official")
    token = await csrf_token(client, "/official")
    missing = await client.post(
        f"/official/audiences/{first}/outcome", data={"csrf_token": token, "outcome": "answered", "directive": " "}
    )
    assert missing.status == 422
    assert "اكتب التوجيه" in await missing.text()
    bad = await client.post(
        f"/official/audiences/{first}/outcome", data={"csrf_token": token, "outcome": "later", "directive": "x"}
    )
    assert bad.status == 422

    directive = "يحال إلى وزارة العدل لتنفيذ حكم الحضانة خلال أسبوع"
    saved = await client.post(
        f"/official/audiences/{first}/outcome",
        data={"csrf_token": token, "outcome": "referred", "directive": directive},
        allow_redirects=False,
    )
    assert saved.status == 422  # a referral names its departments
    await add_department(sessions, "moj", name_ar="وزارة العدل", name_en="Ministry of Justice")
    await add_department(sessions, "enforcement", name_ar="محكمة التنفيذ", name_en="Enforcement Court", parent="moj")
    console = await (await client.get("/official")).text()
    # Departments are ticked, each under its parent, named in the reader's language.
    assert re.search(r'<label class="check depth-0"><input type="checkbox" name="referred_to" value="moj"', console)
    assert re.search(r'class="check depth-1"><input type="checkbox" name="referred_to" value="enforcement"', console)
    assert "<bdi>محكمة التنفيذ</bdi>" in console
    ticked = [("csrf_token", token), ("outcome", "referred"), ("directive", directive)]
    unknown = await client.post(
        f"/official/audiences/{first}/outcome", data=[*ticked, ("referred_to", "moj"), ("referred_to", "vip")]
    )
    assert unknown.status == 422
    refused_page = await unknown.text()
    assert "لا توجد جهة مفعّلة بالرمز vip." in refused_page
    # The boxes ticked stay ticked, nothing was referred.
    assert 'value="moj" checked' in refused_page
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Referral)) == 0
    saved = await client.post(
        f"/official/audiences/{first}/outcome",
        data=[*ticked, ("referred_to", "moj"), ("referred_to", "enforcement")],
        allow_redirects=False,
    )
    await shown_once(client, saved, "سُجِّلت نتيجة المقابلة.")
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
        assert audience is not None
        assert (audience.outcome, audience.directive, audience.outcome_by_id) == (
            VideoOutcome.REFERRED,
            directive,
            official.id,
        )
        history = await cases.history(session=session, case_id=case_id)
        sent = [(r.department_id, r.directive) for r in await referrals.of_case(session=session, case_id=case_id)]
    assert (history[-1].to_status, history[-1].note, history[-1].actor_id) == (
        CaseStatus.REFERRED,
        directive,
        official.id,
    )
    assert [directive_ for _, directive_ in sent] == [directive, directive] and len({d for d, _ in sent}) == 2
    page = await (await client.get("/official")).text()
    assert directive in page  # in the case's history and as the recorded outcome
    twice = await client.post(
        f"/official/audiences/{first}/outcome", data={"csrf_token": token, "outcome": "answered", "directive": "x"}
    )
    assert twice.status == 422
    assert (await client.post("/official/audiences/999/outcome", data={"csrf_token": token})).status == 404
    async with sessions() as session:
        untouched = await video.get_audience(session=session, audience_id=second)
        assert untouched is not None and untouched.state is VideoState.WAITING and untouched.outcome is None


async def test_consent_to_recording_is_taken_only_where_recording_is_allowed(
    client: Client, sessions: Sessions, clock: FrozenClock, database_url: str
) -> None:
    first, _ = await video_audiences(sessions, clock)
    room_id, _ = await _room_and_case(sessions, first)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await sign_in(client, "women")
    page = await (await client.get(f"/rooms/{room_id}/console")).text()
    assert "/consent" not in page  # off by default: nothing to consent to
    token = await csrf_token(client, f"/rooms/{room_id}/console")
    refused = await client.post(f"/rooms/{room_id}/audiences/{first}/consent", data={"csrf_token": token})
    assert refused.status == 409
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
        assert audience is not None and audience.recording_consent_at is None

    allowed = await start_client(create_app(make_settings(database_url, video_recording_allowed=True), clock=clock))
    try:
        await sign_in(allowed, "women")
        page = await (await allowed.get(f"/rooms/{room_id}/console")).text()
        assert f'action="/rooms/{room_id}/audiences/{first}/consent"' in page
        token = await csrf_token(allowed, f"/rooms/{room_id}/console")
        taken = await allowed.post(
            f"/rooms/{room_id}/audiences/{first}/consent", data={"csrf_token": token}, allow_redirects=False
        )
        await shown_once(allowed, taken, "سُجِّلت موافقة المراجع على التسجيل.")
        async with sessions() as session:
            audience = await video.get_audience(session=session, audience_id=first)
            assert audience is not None and audience.recording_consent_at == clock.now()
            assert "consent" in [e.kind.value for e in await video.events(session=session, audience_id=first)]
        page = await (await allowed.get(f"/rooms/{room_id}/console")).text()
        assert f'action="/rooms/{room_id}/audiences/{first}/consent"' not in page
        assert 'class="consent-note notice"' in page
        missing = await allowed.post(f"/rooms/{room_id}/audiences/999/consent", data={"csrf_token": token})
        assert missing.status == 404
        await make_staff(sessions, clock, Role.OFFICIAL, "official")
        await sign_in(allowed, "official")
        assert 'id="record-button"' in await (await allowed.get("/official")).text()
        token = await csrf_token(allowed, "/official")  # his session's own: refused for his role, not the token
        refused_role = await allowed.post(f"/rooms/{room_id}/audiences/{first}/consent", data={"csrf_token": token})
        assert refused_role.status == 403
    finally:
        await allowed.close()


async def test_a_mens_room_is_run_by_the_protocol_men_on_its_roster(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1, kind="men_video")
    room_id, _ = await _room_and_case(sessions, audience_id)
    fahad = await make_staff(sessions, clock, Role.PROTOCOL, "fahad")
    saad = await make_staff(sessions, clock, Role.PROTOCOL, "saad")
    reem = await make_staff(sessions, clock, Role.PROTOCOL, "reem", gender="female")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    pages = ("console", "screen", "checks")
    # The roster page offers the men of protocol only.
    await sign_in(client, "admin")
    day_page = await (await client.get(f"/protocol/rooms/{room_id}")).text()
    offered = {int(i) for i in re.findall(r'<option value="(\d+)"', day_page)}
    assert offered == {fahad.id, saad.id} and reem.id not in offered
    # No roster today: any man of protocol runs the room; a woman, of protocol or of the women's section, does not.
    await sign_in(client, "saad")
    assert [(await client.get(f"/rooms/{room_id}/{page}")).status for page in pages] == [200, 200, 200]
    for username in ("reem", "women", "official", "admin"):
        await sign_in(client, username)
        assert [(await client.get(f"/rooms/{room_id}/{page}")).status for page in pages] == [403] * 3, username

    await put_on_roster(sessions, clock, room_id, fahad.id, SUNDAY.date())
    await sign_in(client, "saad")
    assert [(await client.get(f"/rooms/{room_id}/{page}")).status for page in pages] == [403] * 3
    assert f'href="/rooms/{room_id}/console"' not in await (await client.get("/staff")).text()
    token = await csrf_token(client, "/staff")
    refused = await client.post(f"/rooms/{room_id}/audiences/{audience_id}/check-in", data={"csrf_token": token})
    assert refused.status == 403

    await sign_in(client, "fahad")
    assert f'href="/rooms/{room_id}/console"' in await (await client.get("/staff")).text()
    assert f'href="/rooms/{room_id}/console"' in await (await client.get(f"/protocol/rooms/{room_id}")).text()
    console = await client.get(f"/rooms/{room_id}/console")
    assert console.status == 200
    text = await console.text()
    [(shown, room_token)] = TOKEN.findall(text)
    grant = client.app[VIDEO_TOKENS].check(room_token, now=clock.now())
    assert (grant.audience_id, grant.role, int(shown)) == (audience_id, "room", audience_id)
    assert 'id="device-check"' in text and 'id="room-check"' in text and 'id="emergency-end"' in text
    # Said of a man, to a man: nothing of the women's section.
    assert "تسجيل حضور المستفيد<" in text and 'data-state-present="المستفيد حاضر"' in text
    assert "المستفيدة" not in text and "القسم النسائي" not in text and "اجلسي" not in text
    screen = await (await client.get(f"/rooms/{room_id}/screen")).text()
    assert "تفضل بالبقاء" in screen and "تفضلي" not in screen
    token = await csrf_token(client, f"/rooms/{room_id}/console")
    checked = await client.post(
        f"/rooms/{room_id}/audiences/{audience_id}/check-in", data={"csrf_token": token}, allow_redirects=False
    )
    assert checked.status == 303
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None and audience.checked_in_at == clock.now()
    english = await (await client.get(f"/rooms/{room_id}/console?lang=en")).text()
    assert "Check the applicant in" not in english  # checked in: the button is gone
    assert "The applicant is checked in." in english and "women" not in english.lower()

    # The official calls a men's room as he calls a women's: his token, and the room's state said of a man.
    await sign_in(client, "official")
    page = await (await client.get("/official?lang=ar")).text()
    [(listed, official_token)] = TOKEN.findall(page)
    grant = client.app[VIDEO_TOKENS].check(official_token, now=clock.now())
    assert (grant.audience_id, grant.role, int(listed)) == (audience_id, "official", audience_id)
    assert 'data-state-present="المستفيد حاضر"' in page and "call-button" in page
