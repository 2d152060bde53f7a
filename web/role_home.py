"""Each role's home page (/staff): the short list of its own work today, with a link to the full page.

The lists come from the domain queries the full pages use; each shows at most SHOWN items and the total beside
them. They name no one (tracking numbers, times, rooms and departments), so no personal data is read here; the
full pages, which show names, keep their need-to-know filters and access log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp import web

from accounts.roles import Role
from audience_day import board
from cases import service as cases
from cases import walk_ins
from cases.models import CaseStatus
from followup import daily, directives
from majlis.clock import RIYADH, riyadh
from quality import review
from rooms import service as rooms
from scheduler import confirmations, views
from scheduler.models import AppointmentState
from video import service as video
from web import personal_data
from web.auth import signed_in_user
from web.keys import CLOCK, DB, SETTINGS

# A home page is a glance; the full page holds the rest.
SHOWN = 10

Context = dict[str, Any]


def _today(request: web.Request) -> tuple[datetime, datetime]:
    """The current Riyadh day as [start, end) in UTC."""
    day = riyadh(request.app[CLOCK].now()).date()
    start = datetime.combine(day, time(), RIYADH).astimezone(UTC)
    return start, start + timedelta(days=1)


async def _desk(request: web.Request) -> Context:
    """Today's appointments with who has arrived, and the walk-ins taken today."""
    session = request[DB]
    start, end = _today(request)
    day = riyadh(start).date()
    expected = await board.day_appointments(session=session, day=day)
    walk_in_count, walk_in_cases = await walk_ins.walk_ins_between(session=session, start=start, end=end, limit=SHOWN)
    return {
        "expected": expected[:SHOWN],
        "expected_count": len(expected),
        "arrived_count": sum(1 for a in expected if a.arrived_at is not None),
        "walk_ins": walk_in_cases,
        "walk_in_count": walk_in_count,
    }


async def _call_centre(request: web.Request) -> Context:
    tasks = await confirmations.calls_due(
        session=request[DB], clock=request.app[CLOCK], policy=confirmations.policy_from(request.app[SETTINGS])
    )
    reachable = await personal_data.reachable(request, {t.case.id for t in tasks})
    tasks = [t for t in tasks if t.case.id in reachable]
    return {"calls": tasks[:SHOWN], "call_count": len(tasks)}


async def _audit(request: web.Request) -> Context:
    """The requests waiting for triage, oldest first."""
    waiting_statuses = {CaseStatus.RECEIVED, CaseStatus.NEEDS_INFORMATION}
    counts = await cases.count_by_status(session=request[DB])
    found = await cases.list_by_status(session=request[DB], statuses=waiting_statuses, limit=SHOWN)
    reachable = await personal_data.reachable(request, {c.id for c in found})
    return {
        "waiting": [c for c in found if c.id in reachable],
        "waiting_count": sum(counts.get(s, 0) for s in waiting_statuses),
    }


async def _protocol(request: web.Request) -> Context:
    """This week's sessions (Sunday to Saturday), each with its seats taken and free and its unconfirmed seats."""
    day = riyadh(request.app[CLOCK].now()).date()
    sunday = day - timedelta(days=(day.weekday() + 1) % 7)
    found = await views.sessions_with_slots(session=request[DB], start=sunday, end=sunday + timedelta(days=7))
    week = [
        {
            "session": view.session,
            "seats": view.seats,
            "booked": view.booked,
            "free": max(view.seats - view.booked, 0),
            "unconfirmed": sum(
                1 for s in view.slots for a, _case in s.appointments if a.state is AppointmentState.SCHEDULED
            ),
        }
        for view in found
    ]
    return {
        "week_start": sunday,
        "week": week[:SHOWN],
        "session_count": len(week),
        "unconfirmed_count": sum(w["unconfirmed"] for w in week),
    }


async def _video_rooms(request: web.Request) -> Context:
    """The video rooms the member may run today, each with today's audiences in it."""
    session, clock, user = request[DB], request.app[CLOCK], signed_in_user(request)
    held = []
    for room in await rooms.rooms(session=session, active_only=True):
        if room.kind in rooms.VIDEO_ROOM_STAFF and await video.may_hold_room(
            session=session, clock=clock, staff_id=user.id, role=user.role, room_id=room.id
        ):
            items = await video.video_audiences_today(session=session, clock=clock, room_id=room.id)
            held.append({"room": room, "audiences": items[:SHOWN], "count": len(items)})
    return {"video_rooms": held}


async def _protocol_home(request: web.Request) -> Context:
    return {**await _protocol(request), **await _video_rooms(request)}


async def _official(request: web.Request) -> Context:
    """Today's audiences in the order of their seats, and his directives the departments still owe."""
    session = request[DB]
    today = await video.audiences_today(session=session, clock=request.app[CLOCK])
    count, owed = await directives.open_directives(session=session, official_id=signed_in_user(request).id, limit=SHOWN)
    return {"audiences": today[:SHOWN], "audience_count": len(today), "directives": owed, "directive_count": count}


async def _follow_up(request: web.Request) -> Context:
    """The referrals past their deadline, most overdue first."""
    found = await daily.daily_list(
        session=request[DB],
        clock=request.app[CLOCK],
        filters=daily.Filters(overdue_only=True),
        within=await personal_data.reach(request),
    )
    overdue = [item for item in found.chasing if item.overdue]
    return {"overdue": overdue[:SHOWN], "overdue_count": found.counts.overdue, "now": found.now}


async def _manager(request: web.Request) -> Context:
    """The day's ratings to review, negative ones first, and how many earlier ones are overdue."""
    day = riyadh(request.app[CLOCK].now()).date()
    queue = await review.day_queue(session=request[DB], day=day)
    unreviewed = [item for item in queue if item.review is None]
    return {
        "reviews_waiting": len(unreviewed),
        "reviews_negative": sum(1 for item in unreviewed if item.negative),
        "reviews_overdue": await review.overdue_count(request[DB], request.app[CLOCK]),
    }


async def _nothing(request: web.Request) -> Context:
    return {}


# The roles with a home page of their own; the others keep the counts of requests by status.
HOMES: Mapping[Role, Callable[[web.Request], Awaitable[Context]]] = {
    Role.INTAKE_DESK: _desk,
    Role.CALL_CENTRE: _call_centre,
    Role.AUDIT_DESK: _audit,
    Role.PROTOCOL: _protocol_home,
    Role.WOMEN_SECTION: _video_rooms,
    Role.OFFICIAL: _official,
    Role.FOLLOW_UP: _follow_up,
    Role.MANAGER: _manager,
    Role.ADMINISTRATOR: _nothing,
}


async def home_context(request: web.Request) -> Context:
    """What the signed-in member's home page shows: `home` names the partial (None: the counts by status)."""
    role = signed_in_user(request).role
    build = HOMES.get(role)
    if build is None:
        return {"home": None, "counts": await cases.count_by_status(session=request[DB])}
    return {"home": role.value, **await build(request)}
