"""Staff pages common to every role: signing in and out, the home page, finding a case."""

from __future__ import annotations

from aiohttp import web

from accounts import service as accounts
from accounts import sessions
from accounts.roles import Role
from cases import service as cases
from fairness import explain
from majlis.errors import DomainError
from notify import outbox
from rooms import service as rooms
from video import service as video
from web import audit_reading, labels, personal_data, two_factor
from web.audit_display import placement_display
from web.auth import ALL_STAFF, PASSWORD_PAGE, requires, session_policy, sign_in_policy, signed_in_user
from web.branch_names import branch_context
from web.case_history import staff_history
from web.client_address import client_address
from web.device_cookie import remember_device, trusted_device
from web.errors import domain_message
from web.keys import BROWSER_SESSION, CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.pages import render
from web.placement_reach import within_reach
from web.retry_after import note_wait
from web.security import SESSION_COOKIE, cookie_flags, rotate_visitor_csrf, safe_local_path
from web.video_pages import ROOM_ROLES

routes = web.RouteTableDef()

# Where each role starts after signing in.
HOME_BY_ROLE = {
    Role.INTAKE_DESK: "/desk",
    Role.CALL_CENTRE: "/desk",
    Role.AUDIT_DESK: "/audit",
    Role.MANAGER: "/reports/fairness",
    Role.PROTOCOL: "/protocol",
    Role.OFFICIAL: "/official",
    Role.FOLLOW_UP: "/followup",
    Role.ADMINISTRATOR: "/admin/users",
    Role.DEPARTMENT_LIAISON: "/liaison",
    Role.WHATSAPP_DESK: "/whatsapp",
    Role.EMERGENCY_AGENT: "/emergency/agent",
    Role.MISSION_STAFF: "/emergency/mission",
    Role.CONSULAR_SUPERVISOR: "/emergency/supervision",
    Role.AUDITOR: "/audit/placements",
}


def _safe_next(target: str | None) -> str | None:
    return safe_local_path(target)


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    context = {"next": _safe_next(request.query.get("next")) or "", "username": "", "failed": False, "error": None}
    return render(request, "staff/login.html", context)


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", ""))
    next_page = _safe_next(str(form.get("next", "")))
    session, clock = request[DB], request.app[CLOCK]
    address = client_address(request)
    try:
        user = await accounts.sign_in(
            session=session,
            clock=clock,
            policy=sign_in_policy(request),
            username=username,
            password=str(form.get("password", "")),
            address=address,
            device=trusted_device(request, username),
        )
    except DomainError as exc:
        note_wait(request, exc)
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        context = {"error": message, "failed": False, "username": username, "next": next_page or ""}
        return render(request, "staff/login.html", context, status=429)
    if user is None:
        # The failed attempt must be kept to throttle guessing, although the
        # answer is an error (which would otherwise roll the transaction back).
        await session.commit()
        context = {"failed": True, "error": None, "username": username, "next": next_page or ""}
        return render(request, "staff/login.html", context, status=401)
    await _end_browser_session(request)
    token = await sessions.open_session(
        session=session,
        clock=clock,
        policy=session_policy(request),
        user=user,
        # Verified by web.two_factor.after_password when no second factor is owed.
        verified=False,
        address=address,
        user_agent=request.headers.get("User-Agent", ""),
    )
    rotate_visitor_csrf(request)
    start = PASSWORD_PAGE if user.must_change_password else next_page or HOME_BY_ROLE.get(user.role, "/staff")
    location, complete = await two_factor.after_password(request, user, token, start)
    response = see_other(location)
    if complete:
        # A trusted device only once the sign-in is complete; one owing its second factor gets it at that step
        # (web/two_factor.py), so a stolen password alone never makes a browser trusted.
        remember_device(request, response, username)
    max_age = request.app[SETTINGS].session_hours * 3600
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, **cookie_flags(request))  # type: ignore[arg-type]
    return response


async def _end_browser_session(request: web.Request) -> None:
    """Ends this browser's session, if it has a live one (signed in, or still owing its second factor)."""
    browser = request.get(BROWSER_SESSION)
    token = request.cookies.get(SESSION_COOKIE)
    if browser is not None and token:
        await sessions.sign_out(session=request[DB], clock=request.app[CLOCK], token=token, user_id=browser.user.id)


@routes.post("/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await _end_browser_session(request)
    rotate_visitor_csrf(request)
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/staff")
@requires(*ALL_STAFF)
async def staff_home(request: web.Request) -> web.Response:
    session = request[DB]
    counts = await cases.count_by_status(session=session)
    user = signed_in_user(request)
    # Those who run video rooms (the women's section, protocol's men) start from the rooms they may run today.
    video_rooms = []
    if user.role in ROOM_ROLES:
        for room in await rooms.rooms(session=session, active_only=True):
            if room.kind in rooms.VIDEO_ROOM_STAFF and await video.may_hold_room(
                session=session, clock=request.app[CLOCK], staff_id=user.id, role=user.role, room_id=room.id
            ):
                video_rooms.append(room)
    return render(request, "staff/home.html", {"counts": counts, "labels": labels, "video_rooms": video_rooms})


# A department's liaison officer sees only their department's referrals, never a request's whole history; the
# emergency line's staff (the contact centre's agents, the missions abroad, the consular supervisors) work on
# emergency reports, not on requests to the official; the auditor reads placements by tracking number alone
# (web/audit_pages.py), never a request's personal data.
CASE_READERS = ALL_STAFF - {
    Role.AUDITOR,
    Role.DEPARTMENT_LIAISON,
    Role.EMERGENCY_AGENT,
    Role.MISSION_STAFF,
    Role.CONSULAR_SUPERVISOR,
}


@routes.get("/cases")
@requires(*CASE_READERS)
async def case_lookup(request: web.Request) -> web.Response:
    """A case by tracking number, for staff answering a status question."""
    query = request.query.get("tracking_number", "").strip()
    context: dict[str, object] = {"query": query, "labels": labels, "case": None, "not_found": False}
    if query:
        session = request[DB]
        case = await cases.find_by_tracking_number(session=session, tracking_number=query)
        # A request outside the reader's need to know is answered as one that does not exist.
        if case is None or not await personal_data.may_see(request, case.id):
            context["not_found"] = True
            return render(request, "staff/case_lookup.html", context, status=404)
        await personal_data.record(request, case.id)
        context.update(
            case=case,
            # Status changes and the referrals' exchanges in time order (web/case_history.py).
            history=await staff_history(
                session=session,
                case_id=case.id,
                catalogs=request.app[CATALOGS],
                language=request[LANGUAGE],
                now=request.app[CLOCK].now(),
            ),
            messages=await outbox.messages_for_case(session=session, case_id=case.id),
            # How the fairness record explains each seat it was given (fairness/explain.py).
            placements=await audit_reading.shapes(
                session=session,
                found=await within_reach(
                    request, await explain.placement_explanations(session=session, case_id=case.id)
                ),
            ),
            **await placement_display(request),
            **await branch_context(request),
        )
    return render(request, "staff/case_lookup.html", context)
