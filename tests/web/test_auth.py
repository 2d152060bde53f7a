"""Staff sign-in: Argon2 passwords, cookie flags, throttling, and every role refused outside its pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.conftest import make_settings, start_client
from tests.factories import PASSWORD, Client, csrf_token, make_staff, sign_in
from tests.priority.test_triage import new_case
from web.auth import ROLES_ATTRIBUTE
from web.security import SESSION_COOKIE

Sessions = async_sessionmaker[AsyncSession]


def guarded_routes(app: web.Application) -> list[tuple[str, str, frozenset[Role]]]:
    """Every (method, path, allowed roles) the role guard protects; path parameters get a sample value."""
    found = []
    for route in app.router.routes():
        roles = getattr(route.handler, ROLES_ATTRIBUTE, None)
        if roles is not None and route.method != "HEAD":
            canonical = route.resource.canonical  # type: ignore[union-attr]
            samples = {
                "tracking_number": "26-000001-0",
                "code": "general",
                "room_id": "1",
                "session_id": "1",
                "appointment_id": "1",
                "day": "2026-12-06",
                "template_id": "1",
                "confirmation_id": "1",
                "message_id": "1",
                "audience_id": "1",
                "check_id": "1",
                "task_id": "1",
                "kiosk_id": "1",
                "policy_id": "1",
                "hours_id": "1",
                "contact_id": "1",
                "attachment_id": "1",
                "referral_id": "1",
                "change_id": "1",
                "conversation_id": "1",
                "media_id": "1",
                "coverage_id": "1",
                "shift_id": "1",
                "number": "E26-000001-0",
                "call_id": "1",
                "user_id": "1",
                "rating_id": "1",
                "tablet_id": "1",
                "chart": "waits",
            }
            path = canonical.format(**samples) if "{" in canonical else canonical
            found.append((route.method, path, roles))
    return found


async def test_passwords_are_stored_as_argon2id(sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK)
    async with sessions() as session:
        user = await session.scalar(select(StaffUser))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_sign_in_sets_a_safe_session_cookie(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    # The intake desk signs in with the password alone (tests/web/test_two_factor.py: the roles owing a code).
    await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"username": "desk", "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    # The desk starts from its home page: today's arrivals and walk-ins (web/role_home.py).
    assert response.status == 303 and response.headers["Location"] == "/staff"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["secure"]  # outside development
    assert (await client.get("/desk")).status == 200


async def test_cookies_are_not_secure_in_development(database_url: str, clock: FrozenClock) -> None:
    from majlis.app import create_app

    app = create_app(make_settings(database_url, environment="development"), clock=clock)
    client = await start_client(app)
    try:
        response = await client.get("/login")
        assert not response.cookies["majlis_csrf"]["secure"]
    finally:
        await client.close()


async def test_wrong_password_is_refused_without_saying_which_part(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    token = await csrf_token(client)
    for username, password in (("audit", "wrong-password"), ("nobody", PASSWORD)):
        response = await client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status == 401
        assert "اسم المستخدم أو كلمة المرور غير صحيحة" in await response.text()


async def test_repeated_failures_are_throttled_then_released(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    token = await csrf_token(client)
    for _ in range(5):
        response = await client.post("/login", data={"username": "audit", "password": "guess", "csrf_token": token})
        assert response.status == 401
    # Even the right password is not checked while the account is throttled.
    blocked = await client.post("/login", data={"username": "audit", "password": PASSWORD, "csrf_token": token})
    # The first delay after the free failures is one second, and the answer says so.
    assert blocked.status == 429 and blocked.headers["Retry-After"] == "1"
    clock.advance(timedelta(minutes=16))
    await sign_in(client, "audit")


async def test_sessions_expire(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    assert (await client.get("/audit")).status == 200
    clock.advance(timedelta(hours=11))
    response = await client.get("/audit", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login?next=")


async def test_sign_out_ends_the_session(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    await sign_in(client, "audit")
    token = await csrf_token(client, "/audit")
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert (await client.get("/audit", allow_redirects=False)).status == 303


async def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    for method, path, _roles in guarded_routes(client.app):
        if path.startswith("/api/"):
            response = await client.request(method, path, allow_redirects=False)
            assert response.status == 401, path
        elif method == "GET":
            response = await client.get(path, allow_redirects=False)
            assert response.status == 303, path
            assert response.headers["Location"].startswith("/login?next=")
        else:
            token = await csrf_token(client, "/")
            response = await client.request(method, path, data={"csrf_token": token}, allow_redirects=False)
            assert response.status == 403, path


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_only_its_own_pages(
    role: Role, client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, role, "member")
    await sign_in(client, "member")
    routes = guarded_routes(client.app)
    assert len(routes) >= 9
    token = await csrf_token(client, "/staff")
    for method, path, allowed in routes:
        if method == "GET":
            response = await client.get(path, allow_redirects=False)
        else:
            response = await client.request(
                method, path, data={"csrf_token": token}, headers={"X-CSRF-Token": token}, allow_redirects=False
            )
        if role in allowed:
            assert response.status != 403, (role, method, path)
        else:
            assert response.status == 403, (role, method, path)
            if path.startswith("/api/"):
                assert (await response.json())["messages"]["ar"] == "هذه الصفحة غير مخصصة لدورك."
            else:
                assert "هذه الصفحة غير مخصصة لدورك." in await response.text()


def test_administrators_and_desk_roles_are_where_expected(app: web.Application) -> None:
    table = {(m, p): roles for m, p, roles in guarded_routes(app)}
    assert table[("GET", "/desk")] == {Role.INTAKE_DESK, Role.CALL_CENTRE, Role.ADMINISTRATOR}
    assert table[("GET", "/audit")] == {Role.AUDIT_DESK, Role.ADMINISTRATOR}
    assert table[("GET", "/admin/users")] == {Role.ADMINISTRATOR}
    assert table[("GET", "/staff")] == frozenset(Role)


# Pages anyone may open, by design: the applicant's pages, sign-in, the API's
# public part, the documents and static files. Anything else must be guarded.
PUBLIC = {
    ("GET", "/requests/received"),
    ("GET", "/"),
    ("POST", "/requests"),
    ("GET", "/status"),
    ("POST", "/status"),
    ("GET", "/lang/{language}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    # The second step of signing in: the waiting session behind the cookie (password given, code owed) is the proof.
    ("GET", "/login/code"),
    ("POST", "/login/code"),
    ("GET", "/login/enrol"),
    ("POST", "/login/enrol"),
    ("POST", "/api/v1/requests"),
    ("GET", "/api/v1/requests/{tracking_number}"),
    # The audience as a calendar file: the same tracking number and phone as the status guard it.
    ("POST", "/status/calendar.ics"),
    ("GET", "/api/v1/requests/{tracking_number}/calendar.ics"),
    # An emergency report's status: its number and the phone given with it guard it, as a request's do.
    ("GET", "/api/v1/emergency-reports/{number}/status"),
    ("GET", "/openapi.json"),
    ("GET", "/healthz"),
    # Prometheus: internal addresses (settings.metrics_networks) or the metrics token, no personal data
    # (tests/web/test_metrics.py).
    ("GET", "/metrics"),
    # Calendar feeds are read by calendar programs that cannot sign in: an HMAC token in the URL guards them.
    ("GET", "/feeds/official.ics"),
    ("GET", "/feeds/rooms/{room_id}.ics"),
    ("GET", "/feeds/branches/{code}.ics"),
    # The answer page of confirmation messages: the signed token in the URL is the proof.
    ("GET", "/a/{token}"),
    ("POST", "/a/{token}"),
    # Twilio's webhooks: guarded by Twilio's signature of the URL and fields.
    ("POST", "/webhooks/twilio/whatsapp"),
    ("POST", "/webhooks/twilio/voice/{token}"),
    ("POST", "/webhooks/twilio/status"),
    # The enquiry line (a call to Majlis's number): Twilio's signature; it reads only the caller's own requests.
    ("POST", "/webhooks/twilio/enquiry"),
    ("POST", "/webhooks/twilio/enquiry/menu"),
    # The emergency line (a call from a citizen abroad, its queue and the call's end): Twilio's signature.
    ("POST", "/webhooks/twilio/emergency"),
    ("POST", "/webhooks/twilio/emergency/menu"),
    ("POST", "/webhooks/twilio/emergency/wait"),
    ("POST", "/webhooks/twilio/emergency/connect"),
    ("POST", "/webhooks/twilio/emergency/queue-result"),
    ("POST", "/webhooks/twilio/emergency/status"),
    # The duty officer's page behind an alert's signed link: the token (report, generation, HMAC) is the proof; a
    # link of a report since sent to another mission shows nothing and changes nothing.
    ("GET", "/e/{token}"),
    ("POST", "/e/{token}/acknowledge"),
    ("POST", "/e/{token}/update"),
    # Video signalling: every message carries the audience's signed token, checked each time.
    ("GET", "/ws/video"),
    # The hall's screen shows queue numbers only, never a name.
    ("GET", "/hall/{branch}/screen"),
    ("GET", "/hall/{branch}/now.json"),
    # The kiosk: only a tablet holding an enrolled kiosk's device token can check anyone in.
    ("GET", "/kiosk"),
    ("POST", "/kiosk"),
    # The check-in's result: on that kiosk only, for the arrival a signed cookie of a few minutes names.
    ("GET", "/kiosk/checked-in"),
    ("GET", "/kiosk/enrol/{token}"),
    # Rating a visit: the signed link (invitation, expiry, HMAC) is the proof, usable once; the desk tablet's screen
    # only with an enrolled tablet's device token, showing its own visit, naming the staff member and not the applicant.
    ("GET", "/rate/{token}"),
    ("POST", "/rate/{token}"),
    ("GET", "/api/v1/ratings/{token}"),
    ("POST", "/api/v1/ratings/{token}"),
    ("GET", "/rate-tablet"),
    ("GET", "/rate-tablet/pending"),
    ("GET", "/rate-tablet/enrol/{token}"),
    ("POST", "/rate-tablet/{invite_id}"),
    # Answering what was asked: the tracking number and phone, then the code sent by SMS to the request's
    # phone; after it, a signed cookie naming the request (the API asks for the code with each answer).
    ("POST", "/status/answer/code"),
    # The page asking for the code just sent (a signed cookie names the request; a refresh sends nothing).
    ("GET", "/status/answer/code"),
    ("POST", "/status/answer/verify"),
    ("GET", "/status/answer"),
    ("POST", "/status/answer"),
    # The answer's receipt: the question a signed cookie names (set by the answer's POST), never in the address.
    ("GET", "/status/answer/received"),
    ("POST", "/api/v1/requests/{tracking_number}/code"),
    ("POST", "/api/v1/requests/{tracking_number}/answers"),
    # "My requests": a phone, then the code sent by SMS to it; after it, a signed cookie naming the phone.
    ("GET", "/status/mine"),
    ("POST", "/status/mine/code"),
    ("GET", "/status/mine/code"),
    ("POST", "/status/mine/verify"),
    ("GET", "/status/mine/{number}"),
    ("POST", "/status/mine/leave"),
    # A department's referral through the signed link of its e-mail: the token (referral, generation, HMAC) is
    # the proof; a link made before the referral moved on shows nothing and changes nothing.
    ("GET", "/r/{token}"),
    ("GET", "/r/{token}/attachments/{attachment_id}"),
    ("POST", "/r/{token}/acknowledge"),
    ("POST", "/r/{token}/update"),
    ("POST", "/r/{token}/ask"),
    ("POST", "/r/{token}/answer"),
    ("POST", "/r/{token}/return"),
    ("GET", "/api/v1/r/{token}"),
    ("POST", "/api/v1/r/{token}/acknowledge"),
    ("POST", "/api/v1/r/{token}/update"),
    ("POST", "/api/v1/r/{token}/ask"),
    ("POST", "/api/v1/r/{token}/answer"),
    ("POST", "/api/v1/r/{token}/return"),
}


def test_every_route_is_public_by_design_or_guarded(app: web.Application) -> None:
    unguarded = set()
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or canonical.startswith("/static"):
            continue
        if getattr(route.handler, ROLES_ATTRIBUTE, None) is None:
            unguarded.add((route.method, canonical))
    assert unguarded == PUBLIC


EXPECTED_ROLES = {
    # Every member of staff's own authenticator: set one up, or replace the recovery codes.
    ("GET", "/account/two-factor"): set(Role),
    ("POST", "/account/two-factor/enrol"): set(Role),
    ("POST", "/account/two-factor/recovery-codes"): set(Role),
    ("GET", "/desk"): {Role.INTAKE_DESK, Role.CALL_CENTRE},
    ("POST", "/desk/requests"): {Role.INTAKE_DESK, Role.CALL_CENTRE},
    ("GET", "/desk/saved/{tracking_number}"): {Role.INTAKE_DESK, Role.CALL_CENTRE},
    ("GET", "/audit"): {Role.AUDIT_DESK},
    ("POST", "/audit/cases/{tracking_number}/classify"): {Role.AUDIT_DESK},
    # The triage form's one submit (web/triage_actions.py _triage).
    ("POST", "/audit/cases/{tracking_number}/triage"): {Role.AUDIT_DESK},
    ("POST", "/audit/cases/{tracking_number}/merge"): {Role.AUDIT_DESK},
    ("POST", "/audit/cases/{tracking_number}/duplicate-cancellation/undo"): {Role.AUDIT_DESK},
    ("POST", "/api/v1/requests/{tracking_number}/duplicate-cancellation/undo"): {Role.AUDIT_DESK},
    ("POST", "/api/v1/triage/{tracking_number}/route"): {Role.AUDIT_DESK},
    # Who a request is from: names and the applicant's record are personal data, for the audit desk alone.
    ("POST", "/audit/cases/{tracking_number}/identity-flag/review"): {Role.AUDIT_DESK},
    ("POST", "/audit/cases/{tracking_number}/applicant-changes/{change_id}/accept"): {Role.AUDIT_DESK},
    ("POST", "/audit/cases/{tracking_number}/applicant-changes/{change_id}/decline"): {Role.AUDIT_DESK},
    ("GET", "/api/v1/triage/identity-reviews"): {Role.AUDIT_DESK},
    ("GET", "/api/v1/requests/{tracking_number}/identity"): {Role.AUDIT_DESK},
    ("POST", "/api/v1/requests/{tracking_number}/identity-flag/review"): {Role.AUDIT_DESK},
    ("POST", "/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/accept"): {Role.AUDIT_DESK},
    ("POST", "/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/decline"): {Role.AUDIT_DESK},
    ("GET", "/api/v1/triage/departments"): {Role.AUDIT_DESK},
    # Every role but a department's liaison officer, who reads only their own department's referrals, and the
    # emergency line's staff, who work on emergency reports.
    ("GET", "/cases"): set(Role)
    - {Role.DEPARTMENT_LIAISON, Role.EMERGENCY_AGENT, Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR, Role.AUDITOR},
    # The auditor's pages and API (web/audit_pages.py, web/audit_api.py): read-only, tracking numbers alone.
    ("GET", "/audit/placements"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/placements.csv"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/placements.xlsx"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/placements/{tracking_number}"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/chain"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/chain.csv"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/chain.xlsx"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/api/v1/audit/placements"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/api/v1/audit/placements/{tracking_number}"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/api/v1/audit/chain"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/api/v1/audit/fairness"): {Role.AUDITOR, Role.MANAGER},
    ("GET", "/audit/queue"): {Role.AUDIT_DESK, Role.PROTOCOL, Role.MANAGER},
    # The fairness report: managers, and the read-only auditor (who sees no request's personal data).
    # The list of the reports a member may open (web/reports_index.py).
    ("GET", "/reports"): {Role.MANAGER, Role.AUDITOR},
    ("GET", "/reports/fairness"): {Role.MANAGER, Role.AUDITOR},
    ("GET", "/reports/fairness.csv"): {Role.MANAGER, Role.AUDITOR},
    ("GET", "/reports/fairness.xlsx"): {Role.MANAGER, Role.AUDITOR},
    # Who saw which request's personal data (cases/access_log.py).
    ("GET", "/reports/access"): {Role.MANAGER},
    ("GET", "/reports/access.csv"): {Role.MANAGER},
    ("GET", "/manage/categories"): {Role.MANAGER},
    ("GET", "/protocol"): {Role.PROTOCOL},
    ("GET", "/protocol/month"): {Role.PROTOCOL},
    ("GET", "/protocol/appointments/{appointment_id}/move"): {Role.PROTOCOL},
    ("POST", "/protocol/appointments/{appointment_id}/move"): {Role.PROTOCOL},
    ("POST", "/protocol/allocate"): {Role.PROTOCOL},
    ("POST", "/protocol/busy"): {Role.PROTOCOL},
    ("GET", "/protocol/rooms/{room_id}"): {Role.PROTOCOL, Role.WOMEN_SECTION},
    ("POST", "/protocol/rooms/{room_id}/roster"): {Role.PROTOCOL},
    # A room's Arabic and English names, on the rooms page and over JSON (rooms.service.rename_room).
    ("POST", "/protocol/rooms/{room_id}/name"): {Role.PROTOCOL},
    ("POST", "/api/v1/calendar/rooms/{room_id}/name"): {Role.PROTOCOL},
    ("GET", "/calls"): {Role.CALL_CENTRE, Role.INTAKE_DESK},
    # Every request of the phone that is calling (web/caller_screen.py), on the page and over JSON.
    ("GET", "/calls/caller"): {Role.CALL_CENTRE, Role.INTAKE_DESK},
    ("GET", "/api/v1/callers"): {Role.CALL_CENTRE, Role.INTAKE_DESK},
    # The search box's API: the roles that read requests, as /cases.
    ("GET", "/api/v1/search/requests"): set(Role)
    - {Role.DEPARTMENT_LIAISON, Role.EMERGENCY_AGENT, Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR, Role.AUDITOR},
    ("POST", "/calls/{confirmation_id}"): {Role.CALL_CENTRE, Role.INTAKE_DESK},
    # Protocol and the call centre: the applicants' messages; the consular supervisor: the emergency line's alone
    # (which of them each sees in full: tests/web/test_messages.py).
    ("GET", "/messages"): {Role.PROTOCOL, Role.CALL_CENTRE, Role.CONSULAR_SUPERVISOR},
    ("POST", "/messages/{message_id}/retry"): {Role.PROTOCOL, Role.CALL_CENTRE, Role.CONSULAR_SUPERVISOR},
    ("POST", "/messages/{message_id}/mark-sent"): {Role.PROTOCOL, Role.CALL_CENTRE, Role.CONSULAR_SUPERVISOR},
    ("GET", "/official"): {Role.OFFICIAL},
    ("POST", "/official/audiences/{audience_id}/outcome"): {Role.OFFICIAL},
    # The rooms' failed pre-call checks, as the official's console asks for them (web/official_room_checks.py).
    ("GET", "/official/room-checks"): {Role.OFFICIAL},
    ("GET", "/rooms/{room_id}/console"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("GET", "/rooms/{room_id}/screen"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("POST", "/rooms/{room_id}/audiences/{audience_id}/check-in"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("POST", "/rooms/{room_id}/audiences/{audience_id}/consent"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("POST", "/rooms/{room_id}/check"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("GET", "/rooms/{room_id}/checks"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("GET", "/rooms/{room_id}/checks/{check_id}"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("GET", "/rooms/{room_id}/checks/{check_id}/snapshot.jpg"): {Role.WOMEN_SECTION, Role.PROTOCOL},
    ("GET", "/protocol/room-checks"): {Role.PROTOCOL},
    ("GET", "/protocol/day"): {Role.PROTOCOL},
    ("POST", "/protocol/day/tasks/{task_id}/assign"): {Role.PROTOCOL},
    ("POST", "/protocol/day/tasks/{task_id}/done"): {Role.PROTOCOL},
    ("GET", "/reports/day"): {Role.PROTOCOL, Role.MANAGER, Role.OFFICIAL},
    ("GET", "/official/hall"): {Role.OFFICIAL},
    ("POST", "/official/hall/sessions/{session_id}/next"): {Role.OFFICIAL},
    ("POST", "/official/hall/audiences/{audience_id}/outcome"): {Role.OFFICIAL},
    ("GET", "/desk/arrivals"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("POST", "/desk/arrivals/{appointment_id}"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("GET", "/protocol/kiosks"): {Role.PROTOCOL},
    ("POST", "/protocol/kiosks"): {Role.PROTOCOL},
    ("POST", "/protocol/kiosks/{kiosk_id}/revoke"): {Role.PROTOCOL},
    # Desk tablets for rating: protocol enrols and revokes them; the desk's staff pair one with themselves.
    ("GET", "/manage/desk-tablets"): {Role.PROTOCOL},
    ("POST", "/manage/desk-tablets"): {Role.PROTOCOL},
    ("POST", "/manage/desk-tablets/{tablet_id}/revoke"): {Role.PROTOCOL},
    ("GET", "/desk/tablet"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("POST", "/desk/tablet"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("POST", "/desk/tablet/unpair"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("POST", "/api/v1/arrivals"): {Role.INTAKE_DESK, Role.PROTOCOL},
    ("GET", "/api/v1/hall/sessions"): {Role.OFFICIAL, Role.PROTOCOL},
    ("POST", "/api/v1/hall/sessions/{session_id}/call-next"): {Role.OFFICIAL},
    ("POST", "/api/v1/hall/audiences/{audience_id}/outcome"): {Role.OFFICIAL},
    ("GET", "/api/v1/reports/day"): {Role.PROTOCOL, Role.MANAGER, Role.OFFICIAL},
    ("GET", "/reports/followup"): {Role.MANAGER, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON},
    ("GET", "/reports/followup.csv"): {Role.MANAGER, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON},
    ("GET", "/reports/followup.xlsx"): {Role.MANAGER, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON},
    ("GET", "/api/v1/reports/followup"): {Role.MANAGER, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON},
    # The daily review of ratings and its causes: managers (who served is named, nothing of the applicant).
    ("GET", "/quality/reviews"): {Role.MANAGER},
    ("POST", "/quality/reviews/{rating_id}"): {Role.MANAGER},
    ("GET", "/quality/causes"): {Role.MANAGER},
    ("POST", "/quality/causes"): {Role.MANAGER},
    ("POST", "/quality/causes/{code}"): {Role.MANAGER},
    ("POST", "/quality/causes/{code}/active"): {Role.MANAGER},
    ("POST", "/quality/causes/{code}/move"): {Role.MANAGER},
    ("GET", "/api/v1/quality/reviews"): {Role.MANAGER},
    ("GET", "/api/v1/quality/reviews/overdue"): {Role.MANAGER},
    ("POST", "/api/v1/quality/reviews/{rating_id}"): {Role.MANAGER},
    # Every member of staff's own ratings, and nobody else's.
    ("GET", "/me/ratings"): set(Role),
    ("GET", "/api/v1/me/ratings"): set(Role),
    # The monthly service-quality report per branch and department: managers (counts and rates, nobody named).
    ("GET", "/reports/quality-monthly"): {Role.MANAGER},
    ("GET", "/reports/quality-monthly.xlsx"): {Role.MANAGER},
    ("GET", "/api/v1/quality/monthly"): {Role.MANAGER},
    # The statistics dashboard: managers, and the auditor who reads the fairness report (groups, nobody named).
    ("GET", "/reports/statistics"): {Role.MANAGER, Role.AUDITOR},
    ("GET", "/reports/statistics/{chart}.csv"): {Role.MANAGER, Role.AUDITOR},
    ("GET", "/api/v1/quality/statistics"): {Role.MANAGER, Role.AUDITOR},
    # The emergency line's monthly report: the ministry's consular supervisors and managers.
    ("GET", "/reports/emergency"): {Role.CONSULAR_SUPERVISOR, Role.MANAGER},
    ("GET", "/reports/emergency.csv"): {Role.CONSULAR_SUPERVISOR, Role.MANAGER},
    ("GET", "/reports/emergency.xlsx"): {Role.CONSULAR_SUPERVISOR, Role.MANAGER},
    ("GET", "/api/v1/reports/emergency"): {Role.CONSULAR_SUPERVISOR, Role.MANAGER},
    ("GET", "/attachments/{attachment_id}"): {
        Role.AUDIT_DESK,
        Role.FOLLOW_UP,
        Role.OFFICIAL,
        Role.PROTOCOL,
        Role.MANAGER,
        Role.DEPARTMENT_LIAISON,
    },
    ("GET", "/liaison"): {Role.DEPARTMENT_LIAISON},
    ("GET", "/liaison/referrals/{referral_id}"): {Role.DEPARTMENT_LIAISON},
    ("GET", "/liaison/referrals/{referral_id}/attachments/{attachment_id}"): {Role.DEPARTMENT_LIAISON},
    ("POST", "/liaison/referrals/{referral_id}/acknowledge"): {Role.DEPARTMENT_LIAISON},
    ("POST", "/liaison/referrals/{referral_id}/update"): {Role.DEPARTMENT_LIAISON},
    ("POST", "/liaison/referrals/{referral_id}/ask"): {Role.DEPARTMENT_LIAISON},
    ("POST", "/liaison/referrals/{referral_id}/answer"): {Role.DEPARTMENT_LIAISON},
    ("POST", "/liaison/referrals/{referral_id}/return"): {Role.DEPARTMENT_LIAISON},
    ("GET", "/api/v1/liaison/referrals"): {Role.DEPARTMENT_LIAISON},
    # The directory: follow-up reads it, administrators alone change it.
    ("GET", "/followup/departments"): {Role.FOLLOW_UP},
    ("POST", "/followup/departments"): set(),
    ("GET", "/followup/departments/{code}"): {Role.FOLLOW_UP},
    ("POST", "/followup/departments/{code}"): set(),
    ("POST", "/followup/departments/{code}/active"): set(),
    ("POST", "/followup/departments/{code}/contacts"): set(),
    ("POST", "/followup/departments/{code}/contacts/{contact_id}"): set(),
    ("POST", "/followup/departments/{code}/contacts/{contact_id}/active"): set(),
    ("GET", "/followup/calendars"): {Role.FOLLOW_UP},
    ("POST", "/followup/calendars"): set(),
    ("GET", "/followup/calendars/{code}"): {Role.FOLLOW_UP},
    ("POST", "/followup/calendars/{code}"): set(),
    ("POST", "/followup/calendars/{code}/hours"): set(),
    ("POST", "/followup/calendars/{code}/hours/{hours_id}/remove"): set(),
    ("POST", "/followup/calendars/{code}/holidays"): set(),
    ("POST", "/followup/calendars/{code}/holidays/{day}/remove"): set(),
    ("GET", "/followup/policies"): {Role.FOLLOW_UP},
    ("POST", "/followup/policies"): set(),
    ("GET", "/followup/policies/{policy_id}"): {Role.FOLLOW_UP},
    ("POST", "/followup/policies/{policy_id}"): set(),
    ("POST", "/followup/policies/{policy_id}/active"): set(),
    ("POST", "/followup/policies/{policy_id}/levels"): set(),
    ("GET", "/api/v1/departments"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/departments"): set(),
    ("PATCH", "/api/v1/departments/{code}"): set(),
    ("GET", "/api/v1/departments/{code}/contacts"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/departments/{code}/contacts"): set(),
    ("PATCH", "/api/v1/departments/{code}/contacts/{contact_id}"): set(),
    ("GET", "/api/v1/calendars"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/calendars"): set(),
    ("PATCH", "/api/v1/calendars/{code}"): set(),
    ("POST", "/api/v1/calendars/{code}/holidays"): set(),
    ("DELETE", "/api/v1/calendars/{code}/holidays/{day}"): set(),
    ("GET", "/api/v1/policies"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/policies"): set(),
    ("PATCH", "/api/v1/policies/{policy_id}"): set(),
    ("GET", "/followup"): {Role.FOLLOW_UP, Role.MANAGER},
    ("GET", "/followup/referrals/{referral_id}"): {Role.FOLLOW_UP, Role.MANAGER},
    ("POST", "/followup/referrals/{referral_id}/remind"): {Role.FOLLOW_UP},
    ("POST", "/followup/referrals/{referral_id}/call"): {Role.FOLLOW_UP},
    ("POST", "/followup/referrals/{referral_id}/escalate"): {Role.FOLLOW_UP},
    ("POST", "/followup/referrals/{referral_id}/extend"): {Role.FOLLOW_UP},
    ("POST", "/followup/referrals/{referral_id}/close"): {Role.FOLLOW_UP},
    ("GET", "/followup/cases/{tracking_number}"): {Role.FOLLOW_UP, Role.MANAGER},
    ("POST", "/followup/cases/{tracking_number}/refer"): {Role.FOLLOW_UP},
    ("GET", "/api/v1/followup"): {Role.FOLLOW_UP, Role.MANAGER},
    ("GET", "/api/v1/referrals/{referral_id}"): {Role.FOLLOW_UP, Role.MANAGER},
    ("POST", "/api/v1/referrals/{referral_id}/remind"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/referrals/{referral_id}/call"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/referrals/{referral_id}/escalate"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/referrals/{referral_id}/extend"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/referrals/{referral_id}/close"): {Role.FOLLOW_UP},
    ("POST", "/api/v1/cases/{tracking_number}/refer"): {Role.FOLLOW_UP},
    # The WhatsApp desk's inbox: what a sender writes is read by the desk's staff only (administrators pass this
    # guard but find an empty inbox and no conversation: tests/web/test_whatsapp_inbox.py).
    ("GET", "/whatsapp"): {Role.WHATSAPP_DESK},
    ("GET", "/whatsapp/{conversation_id}"): {Role.WHATSAPP_DESK},
    ("GET", "/whatsapp/{conversation_id}/media/{media_id}"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/reply"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/assign"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/hand-back"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/link"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/block"): {Role.WHATSAPP_DESK},
    ("POST", "/whatsapp/{conversation_id}/unblock"): {Role.WHATSAPP_DESK},
    ("GET", "/api/v1/whatsapp/conversations"): {Role.WHATSAPP_DESK},
    ("GET", "/api/v1/whatsapp/conversations/{conversation_id}"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/reply"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/assign"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/hand-back"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/link"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/block"): {Role.WHATSAPP_DESK},
    ("POST", "/api/v1/whatsapp/conversations/{conversation_id}/unblock"): {Role.WHATSAPP_DESK},
    # The emergency line's call queue: agents act on it, consular supervisors read it.
    ("GET", "/emergency/calls"): {Role.EMERGENCY_AGENT, Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/calls/{call_id}/take"): {Role.EMERGENCY_AGENT},
    ("POST", "/emergency/calls/{call_id}/called-back"): {Role.EMERGENCY_AGENT},
    ("GET", "/api/v1/emergency/calls"): {Role.EMERGENCY_AGENT, Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/emergency/calls/{call_id}/take"): {Role.EMERGENCY_AGENT},
    ("POST", "/api/v1/emergency/calls/{call_id}/called-back"): {Role.EMERGENCY_AGENT},
    # Emergency reports: agents register and read theirs and the open queue; a mission's staff read and act on
    # their mission's only (row-level, tests/web/test_emergency_pages.py); supervisors read all and reassign.
    ("GET", "/emergency/reports/new"): {Role.EMERGENCY_AGENT},
    ("POST", "/emergency/reports"): {Role.EMERGENCY_AGENT},
    ("GET", "/emergency/agent"): {Role.EMERGENCY_AGENT},
    ("GET", "/emergency/mission"): {Role.MISSION_STAFF},
    ("GET", "/emergency/supervision"): {Role.CONSULAR_SUPERVISOR},
    ("GET", "/emergency/reports/{number}"): {Role.EMERGENCY_AGENT, Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/reports/{number}/acknowledge"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/reports/{number}/update"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/reports/{number}/solve"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/reports/{number}/reassign"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/emergency-reports"): {Role.EMERGENCY_AGENT},
    ("GET", "/api/v1/emergency-reports"): {Role.EMERGENCY_AGENT, Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("GET", "/api/v1/emergency-reports/{number}"): {
        Role.EMERGENCY_AGENT,
        Role.MISSION_STAFF,
        Role.CONSULAR_SUPERVISOR,
    },
    ("POST", "/api/v1/emergency-reports/{number}/acknowledge"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/emergency-reports/{number}/updates"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/emergency-reports/{number}/solve"): {Role.MISSION_STAFF, Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/emergency-reports/{number}/reassign"): {Role.CONSULAR_SUPERVISOR},
    # The missions directory: consular supervisors keep missions and coverage; a mission's staff read their own
    # mission and keep its roster (another mission's is refused: tests/web/test_emergency_directory.py).
    ("GET", "/emergency/missions"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("POST", "/emergency/missions"): {Role.CONSULAR_SUPERVISOR},
    ("GET", "/emergency/missions/{code}"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("POST", "/emergency/missions/{code}"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/missions/{code}/live"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/missions/{code}/active"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/missions/{code}/coverage"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/missions/{code}/coverage/{coverage_id}/remove"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/emergency/missions/{code}/shifts"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("POST", "/emergency/missions/{code}/shifts/{shift_id}/remove"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("GET", "/api/v1/missions"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/missions"): {Role.CONSULAR_SUPERVISOR},
    ("GET", "/api/v1/missions/{code}"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("PATCH", "/api/v1/missions/{code}"): {Role.CONSULAR_SUPERVISOR},
    ("POST", "/api/v1/missions/{code}/coverage"): {Role.CONSULAR_SUPERVISOR},
    ("DELETE", "/api/v1/missions/{code}/coverage/{coverage_id}"): {Role.CONSULAR_SUPERVISOR},
    ("GET", "/api/v1/missions/{code}/shifts"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("POST", "/api/v1/missions/{code}/shifts"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("DELETE", "/api/v1/missions/{code}/shifts/{shift_id}"): {Role.CONSULAR_SUPERVISOR, Role.MISSION_STAFF},
    ("GET", "/admin/users"): set(),
    ("GET", "/admin/branches"): set(),
    ("POST", "/admin/branches"): set(),
    ("GET", "/admin/branches/{code}"): set(),
    ("POST", "/admin/branches/{code}"): set(),
    ("POST", "/admin/branches/{code}/rooms"): set(),
    ("GET", "/admin/audit"): set(),
    # An administrator resets a password, deactivates and reactivates an account (never their own: 409).
    ("POST", "/admin/users/{user_id}/reset-password"): set(),
    ("POST", "/admin/users/{user_id}/deactivate"): set(),
    ("POST", "/admin/users/{user_id}/reactivate"): set(),
    # ... and removes a lost authenticator (the account's sessions end; never their own: 409).
    ("POST", "/admin/users/{user_id}/reset-two-factor"): set(),
    # ... and sets, changes or clears an account's e-mail address (their own too: it signs nobody in).
    ("POST", "/admin/users/{user_id}/email"): set(),
    # Every member of staff's own account: the password and the sessions.
    ("GET", "/account/password"): set(Role),
    ("POST", "/account/password"): set(Role),
    ("GET", "/account/sessions"): set(Role),
    ("POST", "/account/sessions/revoke"): set(Role),
    ("POST", "/account/sessions/revoke-others"): set(Role),
    ("GET", "/ws/consoles"): {Role.OFFICIAL, Role.WOMEN_SECTION, Role.PROTOCOL},
}


def test_roles_per_page_are_as_intended(app: web.Application) -> None:
    """Written out by hand, so a wrong role list on a handler shows here (administrators may open every page)."""
    declared = {}
    for route in app.router.routes():
        roles = getattr(route.handler, ROLES_ATTRIBUTE, None)
        if roles is not None and route.resource is not None:
            declared[(route.method, route.resource.canonical)] = set(roles)
    for key, roles in EXPECTED_ROLES.items():
        assert declared[key] == roles | {Role.ADMINISTRATOR}, key


@pytest.mark.parametrize("role", list(Role))
async def test_a_request_is_found_only_by_the_roles_whose_work_needs_it(
    role: Role, client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """Need to know (cases/need_to_know.py) on top of the matrix: a request just received through the portal is
    the audit desk's alone; a role that reaches the page finds nothing (404, as if the number did not exist)."""
    number = await new_case(sessions, clock)
    await make_staff(sessions, clock, role, "member")
    await sign_in(client, "member")
    declared = {path: roles for method, path, roles in guarded_routes(client.app) if method == "GET"}
    for path in ("/cases?tracking_number=" + number, f"/audit/cases/{number}", f"/followup/cases/{number}"):
        response = await client.get(path, allow_redirects=False)
        allowed = declared[path.split("?")[0].replace(number, "26-000001-0")]
        if role is Role.AUDIT_DESK and role in allowed:
            assert response.status == 200, (role, path)
        elif role in allowed:
            assert response.status == 404, (role, path)
        else:
            assert response.status == 403, (role, path)
