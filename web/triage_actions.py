"""The audit desk's actions by name, shared by its pages and its API: fields in, one service call.

Fields arrive as text (a form, or a JSON body whose shape the API has already
checked); the services check their meaning and refuse with InvalidInput or a
DomainError, which each caller turns into its own kind of answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from majlis.errors import FieldError, InvalidInput
from majlis.numbers import whole_number
from priority import duplicates
from priority import service as triage
from priority.errors import NotReadyToRoute
from priority.models import Route
from priority.score import Urgency
from scheduler import service as scheduling
from scheduler import urgent
from web.auth import signed_in_user
from web.department_choices import renamed
from web.keys import CLOCK, DB, SETTINGS
from web.public import status_url

URGENT = frozenset({Urgency.CRITICAL, Urgency.URGENT})

Perform = Callable[[web.Request, str, Mapping[str, str]], Awaitable[None]]


async def _verify(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    await triage.verify(
        session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, tracking_number=number
    )


async def _classify(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    await triage.classify(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        tracking_number=number,
        category=fields.get("category", ""),
        urgency=fields.get("urgency", ""),
        change_reason=fields.get("change_reason"),
        change_text=fields.get("change_text"),
    )


async def _route(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    """A route; a written referral names its departments (codes, comma-separated) and carries its text."""
    try:
        row = await triage.route(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            tracking_number=number,
            to=fields.get("route", ""),
            status_url=status_url(request),
            change_reason=fields.get("change_reason"),
            change_text=fields.get("change_text"),
            departments=fields.get("departments", ""),
            referral_text=fields.get("referral_text", ""),
        )
    except InvalidInput as exc:
        # The domain names unknown codes under the official's field; here they were chosen as "departments".
        raise renamed(exc.errors, "referred_to", "departments") from None
    settings = request.app[SETTINGS]
    # An urgent arrival after the weekly run takes its seat now rather than next week.
    if settings.place_urgent_on_route and row.route is not Route.WRITTEN_REFERRAL and row.urgency in URGENT:
        await urgent.place_urgent_arrival(
            session=request[DB],
            clock=request.app[CLOCK],
            case_id=row.case_id,
            actor_id=signed_in_user(request).id,
            may_displace=settings.critical_may_displace,
            status_url=status_url(request),
            horizon=settings.allocation_horizon,
        )


async def _move_up(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    points = fields.get("points", "")
    await triage.move_up(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        tracking_number=number,
        points=whole_number(points) or 0,
        change_reason=fields.get("change_reason"),
        change_text=fields.get("change_text"),
    )


async def _needs_information(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    await triage.request_information(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        tracking_number=number,
        missing=fields.get("missing", ""),
        status_url=status_url(request),
    )


async def _reject(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    await triage.reject(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        tracking_number=number,
        reason=fields.get("reason", ""),
        status_url=status_url(request),
    )


async def _merge(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    await duplicates.merge(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        duplicate_number=number,
        original_number=fields.get("into", ""),
        status_url=status_url(request),
    )


async def _unavailable_days(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    case = await triage.open_case(session=request[DB], tracking_number=number)
    await scheduling.set_unavailable_days(
        session=request[DB],
        clock=request.app[CLOCK],
        case_id=case.id,
        actor_id=signed_in_user(request).id,
        days=fields.get("days", ""),
    )


async def _triage(request: web.Request, number: str, fields: Mapping[str, str]) -> None:
    """The triage form's one submit: verification, classification, route, a move up and the days the applicant
    cannot come, in one transaction.

    Each part runs only when it changes something; every refused field is gathered (the justification, shared
    by the parts, named once) and then refused together, so the caller's rollback leaves nothing half-saved.
    """
    session, clock = request[DB], request.app[CLOCK]
    case = await triage.open_case(session=session, tracking_number=number)
    row = await triage.current_triage(session=session, clock=clock, case=case)
    errors: list[FieldError] = []

    async def part(perform: Perform, given: Mapping[str, str]) -> None:
        try:
            await perform(request, number, given)
        except InvalidInput as exc:
            errors.extend(exc.errors)
        except NotReadyToRoute:
            # Routing waits on the verification and classification; when those were refused, they are the news.
            if not errors:
                raise

    if fields.get("verified") and row.verified_at is None:
        await _verify(request, number, fields)
    category, urgency = fields.get("category", "").strip(), fields.get("urgency", "").strip()
    if category and not urgency:
        # "As the category implies": the usual case needs no second choice.
        chosen = await triage.category(session=session, code=category)
        urgency = chosen.implied_urgency.value if chosen is not None else ""
    current = (row.category_code or "", row.urgency.value if row.urgency else "")
    if (category, urgency) != current or not category:
        await part(_classify, {**fields, "category": category, "urgency": urgency})
    route = fields.get("route", "").strip()
    if route != (row.route.value if row.route else ""):
        await part(_route, fields)
    if fields.get("points", "").strip():
        await part(_move_up, fields)
    if "days" in fields:
        known = await scheduling.unavailable_days(session=session, case_id=case.id)
        if fields["days"].strip() != ", ".join(map(str, known)):
            await part(_unavailable_days, fields)
    if errors:
        once: dict[str, FieldError] = {}
        for error in errors:
            once.setdefault(error.field, error)
        raise InvalidInput(list(once.values()))


# The last part of each action's path, on the pages and in the API.
ACTIONS: Mapping[str, Perform] = {
    "verify": _verify,
    "classify": _classify,
    "route": _route,
    "move-up": _move_up,
    "needs-information": _needs_information,
    "reject": _reject,
    "merge": _merge,
    "unavailable-days": _unavailable_days,
}

# The page's own: the one triage form, whose parts the API offers one by one.
PAGE_ACTIONS: Mapping[str, Perform] = {**ACTIONS, "triage": _triage}
