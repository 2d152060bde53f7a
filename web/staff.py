"""Staff pages common to every role: signing in and out, the home page; who may find a request (web/case_search.py)."""

from __future__ import annotations

from aiohttp import web

from accounts import service as accounts
from accounts import sessions
from accounts.roles import Role
from majlis.errors import DomainError
from web import labels, role_home, two_factor
from web.auth import ALL_STAFF, PASSWORD_PAGE, requires, session_policy, sign_in_policy
from web.client_address import client_address
from web.device_cookie import remember_device, trusted_device
from web.errors import domain_message
from web.keys import BROWSER_SESSION, CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.pages import render
from web.retry_after import note_wait
from web.security import SESSION_COOKIE, cookie_flags, rotate_visitor_csrf, safe_local_path

routes = web.RouteTableDef()

# Where each role starts after signing in. The desk, the call centre, the audit desk, the women's section,
# managers and administrators start from their home page (/staff, web/role_home.py): their short work queue.
# Protocol, the official and the follow-up team start on their full working page, which is their queue itself;
# /staff shows them its summary.
HOME_BY_ROLE = {
    Role.PROTOCOL: "/protocol",
    Role.OFFICIAL: "/official",
    Role.FOLLOW_UP: "/followup",
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
    """The member's own work queue (web/role_home.py), or the counts of requests by status for the other roles."""
    return render(request, "staff/home.html", {"labels": labels, **await role_home.home_context(request)})


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
