"""Calendar feeds of the official's audiences and of each room, behind unguessable token URLs."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from majlis.clock import riyadh
from scheduler import views
from scheduler.feeds import FeedEvent, build_feed, feed_token, token_valid
from web.keys import CLOCK, DB, SETTINGS

routes = web.RouteTableDef()
# How far feeds reach: the weeks ahead that sessions are planned for, and a little past.
PAST = timedelta(weeks=4)
AHEAD = timedelta(weeks=13)


def _secret(request: web.Request) -> str:
    return request.app[SETTINGS].secret_key.get_secret_value()


def official_feed_url(request: web.Request) -> str:
    base = request.app[SETTINGS].public_url.rstrip("/")
    return f"{base}/feeds/official.ics?token={feed_token(_secret(request), 'official')}"


def room_feed_url(request: web.Request, room_id: int) -> str:
    base = request.app[SETTINGS].public_url.rstrip("/")
    return f"{base}/feeds/rooms/{room_id}.ics?token={feed_token(_secret(request), f'room:{room_id}')}"


async def _feed(request: web.Request, *, scope: str, name: str, room_id: int | None) -> web.Response:
    if not token_valid(_secret(request), scope, request.query.get("token", "")):
        raise web.HTTPNotFound()  # no hint that the feed exists
    today = riyadh(request.app[CLOCK].now()).date()
    sessions = await views.sessions_with_slots(
        session=request[DB], start=today - PAST, end=today + AHEAD, room_id=room_id
    )
    events = [
        FeedEvent(
            uid=f"appointment-{appointment.id}@majlis",
            starts_at=slot.slot.starts_at,
            ends_at=slot.slot.ends_at,
            summary=f"مقابلة — {case.tracking_number}",
            location=slot.room.name,
            # Only the tracking number: calendars live on other companies' servers,
            # so nothing the applicant wrote leaves Majlis.
            description="",
            sequence=appointment.sequence,
            cancelled=False,
        )
        for audience in sessions
        if audience.session.state.value == "planned"
        for slot in audience.slots
        for appointment, case in slot.appointments
    ]
    body = build_feed(name=name, events=events, now=request.app[CLOCK].now())
    return web.Response(
        body=body, content_type="text/calendar", charset="utf-8", headers={"Cache-Control": "private, max-age=300"}
    )


@routes.get("/feeds/official.ics")
async def official(request: web.Request) -> web.Response:
    return await _feed(request, scope="official", name="مقابلات المسؤول", room_id=None)


@routes.get("/feeds/rooms/{room_id:\\d+}.ics")
async def room(request: web.Request) -> web.Response:
    room_id = int(request.match_info["room_id"])
    return await _feed(request, scope=f"room:{room_id}", name=f"غرفة {room_id}", room_id=room_id)
