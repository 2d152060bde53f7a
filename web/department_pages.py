"""The department's pages: its referral through the signed link of the e-mail (/r/{token}, no account), and the
liaison officers' list and referral pages (/liaison), with the same page and forms.

The link's token is its only proof, so these pages are kept out of search engines, Referer headers and
caches, and carry no staff navigation. A form's post shows a page saying what was done; a refused step (a
second press, a stale link, a closed referral) shows why, in both languages, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from accounts.roles import Role
from cases import service as cases
from followup import attachments, department_desk
from followup.models import Referral
from followup.referrals import ReferralNotFound
from majlis.errors import N_, DomainError, InvalidInput
from majlis.numbers import whole_number
from web import labels
from web.attachments import attachment_response
from web.auth import requires
from web.department_actions import (
    ACTIONS,
    ANSWER,
    CONFIRMATIONS,
    MOVED_ON,
    RETURN,
    RETURNED_BY_LINK,
    TEXT_FIELDS,
    Access,
    NotFound,
    account_department,
    by_account,
    by_link,
    current,
    moved_on,
    perform,
)
from web.department_view import FILE_OWNERS, STATES, shown
from web.errors import bilingual, field_message
from web.keys import ATTACHMENTS, CATALOGS, CLOCK, DB, LANGUAGE
from web.pages import render
from web.uploads import accepts_uploads, uploads_in

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LINK_NOT_VALID = N_(
    "This link is not valid. Check that the whole link was copied from the e-mail, or ask the follow-up team."
)
NOTHING_CHANGED = N_("Nothing was changed.")
NO_DEPARTMENT = N_("This account belongs to no department, so it has no referrals to show.")


def _private(response: web.Response) -> web.Response:
    """The token is in the address: no Referer to other sites, no search engine, no cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: web.Request, template: str, context: Mapping[str, object], status: int = 200) -> web.Response:
    """A department page, private, whose language switch reloads the referral's page (a post's page cannot be)."""
    if request.method == "GET":
        switch_to = request.path
    elif "token" in request.match_info:
        switch_to = f"/r/{request.match_info['token']}"
    elif "referral_id" in request.match_info:
        switch_to = f"/liaison/referrals/{request.match_info['referral_id']}"
    else:
        switch_to = "/liaison"
    return _private(render(request, template, {"switch_to": switch_to, **context}, status=status))


def _refused(
    request: web.Request, message: str, status: int, *, back: str | None = None, **params: str
) -> web.Response:
    """Why the link or the step cannot be used, in both languages: whoever opened the link may read either.

    A refused step (409) also says that nothing was changed.
    """
    catalogs = request.app[CATALOGS]
    messages = bilingual(catalogs, message, **params)
    if status == 409:
        unchanged = bilingual(catalogs, NOTHING_CHANGED)
        messages = {language: f"{text} {unchanged[language]}" for language, text in messages.items()}
    context = {"messages": messages, "status": status, "back": back}
    return _page(request, "department/refused.html", context, status)


def _not_found(request: web.Request) -> web.Response:
    return _refused(request, LINK_NOT_VALID, 404)


async def _referral_page(
    request: web.Request,
    access: Access,
    referral: Referral,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    failed: str = "",
    status: int = 200,
) -> web.Response:
    context = {
        "shown": await shown(request, access, referral),
        "access": access,
        "errors": errors or {},
        "values": values or {},
        "failed": failed,
        "fields": TEXT_FIELDS,
        "labels": labels,
        "owners": FILE_OWNERS,
        "max_files": request.app[ATTACHMENTS].max_files,
        "max_mb": attachments.megabytes(request.app[ATTACHMENTS].max_bytes),
    }
    return _page(request, "department/referral.html", context, status)


async def _act(request: web.Request, access: Access, action: str) -> web.Response:
    """One step from a form; the page of what was done, the form again with its errors, or why it was refused."""
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in TEXT_FIELDS.values()}
    uploads = uploads_in(form) if action == ANSWER else []
    try:
        referral = await perform(request, access, action, values, uploads)
    except InvalidInput as exc:
        await request[DB].rollback()
        catalogs, language = request.app[CATALOGS], request[LANGUAGE]
        # Each refused file is its own error ("files.0", "files.1"): all are listed, the files' field marked.
        errors = {error.field: field_message(catalogs, language, error) for error in exc.errors}
        referral = await current(request, access)
        return await _referral_page(request, access, referral, errors=errors, values=values, failed=action, status=422)
    except ReferralNotFound:
        return _not_found(request)
    except DomainError as exc:
        await request[DB].rollback()
        back = None if exc.code == "moved_on" else access.page
        return _refused(request, exc.message, 409, back=back, **exc.params)
    case = await cases.get_case(session=request[DB], case_id=referral.case_id)
    link_ended = action == RETURN and access.by_link
    context = {
        "confirmation": CONFIRMATIONS[action],
        "link_ended": RETURNED_BY_LINK if link_ended else "",
        "back": None if link_ended else access.page,
        "tracking_number": case.tracking_number if case else "",
        "action": action,
    }
    return _page(request, "department/done.html", context)


async def _file(request: web.Request, access: Access, referral: Referral) -> web.StreamResponse:
    """A file of the referral's request or of the referral itself; any other is not found here."""
    attachment_id = whole_number(request.match_info["attachment_id"])
    session = request[DB]
    found = await attachments.get(session=session, attachment_id=attachment_id) if attachment_id else None
    if found is None or not department_desk.may_open(referral, found):
        return _refused(request, N_("There is no such file on this referral."), 404, back=access.page)
    return await attachment_response(request, found)


# --- the signed link ------------------------------------------------------------------------------


async def _link(request: web.Request) -> tuple[Access, Referral] | web.Response:
    """The link's access and referral; the refusal page when the token is not ours or the referral moved on."""
    try:
        access = await by_link(request, request.match_info["token"])
        referral = await current(request, access)
    except NotFound:
        return _not_found(request)
    if moved_on(access, referral):
        return _refused(request, MOVED_ON, 410)
    return access, referral


@routes.get("/r/{token}")
async def link_page(request: web.Request) -> web.Response:
    found = await _link(request)
    if isinstance(found, web.Response):
        return found
    return await _referral_page(request, *found)


@routes.get("/r/{token}/attachments/{attachment_id}")
async def link_file(request: web.Request) -> web.StreamResponse:
    found = await _link(request)
    if isinstance(found, web.Response):
        return found
    return await _file(request, *found)


def _link_step(action: str) -> Handler:
    async def step(request: web.Request) -> web.Response:
        try:
            access = await by_link(request, request.match_info["token"])
        except NotFound:
            return _not_found(request)
        return await _act(request, access, action)

    step.__name__ = f"link_{action}"
    return accepts_uploads(step) if action == ANSWER else step


# --- liaison accounts -------------------------------------------------------------------------------

CLOCKS: Mapping[str, str] = {
    "first_response": N_("First response"),
    "update": N_("Update"),
    "solution": N_("Solution"),
}


def standing_text(request: web.Request, line: department_desk.Line) -> str:
    """The working time left to the nearest clock owed, or by which it is overdue, and which clock that is."""
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    standing = line.standing
    if not standing.clock:
        return "—"
    minutes = int(abs(standing.left).total_seconds() // 60)
    day = int(line.working_day.total_seconds() // 60) if line.working_day else 0
    if day and minutes >= day:
        time = catalogs.gettext(
            language, N_("{days} working day(s) {hours} h"), days=minutes // day, hours=minutes % day // 60
        )
    elif minutes >= 60:
        time = catalogs.gettext(language, N_("{hours} h {minutes} min"), hours=minutes // 60, minutes=minutes % 60)
    else:
        time = catalogs.gettext(language, N_("{minutes} min"), minutes=minutes)
    said = catalogs.gettext(language, N_("Overdue by {time}") if standing.overdue else N_("{time} left"), time=time)
    return f"{said} ({catalogs.gettext(language, CLOCKS[standing.clock])})"


@routes.get("/liaison")
@requires(Role.DEPARTMENT_LIAISON)
async def liaison_list(request: web.Request) -> web.Response:
    """The department's open referrals, most urgent first, and those that left it in the last 30 days."""
    department = await account_department(request)
    context: dict[str, object] = {
        "department": department.name_in(request[LANGUAGE]) if department else "",
        "no_department": NO_DEPARTMENT,
        "states": STATES,
        "listed": None,
        "standing_text": lambda line: standing_text(request, line),
    }
    if department is not None:
        context["listed"] = await department_desk.department_list(
            session=request[DB], department_id=department.id, now=request.app[CLOCK].now()
        )
    return _page(request, "department/liaison.html", context)


async def _account(request: web.Request) -> tuple[Access, Referral] | web.Response:
    try:
        access = await by_account(request)
        return access, await current(request, access)
    except NotFound:
        # Not 403: a liaison must not learn that another department's referral exists.
        return _refused(request, N_("There is no such referral among your department's."), 404, back="/liaison")


@routes.get("/liaison/referrals/{referral_id}")
@requires(Role.DEPARTMENT_LIAISON)
async def liaison_referral(request: web.Request) -> web.Response:
    found = await _account(request)
    if isinstance(found, web.Response):
        return found
    return await _referral_page(request, *found)


@routes.get("/liaison/referrals/{referral_id}/attachments/{attachment_id}")
@requires(Role.DEPARTMENT_LIAISON)
async def liaison_file(request: web.Request) -> web.StreamResponse:
    found = await _account(request)
    if isinstance(found, web.Response):
        return found
    return await _file(request, *found)


def _liaison_step(action: str) -> Handler:
    async def step(request: web.Request) -> web.Response:
        found = await _account(request)
        if isinstance(found, web.Response):
            return found
        return await _act(request, found[0], action)

    step.__name__ = f"liaison_{action}"
    guarded = requires(Role.DEPARTMENT_LIAISON)(step)
    return accepts_uploads(guarded) if action == ANSWER else guarded


for _action in ACTIONS:
    routes.post(f"/r/{{token}}/{_action}")(_link_step(_action))
    routes.post(f"/liaison/referrals/{{referral_id}}/{_action}")(_liaison_step(_action))
