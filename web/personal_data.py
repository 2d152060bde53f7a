"""Need to know on the pages and the API: a request outside the reader's reach is answered as not found, and
every view of one inside it is written to the access log (cases/need_to_know.py, cases/access_log.py).

404 and never 403, as the emergency line does for missions (web/emergency_access.py): trying tracking numbers
confirms nothing.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import ColumnElement

from accounts import service as accounts
from accounts.roles import Role
from cases import access_log, need_to_know
from cases import service as cases
from cases.models import Case
from web.auth import signed_in_user
from web.keys import CLOCK, DB


async def reader_of(request: web.Request) -> need_to_know.Reader:
    """The signed-in member of staff as the need-to-know rule sees them."""
    user = signed_in_user(request)
    department_id = None
    if user.role is Role.DEPARTMENT_LIAISON:
        account = await accounts.get_user(session=request[DB], user_id=user.id)
        department_id = account.department_id if account is not None else None
    return need_to_know.Reader(staff_id=user.id, role=user.role, department_id=department_id)


def _via(request: web.Request) -> str:
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    return f"{request.method} {path}"


async def may_see(request: web.Request, case_id: int) -> bool:
    """Whether the signed-in reader may see this request (nothing is logged)."""
    reader = await reader_of(request)
    return await need_to_know.may_see(session=request[DB], reader=reader, case_id=case_id, now=request.app[CLOCK].now())


async def record(request: web.Request, case_id: int) -> None:
    """Writes down that the signed-in reader saw this request's personal data, through this route."""
    await record_all(request, [case_id])


async def record_all(request: web.Request, case_ids: list[int]) -> None:
    """The same for each of these requests (a page whose reach is decided elsewhere, as the WhatsApp desk's)."""
    await access_log.record_views(
        session=request[DB],
        clock=request.app[CLOCK],
        staff_id=signed_in_user(request).id,
        case_ids=case_ids,
        via=_via(request),
    )


async def seen(request: web.Request, case_id: int) -> None:
    """The request's personal data is shown to the reader: 404 outside their reach, the view logged inside it."""
    if not await may_see(request, case_id):
        raise web.HTTPNotFound()
    await record(request, case_id)


async def visible_case(request: web.Request, number: str) -> Case:
    """The request with this tracking number, seen (and logged) by the reader; 404 if none or out of reach."""
    case = await cases.find_by_tracking_number(session=request[DB], tracking_number=number)
    if case is None:
        raise web.HTTPNotFound()
    await seen(request, case.id)
    return case


async def reach(request: web.Request) -> ColumnElement[bool]:
    """The condition on `cases` of the requests the signed-in reader may see, for a list filtered in the database."""
    return need_to_know.reach(await reader_of(request), now=request.app[CLOCK].now())


async def reachable(request: web.Request, case_ids: set[int]) -> set[int]:
    """Of these requests, those the signed-in reader may see (nothing is logged: for lists naming no one)."""
    return await need_to_know.visible_ids(
        session=request[DB], reader=await reader_of(request), case_ids=case_ids, now=request.app[CLOCK].now()
    )


async def seen_in_list(request: web.Request, case_ids: list[int]) -> set[int]:
    """Of the requests a list would show, those the reader may see; each of them logged as seen."""
    reader = await reader_of(request)
    visible = await need_to_know.visible_ids(
        session=request[DB], reader=reader, case_ids=set(case_ids), now=request.app[CLOCK].now()
    )
    await access_log.record_views(
        session=request[DB],
        clock=request.app[CLOCK],
        staff_id=reader.staff_id,
        case_ids=[case_id for case_id in dict.fromkeys(case_ids) if case_id in visible],
        via=_via(request),
    )
    return visible
