"""Administrators: staff accounts and the audit log."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from accounts import account_changes
from accounts import service as accounts
from accounts.passwords import MIN_PASSWORD_LENGTH
from accounts.roles import Role
from emergency import directory as missions
from followup import directory
from majlis.errors import N_, DomainError, InvalidInput
from web import labels, pagination
from web.audit_log import audit_log_page
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import error_response, see_other
from web.notices import done, notice
from web.pages import render

routes = web.RouteTableDef()

USER_FIELDS = ("username", "full_name", "role", "gender")
AUTHENTICATOR_RESET = notice(
    N_(
        "The authenticator of {username} has been removed and every session of the account signed out. "
        "Their next sign-in sets up a new one if their role requires it."
    )
)
CREATED = notice(N_("The account {username} is created."))
DEACTIVATED = notice(
    N_("The account {username} is deactivated: it can no longer sign in, and its sessions have ended.")
)
REACTIVATED = notice(N_("The account {username} is active again."))


async def _users_page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    temporary: tuple[str, str] | None = None,
    email_refused: tuple[int, str, str] | None = None,
) -> web.Response:
    session, language = request[DB], request[LANGUAGE]
    # The page asked for (checked in `users`); an account's forms post to their own page (?page=, `on_page`), so a
    # refusal or a password shown once appears beside the account it is about. A new account's refusal: page 1.
    paged = await accounts.users_page(session=session, page=pagination.asked_page(request) or 1)
    users = paged.items
    # A liaison account answers for one department: the list names it, the form offers those in service.
    departments = await directory.names(session=session, ids={u.department_id for u in users if u.department_id})
    rows = await directory.tree(session=session, active_only=True)
    # A mission's staff account answers for one mission's reports: the same for missions.
    in_service = await missions.missions(session=session, active_only=True)
    context = {
        "users": users,
        "pager": pagination.pager(request, paged, N_("Pages of the staff accounts")),
        "on_page": f"?page={paged.page}" if paged.page > 1 else "",
        "departments": {i: d.name_in(language) for i, d in departments.items()},
        "department_choices": [(r.department.code, "— " * r.depth + r.department.name_in(language)) for r in rows],
        "missions": {m.id: m.name_in(language) for m in await missions.missions(session=session)},
        "mission_choices": [(m.code, m.name_in(language)) for m in in_service],
        "values": values,
        "errors": errors,
        "labels": labels,
        # After a reset: (username, temporary password), shown this once and never stored in clear.
        "temporary": temporary,
        # After an e-mail address refused: (whose account, what was typed, why), shown in that account's row.
        "email_refused": email_refused,
        "saved": request.query.get("done") == "email",
        "me": signed_in_user(request).id,
        "min_password_length": MIN_PASSWORD_LENGTH,
    }
    return render(request, "admin/users.html", context, status=status)


@routes.get("/admin/users")
@requires(Role.ADMINISTRATOR)
async def users(request: web.Request) -> web.Response:
    if pagination.asked_page(request) is None:
        return pagination.refused(request)
    return await _users_page(request, {}, {})


@routes.post("/admin/users")
@requires(Role.ADMINISTRATOR)
async def create_user(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in USER_FIELDS}
    department = str(form.get("department", ""))
    mission = str(form.get("mission", ""))
    email = str(form.get("email", ""))
    try:
        made = await accounts.create_user(
            session=request[DB],
            clock=request.app[CLOCK],
            password=str(form.get("password", "")),
            actor_id=signed_in_user(request).id,
            department_code=department,
            mission_code=mission,
            email=email,
            **values,
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _users_page(
            request, {**values, "department": department, "mission": mission, "email": email}, errors, status=422
        )
    return done(request, "/admin/users", CREATED, username=made.username)


def _listing(request: web.Request, **query: str) -> str:
    """The page of the list an account's form was posted from (its ?page=), to go back to after the change."""
    number = pagination.asked_page(request) or 1
    return str(URL("/admin/users").with_query({**({"page": str(number)} if number > 1 else {}), **query}))


def _user_id(request: web.Request) -> int:
    raw = request.match_info["user_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise web.HTTPNotFound()
    return int(raw)


def _refused(request: web.Request, exc: DomainError) -> web.Response:
    status = 404 if isinstance(exc, account_changes.StaffNotFound) else 409
    return error_response(request, status, domain_message(request.app[CATALOGS], request[LANGUAGE], exc))


@routes.post("/admin/users/{user_id}/email")
@requires(Role.ADMINISTRATOR)
async def set_email(request: web.Request) -> web.Response:
    """Sets, changes or (left empty) clears the account's e-mail address: where a manager's monthly report goes."""
    user_id = _user_id(request)
    email = str((await request.post()).get("email", ""))
    try:
        await accounts.set_email(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, user_id=user_id,
            email=email,
        )  # fmt: skip
    except InvalidInput as exc:
        [why] = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors).values()
        return await _users_page(request, {}, {}, status=422, email_refused=(user_id, email, why))
    except DomainError as exc:
        return _refused(request, exc)
    return see_other(f"{_listing(request, done='email')}#email-{user_id}")


@routes.post("/admin/users/{user_id}/reset-password")
@requires(Role.ADMINISTRATOR)
async def reset_password(request: web.Request) -> web.Response:
    """A temporary password for the account, shown once; its sessions end and its next sign-in must change it."""
    session = request[DB]
    try:
        user, temporary = await account_changes.reset_password(
            session=session, clock=request.app[CLOCK], actor_id=signed_in_user(request).id, user_id=_user_id(request)
        )
    except DomainError as exc:
        return _refused(request, exc)
    # Not a redirect, on purpose: the temporary password is shown this once, on this answer, and never again (a
    # refresh posts again and makes another). The username isolated (U+2066…U+2069) inside the Arabic sentence.
    return await _users_page(request, {}, {}, temporary=(f"\u2066{user.username}\u2069", temporary))


@routes.post("/admin/users/{user_id}/reset-two-factor")
@requires(Role.ADMINISTRATOR)
async def reset_two_factor(request: web.Request) -> web.Response:
    """Removes the account's authenticator (a lost phone): its sessions end, its next sign-in enrols again."""
    session = request[DB]
    try:
        user = await account_changes.reset_two_factor(
            session=session, clock=request.app[CLOCK], actor_id=signed_in_user(request).id, user_id=_user_id(request)
        )
    except DomainError as exc:
        return _refused(request, exc)
    return done(request, _listing(request), AUTHENTICATOR_RESET, username=user.username)


@routes.post("/admin/users/{user_id}/deactivate")
@requires(Role.ADMINISTRATOR)
async def deactivate(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, active=False)


@routes.post("/admin/users/{user_id}/reactivate")
@requires(Role.ADMINISTRATOR)
async def reactivate(request: web.Request) -> web.StreamResponse:
    return await _set_active(request, active=True)


async def _set_active(request: web.Request, *, active: bool) -> web.StreamResponse:
    try:
        user = await account_changes.set_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            user_id=_user_id(request),
            active=active,
        )
    except DomainError as exc:
        return _refused(request, exc)
    return done(request, _listing(request), REACTIVATED if active else DEACTIVATED, username=user.username)


@routes.get("/admin/audit")
@requires(Role.ADMINISTRATOR)
async def audit_log(request: web.Request) -> web.Response:
    return await audit_log_page(request)
