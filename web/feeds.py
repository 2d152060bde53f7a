"""Calendar feeds of the official's audiences and of each room, behind unguessable token URLs.

Calendar programs poll a subscription every few minutes to hours, so the
feeds answer conditional requests: the ETag is a hash of the body (the body is
the same bytes until something in it changes, DTSTAMPs included), and
Last-Modified is the latest revision shown or the start of the Riyadh day,
whichever is later, since the feed's window moves on at midnight. A room's
new name changes the body but no revision: a client asking by ETag sees it at
once, one asking only by date at the next change or the next day.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta

from aiohttp import web

from majlis.clock import RIYADH, riyadh
from majlis.errors import N_
from notify.invitation import audience_uid
from rooms import service as rooms
from scheduler import feeds
from scheduler.feeds import FeedEvent, build_feed, feed_token, token_valid
from web.keys import CATALOGS, CLOCK, DB, SETTINGS

routes = web.RouteTableDef()
# How far feeds reach: the weeks ahead that sessions are planned for, and a little past.
PAST = timedelta(weeks=4)
AHEAD = timedelta(weeks=13)
CACHE_CONTROL = "private, max-age=300"


def _secret(request: web.Request) -> str:
    return request.app[SETTINGS].secret_key.get_secret_value()


def official_feed_url(request: web.Request) -> str:
    base = request.app[SETTINGS].public_url.rstrip("/")
    return f"{base}/feeds/official.ics?token={feed_token(_secret(request), 'official')}"


def room_feed_url(request: web.Request, room_id: int) -> str:
    base = request.app[SETTINGS].public_url.rstrip("/")
    return f"{base}/feeds/rooms/{room_id}.ics?token={feed_token(_secret(request), f'room:{room_id}')}"


def branch_feed_url(request: web.Request, code: str) -> str:
    """The outgoing calendar of a branch official: the audiences in the centre's rooms."""
    base = request.app[SETTINGS].public_url.rstrip("/")
    return f"{base}/feeds/branches/{code}.ics?token={feed_token(_secret(request), f'branch:{code}')}"


def _text(request: web.Request, message: str, **params: str) -> str:
    """A text of the feed in the office's language: calendar programs send no language of their own."""
    return request.app[CATALOGS].gettext(request.app[SETTINGS].default_language, message, **params)


async def _feed(
    request: web.Request, *, name: str, room_id: int | None, room_ids: list[int] | None = None
) -> web.Response:
    settings = request.app[SETTINGS]
    today = riyadh(request.app[CLOCK].now()).date()
    day_began = datetime.combine(today, time(), RIYADH)
    shown = await feeds.audiences(
        session=request[DB], start=day_began - PAST, end=day_began + AHEAD, room_id=room_id, room_ids=room_ids
    )
    events = [
        FeedEvent(
            uid=audience_uid(audience.tracking_number, settings.mail_from),
            starts_at=audience.starts_at,
            ends_at=audience.ends_at,
            summary=_text(
                request, N_("Audience — request {tracking_number}"), tracking_number=audience.tracking_number
            ),
            location=audience.place,
            # Only the tracking number: calendars live on other companies' servers,
            # so nothing the applicant wrote leaves Majlis.
            description="",
            sequence=audience.sequence,
            cancelled=audience.cancelled,
            stamp=audience.stamp,
        )
        for audience in shown
    ]
    body = build_feed(name=name, events=events)
    # HTTP dates have whole seconds; rounding down keeps Last-Modified no later than the response's Date.
    last_modified = max([day_began, *(a.stamp for a in shown)]).replace(microsecond=0)
    etag = hashlib.sha256(body).hexdigest()[:32]
    if _unchanged(request, etag, last_modified):
        response = web.Response(status=304)
    else:
        response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
    response.etag = etag
    response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _unchanged(request: web.Request, etag: str, last_modified: datetime) -> bool:
    """Whether the client's copy is current (RFC 9110 §13.2.2: If-None-Match, when sent, decides alone)."""
    asked = request.if_none_match
    if asked is not None:
        # Weak comparison, as If-None-Match asks for.
        return any(tag.value in (etag, "*") for tag in asked)
    since = request.if_modified_since
    return since is not None and last_modified <= since


@routes.get("/feeds/official.ics")
async def official(request: web.Request) -> web.Response:
    if not token_valid(_secret(request), "official", request.query.get("token", "")):
        raise web.HTTPNotFound()  # no hint that the feed exists
    return await _feed(request, name=_text(request, N_("The official's audiences")), room_id=None)


@routes.get("/feeds/rooms/{room_id:\\d+}.ics")
async def room(request: web.Request) -> web.Response:
    room_id = int(request.match_info["room_id"])
    if not token_valid(_secret(request), f"room:{room_id}", request.query.get("token", "")):
        raise web.HTTPNotFound()
    found = await rooms.get_room(session=request[DB], room_id=room_id)
    if found is None:
        raise web.HTTPNotFound()
    return await _feed(request, name=_text(request, N_("Audiences in {room}"), room=found.name), room_id=room_id)


@routes.get("/feeds/branches/{code:[a-z0-9-]{1,16}}.ics")
async def branch(request: web.Request) -> web.Response:
    """A branch official's audiences: those in the centre's rooms, whichever room each is in."""
    code = request.match_info["code"]
    if not token_valid(_secret(request), f"branch:{code}", request.query.get("token", "")):
        raise web.HTTPNotFound()
    site = await rooms.get_branch(session=request[DB], code=code)
    if site is None:
        raise web.HTTPNotFound()
    room_ids = [r.id for r in await rooms.rooms(session=request[DB]) if r.branch_code == code]
    name = _text(request, N_("Audiences at {centre}"), centre=site.name_in(request.app[SETTINGS].default_language))
    return await _feed(request, name=name, room_id=None, room_ids=room_ids)
