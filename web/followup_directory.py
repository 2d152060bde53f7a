"""The directory of departments: administrators keep the tree and each department's people; follow-up reads it.

Working calendars are kept in web/followup_calendars.py and service-level
policies in web/followup_policies.py; all three share the helpers here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from accounts import service as accounts
from accounts.roles import Role
from followup import contacts, directory
from followup.contacts import ContactInput
from followup.directory import DepartmentInput, TreeRow
from followup.models import Department
from majlis.errors import N_, DomainError, InvalidInput
from web import labels
from web.auth import requires, signed_in_user
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render
from worktime import editing as calendars

routes = web.RouteTableDef()

DEPARTMENT_ADDED = notice(N_("The department {name} was added."))
DEPARTMENT_SAVED = notice(N_("The department's details were saved."))
DEPARTMENT_PUT_BACK = notice(N_("The department was put back in service."))
DEPARTMENT_DEACTIVATED = notice(N_("The department was deactivated."))
CONTACT_ADDED = notice(N_("The contact was added."))
CONTACT_SAVED = notice(N_("The contact's details were saved."))
CONTACT_PUT_BACK = notice(N_("The contact was put back in service."))
CONTACT_DEACTIVATED = notice(N_("The contact was deactivated."))
# Follow-up reads the directory; only administrators (who pass every guard) change it.
READERS = (Role.FOLLOW_UP,)
DEPARTMENT_FIELDS = ("code", "name_ar", "name_en", "parent", "calendar", "email")
CONTACT_FIELDS = ("role", "name", "email", "phone", "language")
# The contact form shares its page with the department's form: its fields carry this prefix.
CONTACT = "contact."


def can_edit(request: web.Request) -> bool:
    return signed_in_user(request).role is Role.ADMINISTRATOR


def actor(request: web.Request) -> int:
    return signed_in_user(request).id


def form_values(form: MultiDictProxy[Any], names: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    return {name: str(form.get(prefix + name, "")).strip() for name in names}


def field_errors(request: web.Request, exc: InvalidInput, prefix: str = "") -> dict[str, str]:
    found = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
    return {prefix + field: message for field, message in found.items()}


def not_found(exc: DomainError) -> web.HTTPNotFound:
    """A page for a department, contact, calendar or policy that does not exist; other refusals go on."""
    if not exc.code.endswith("not_found"):
        raise exc
    return web.HTTPNotFound()


def _parent_choices(rows: list[TreeRow], language: str, top: str, excluded: set[int]) -> list[tuple[str, str]]:
    choices = [("", top)]
    for row in rows:
        if row.department.active and row.department.id not in excluded:
            choices.append((row.department.code, "— " * row.depth + row.department.name_in(language)))
    return choices


def _below(rows: list[TreeRow], department: Department) -> set[int]:
    """The department and every department under it: none of them can become its parent."""
    found: set[int] = set()
    depth: int | None = None
    for row in rows:
        if row.department.id == department.id:
            depth = row.depth
            found.add(department.id)
        elif depth is not None:
            if row.depth <= depth:
                break
            found.add(row.department.id)
    return found


async def _choices(request: web.Request, rows: list[TreeRow], editing: Department | None) -> dict[str, Any]:
    language = request[LANGUAGE]
    top = request.app[CATALOGS].gettext(language, N_("None: the top of the tree"))
    every = await calendars.calendars(session=request[DB])
    return {
        "parents": _parent_choices(rows, language, top, _below(rows, editing) if editing else set()),
        "calendar_choices": [(c.code, c.name_in(language)) for c in every],
    }


async def _list_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    rows = await directory.tree(session=request[DB])
    context = {
        "rows": rows,
        "values": values,
        "errors": errors,
        "editable": can_edit(request),
        **await _choices(request, rows, None),
    }
    return render(request, "directory/departments.html", context, status=status)


@routes.get("/followup/departments")
@requires(*READERS)
async def departments(request: web.Request) -> web.Response:
    return await _list_page(request, {"calendar": "government"}, {})


@routes.post("/followup/departments")
@requires()
async def add_department(request: web.Request) -> web.Response:
    values = form_values(await request.post(), DEPARTMENT_FIELDS)
    try:
        made = await directory.add_department(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), data=DepartmentInput(**values)
        )
    except InvalidInput as exc:
        return await _list_page(request, values, field_errors(request, exc), 422)
    return done(request, f"/followup/departments/{made.code}", DEPARTMENT_ADDED, name=made.name_in(request[LANGUAGE]))


def _department_values(department: Department, rows: list[TreeRow]) -> dict[str, str]:
    row = next(r for r in rows if r.department.id == department.id)
    return {
        "code": department.code,
        "name_ar": department.name_ar,
        "name_en": department.name_en,
        "parent": row.parent_code or "",
        "calendar": row.calendar_code,
        "email": department.email,
    }


async def _department_page(
    request: web.Request,
    *,
    values: Mapping[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    contact_id: str | None = None,
    status: int = 200,
) -> web.Response:
    """The department's page; `contact_id` (else ?contact=) puts that contact in the form to be changed."""
    session = request[DB]
    try:
        department = await directory.department_by_code(session=session, code=request.match_info["code"])
    except DomainError as exc:
        raise not_found(exc) from None
    rows = await directory.tree(session=session)
    people = await contacts.contacts(session=session, department_id=department.id)
    shown = {**_department_values(department, rows), **(values or {})}
    wanted = contact_id or request.query.get("contact", "")
    editing_contact = next((c for c in people if str(c.id) == wanted), None)
    if editing_contact is not None and not any(k.startswith(CONTACT) for k in shown):
        shown.update({CONTACT + name: str(getattr(editing_contact, name)) for name in CONTACT_FIELDS})
    shown.setdefault(CONTACT + "language", "ar")
    liaisons = [u for u in await accounts.list_users(session=session) if u.department_id == department.id]
    context = {
        "department": department,
        "row": next(r for r in rows if r.department.id == department.id),
        "rows": rows,
        "people": people,
        "liaisons": liaisons,
        "editing_contact": editing_contact,
        "values": shown,
        "errors": errors or {},
        # Each form's summary lists its own fields' errors.
        "department_errors": {k: v for k, v in (errors or {}).items() if not k.startswith(CONTACT)},
        "contact_errors": {k: v for k, v in (errors or {}).items() if k.startswith(CONTACT)},
        "form_error": form_error,
        "editable": can_edit(request),
        "labels": labels,
        **await _choices(request, rows, department),
    }
    return render(request, "directory/department.html", context, status=status)


@routes.get("/followup/departments/{code}")
@requires(*READERS)
async def department_page(request: web.Request) -> web.Response:
    return await _department_page(request)


@routes.post("/followup/departments/{code}")
@requires()
async def update_department(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    values = form_values(await request.post(), DEPARTMENT_FIELDS)
    values["code"] = code
    try:
        await directory.update_department(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            code=code,
            data=DepartmentInput(**values),
        )
    except InvalidInput as exc:
        return await _department_page(request, values=values, errors=field_errors(request, exc), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/followup/departments/{code}", DEPARTMENT_SAVED)


@routes.post("/followup/departments/{code}/active")
@requires()
async def set_department_active(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    form = await request.post()
    try:
        await directory.set_department_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            code=code,
            active=form.get("active") == "1",
        )
    except InvalidInput as exc:
        message = " ".join(field_errors(request, exc).values())
        return await _department_page(request, form_error=message, status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(
        request,
        f"/followup/departments/{code}",
        DEPARTMENT_PUT_BACK if form.get("active") == "1" else DEPARTMENT_DEACTIVATED,
    )


@routes.post("/followup/departments/{code}/contacts")
@requires()
async def add_contact(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    values = form_values(await request.post(), CONTACT_FIELDS, CONTACT)
    try:
        await contacts.add_contact(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            department_code=code,
            data=ContactInput(**values),
        )
    except InvalidInput as exc:
        shown = {CONTACT + k: v for k, v in values.items()}
        return await _department_page(request, values=shown, errors=field_errors(request, exc, CONTACT), status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/followup/departments/{code}#contacts", CONTACT_ADDED)


@routes.post("/followup/departments/{code}/contacts/{contact_id:\\d{1,9}}")
@requires()
async def update_contact(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    values = form_values(await request.post(), CONTACT_FIELDS, CONTACT)
    try:
        await contacts.update_contact(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            department_code=code,
            contact_id=int(request.match_info["contact_id"]),
            data=ContactInput(**values),
        )
    except InvalidInput as exc:
        shown = {CONTACT + k: v for k, v in values.items()}
        errors = field_errors(request, exc, CONTACT)
        contact_id = request.match_info["contact_id"]
        return await _department_page(request, values=shown, errors=errors, contact_id=contact_id, status=422)
    except DomainError as exc:
        raise not_found(exc) from None
    return done(request, f"/followup/departments/{code}#contacts", CONTACT_SAVED)


@routes.post("/followup/departments/{code}/contacts/{contact_id:\\d{1,9}}/active")
@requires()
async def set_contact_active(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    form = await request.post()
    try:
        await contacts.set_contact_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=actor(request),
            department_code=code,
            contact_id=int(request.match_info["contact_id"]),
            active=form.get("active") == "1",
        )
    except DomainError as exc:
        raise not_found(exc) from None
    return done(
        request,
        f"/followup/departments/{code}#contacts",
        CONTACT_PUT_BACK if form.get("active") == "1" else CONTACT_DEACTIVATED,
    )
