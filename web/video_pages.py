"""The video audience pages: the official's console, the console of a video room (women's or men's) and its screen.

The pages give the browser what it needs in data-* attributes (the Content
Security Policy allows no inline script): the signalling tokens of the signed-in
user's side, the ICE servers and the translated texts. The call itself runs in
web/static/video.js; live room states come over /ws/consoles (web/static/consoles.js).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from audience_day import arrival
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from majlis.i18n import NUMBER_LOCALES, in_language
from rooms import service as rooms
from rooms.models import Room, RoomKind
from scheduler.lifecycle import AppointmentRefused
from video import service as video
from video.models import VideoAudience, VideoOutcome, VideoState
from video.tokens import Side, VideoTokens
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.department_choices import department_choices, joined_codes
from web.errors import domain_message, invalid_input
from web.i18n import NP_, Catalogs
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS, VIDEO_HUB, VIDEO_TOKENS
from web.middleware import error_response
from web.notices import done, notice
from web.official_room_checks import MAX_ROOMS, failed_today
from web.pages import render
from web.public import status_url

routes = web.RouteTableDef()

# The four the official chooses from, as on the in-person console.
OUTCOMES = {VideoOutcome(value): text for value, text in labels.OUTCOMES.items()}
# And every value a recorded audience may hold, for showing it.
OUTCOME_NAMES = {**OUTCOMES, VideoOutcome.FOLLOW_UP: N_("Needs follow-up")}
OUTCOME_RECORDED = notice(N_("The outcome of the audience was recorded."))
CHECKED_IN = notice(N_("The applicant was checked in."))
CONSENT_RECORDED = notice(N_("The applicant's consent to the recording was recorded."))
ROOM_STATES = {
    "offline": N_("Offline"),
    "ready": N_("Ready"),
    "present": N_("Applicant present"),
    "in_call": N_("In call"),
    "reconnecting": N_("Reconnecting"),
}
VIDEO_STATES = {
    VideoState.WAITING: N_("Waiting"),
    VideoState.IN_CALL: N_("In call"),
    VideoState.ENDED: N_("Ended"),
}
DIRECTIVE_LIMIT = 4000
# The roles that run video rooms (the women's section its rooms, protocol the men's); video.may_hold_room decides
# which member may hold which room today.
ROOM_ROLES = tuple(dict.fromkeys(role for role, _gender in rooms.VIDEO_ROOM_STAFF.values()))
# What the room's pages say about the applicant and to the staff. Arabic says it in the feminine in a women's-section
# room (the plain message) and in the masculine in a men's room (the same English, in the context "men's room").
ROOM_WORDS: dict[str, tuple[str, tuple[str, str]]] = {
    "present": (N_("Applicant present"), NP_("men's room", "Applicant present")),
    "open_screen": (
        N_("Open the screen facing the applicant"),
        NP_("men's room", "Open the screen facing the applicant"),
    ),
    "check_in": (N_("Check the applicant in"), NP_("men's room", "Check the applicant in")),
    "checked_in": (N_("The applicant is checked in."), NP_("men's room", "The applicant is checked in.")),
    "consents": (
        N_("The applicant consents to recording"),
        NP_("men's room", "The applicant consents to recording"),
    ),
    "consented": (
        N_("The applicant consented to recording."),
        NP_("men's room", "The applicant consented to recording."),
    ),
    "check_start": (N_("Check camera and microphone"), NP_("men's room", "Check camera and microphone")),
    "check_running": (
        N_("Checking… sit facing the camera and speak for a few seconds."),
        NP_("men's room", "Checking… sit facing the camera and speak for a few seconds."),
    ),
    "stay_seated": (
        N_("Please stay seated; the official will appear on this screen."),
        NP_("men's room", "Please stay seated; the official will appear on this screen."),
    ),
}


def room_words(catalogs: Catalogs, language: str, kind: RoomKind) -> dict[str, str]:
    """ROOM_WORDS as said in a room of this kind."""
    if kind is RoomKind.MEN_VIDEO:
        return {key: catalogs.pgettext(language, *men) for key, (_women, men) in ROOM_WORDS.items()}
    return {key: catalogs.gettext(language, women) for key, (women, _men) in ROOM_WORDS.items()}


def _tokens(request: web.Request) -> VideoTokens:
    return request.app[VIDEO_TOKENS]


def _ice_servers(request: web.Request) -> str:
    return json.dumps(list(request.app[SETTINGS].ice_servers))


async def _tell_consoles(request: web.Request) -> None:
    """Commits now, so the consoles' update (read in another transaction) sees the change, then pushes it."""
    await request[DB].commit()
    if VIDEO_HUB in request.app:
        request.app[VIDEO_HUB].changed()


# The button that starts recording: "Record" the verb, not the noun the audit log's column uses (msgctxt).
START_RECORDING = NP_("action", "Record")


def _video_texts(request: web.Request, room: Room | None = None) -> dict[str, str]:
    """Texts video.js and consoles.js show, translated, for data-* attributes (as said in the room, if given)."""
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    texts = {
        "connecting": N_("Connecting…"),
        "waiting": N_("Waiting for the other side"),
        "peer-present": N_("The other side is connected"),
        "in-call": N_("In call"),
        "reconnecting": N_("Reconnecting…"),
        "ended": N_("Ended"),
        "mute": N_("Mute my microphone"),
        "unmute": N_("Unmute my microphone"),
        "devices-ok": N_("Camera and microphone work."),
        "devices-failed": N_("The camera or microphone could not be opened."),
        "room-is-ready": N_("The room is ready"),
        "from-room": N_("Room's picture"),
        "from-official": N_("Your picture"),
        "stop-recording": N_("Stop recording"),
        # A device the browser does not name yet (before it may use the devices).
        "camera-number": N_("Camera {number}"),
        "microphone-number": N_("Microphone {number}"),
    }
    found = {f"data-t-{key}": catalogs.gettext(language, message) for key, message in texts.items()}
    found["data-t-start-recording"] = catalogs.pgettext(language, *START_RECORDING)
    for state, message in ROOM_STATES.items():
        found[f"data-state-{state.replace('_', '-')}"] = catalogs.gettext(language, message)
    found["data-state-ended"] = catalogs.gettext(language, N_("Ended"))
    found["data-t-replaced"] = catalogs.gettext(language, N_("Opened in another window"))
    found["data-waiting-label"] = catalogs.gettext(language, N_("Waiting"))
    if room is not None:
        found["data-state-present"] = room_words(catalogs, language, room.kind)["present"]
    return found


async def _actors(request: web.Request, items: list[video.AudienceItem]) -> dict[int, str]:
    ids = {step.actor_id for item in items for step in item.summary.history if step.actor_id is not None}
    return await accounts.names_by_id(session=request[DB], ids=ids)


async def _official_console(
    request: web.Request, errors: dict[int, str] | None = None, values: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    items = await video.audiences_today(session=session, clock=clock)
    # Names and texts: only requests within the reader's need to know, each view logged.
    visible = await personal_data.seen_in_list(request, [item.case.id for item in items])
    items = [item for item in items if item.case.id in visible]
    tokens = _tokens(request)
    # Only the official speaks for his side; an administrator sees the console without the call.
    holds_call = signed_in_user(request).role is Role.OFFICIAL
    context = {
        "items": items,
        "tokens": {
            item.video.id: video.token_for(tokens, item, "official") for item in items if item.video and holds_call
        },
        "actors": await _actors(request, items),
        "labels": labels,
        "outcomes": OUTCOMES,
        "outcome_names": OUTCOME_NAMES,
        "room_states": ROOM_STATES,
        "video_states": VIDEO_STATES,
        "ice_servers": _ice_servers(request),
        "texts": _video_texts(request),
        # "Applicant present" as said of each kind of room (the feminine of the page's texts is the women's room's).
        "present_by_kind": {
            kind: room_words(request.app[CATALOGS], request[LANGUAGE], kind)["present"]
            for kind in rooms.VIDEO_ROOM_STAFF
        },
        "recording_allowed": request.app[SETTINGS].video_recording_allowed,
        "errors": errors or {},
        "values": values or {},
        "in_language": in_language,
        # Rooms whose last pre-call check today failed, so the official knows before he calls.
        "failed_checks": await failed_today(request, {item.room.id for item in items if item.video}),
        "departments": await department_choices(session=session, language=request[LANGUAGE]),
    }
    return render(request, "video/official.html", context, status=status)


@routes.get("/official")
@requires(Role.OFFICIAL)
async def official_console(request: web.Request) -> web.Response:
    """The day's audiences in order, the live state of the rooms, the call and the outcome."""
    return await _official_console(request)


@routes.get("/official/room-checks")
@requires(Role.OFFICIAL)
async def room_checks(request: web.Request) -> web.Response:
    """{"failed": {room id: [failed checks' names]}} for the rooms asked (?room=1&room=2), in the reader's language."""
    asked = request.query.getall("room", [])
    if len(asked) > MAX_ROOMS or not all(value.isdigit() and len(value) <= 9 for value in asked):
        message = N_("{field}: give up to 50 room numbers, each in digits.")
        return invalid_input(request, [FieldError("room", "invalid", message)])
    failed = await failed_today(request, {int(value) for value in asked})
    body = {"failed": {str(room_id): names for room_id, names in failed.items()}}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _audience_id(request: web.Request) -> int:
    return int(request.match_info["audience_id"])


@routes.post("/official/audiences/{audience_id:\\d+}/outcome")
@requires(Role.OFFICIAL)
async def record_outcome(request: web.Request) -> web.Response:
    form = await request.post()
    audience_id = _audience_id(request)
    # One box per department; the domain reads their codes as one string.
    codes = [str(code) for code in form.getall("referred_to", [])]
    values = {
        "outcome": str(form.get("outcome", "")),
        "directive": str(form.get("directive", "")),
        "referred_to": ", ".join(codes),
    }
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    message: str | None = None
    session = request[DB]
    if await video.get_audience(session=session, audience_id=audience_id) is None:
        raise web.HTTPNotFound()
    if signed_in_user(request).role is not Role.OFFICIAL:
        raise web.HTTPForbidden()  # the directive is the official's own
    try:
        outcome = VideoOutcome(values["outcome"])
        if outcome not in OUTCOMES:
            raise ValueError(outcome)
    except ValueError:
        message = catalogs.gettext(language, N_("Choose the outcome."))
    if message is None and len(values["directive"]) > DIRECTIVE_LIMIT:
        message = catalogs.gettext(language, N_("The directive is too long."))
    if message is None:
        try:
            await video.record_outcome(
                session=session,
                clock=request.app[CLOCK],
                audience_id=audience_id,
                outcome=outcome,
                directive=values["directive"],
                referred_to=joined_codes(codes),
                actor_id=signed_in_user(request).id,
                status_url=status_url(request),
            )
        except InvalidInput as exc:
            # An unknown or retired department, or too many: named in the reader's language.
            message = " ".join(errors_by_field(catalogs, language, exc.errors).values())
        except DomainError as exc:
            message = domain_message(catalogs, language, exc)
    if message is not None:
        await session.rollback()
        values["audience_id"] = str(audience_id)
        return await _official_console(request, {audience_id: message}, values, 422)
    await _tell_consoles(request)
    return done(request, f"/official#audience-{audience_id}", OUTCOME_RECORDED)


async def _room_for(request: web.Request) -> Room:
    """The video room of the address, if the signed-in member may run it today (404 / 403 otherwise)."""
    session, clock = request[DB], request.app[CLOCK]
    room = await rooms.get_room(session=session, room_id=int(request.match_info["room_id"]))
    if room is None or room.kind not in rooms.VIDEO_ROOM_STAFF:
        raise web.HTTPNotFound()
    user = signed_in_user(request)
    if not await video.may_hold_room(session=session, clock=clock, staff_id=user.id, role=user.role, room_id=room.id):
        raise web.HTTPForbidden()
    return room


async def _audience_in(request: web.Request, room: Room) -> VideoAudience:
    """The video audience of the address, if it is one of this room's (404 otherwise)."""
    audience = await video.get_audience(session=request[DB], audience_id=_audience_id(request))
    if audience is None or audience.room_id != room.id:
        raise web.HTTPNotFound()
    return audience


def _room_context(request: web.Request, room: Room, items: list[video.AudienceItem]) -> dict[str, Any]:
    tokens = _tokens(request)
    side: Side = "room"
    upcoming = [i for i in items if i.video is not None and i.video.state is not VideoState.ENDED]
    return {
        "room": room,
        "items": items,
        "tokens": {item.video.id: video.token_for(tokens, item, side) for item in items if item.video},
        "next_item": upcoming[0] if upcoming else None,
        "labels": labels,
        "room_states": ROOM_STATES,
        "video_states": VIDEO_STATES,
        "ice_servers": _ice_servers(request),
        "texts": _video_texts(request, room),
        "words": room_words(request.app[CATALOGS], request[LANGUAGE], room.kind),
        "recording_allowed": request.app[SETTINGS].video_recording_allowed,
        # The earlier checks' times are formatted by the browser: in the page's digits (majlis.i18n.DIGITS).
        "number_locale": NUMBER_LOCALES[request[LANGUAGE]],
    }


@routes.get("/rooms/{room_id:\\d+}/console")
@requires(*ROOM_ROLES)
async def room_console(request: web.Request) -> web.Response:
    """Today's appointments of the room, the check-in, the device check, ready, and the emergency end."""
    room = await _room_for(request)
    items = await video.video_audiences_today(session=request[DB], clock=request.app[CLOCK], room_id=room.id)
    visible = await personal_data.seen_in_list(request, [item.case.id for item in items])
    items = [item for item in items if item.case.id in visible]
    return render(request, "video/room_console.html", _room_context(request, room, items))


@routes.get("/rooms/{room_id:\\d+}/screen")
@requires(*ROOM_ROLES)
async def room_screen(request: web.Request) -> web.Response:
    """The display facing the applicant: the expected time, then the official; nothing to touch."""
    room = await _room_for(request)
    items = await video.video_audiences_today(session=request[DB], clock=request.app[CLOCK], room_id=room.id)
    visible = await personal_data.seen_in_list(request, [item.case.id for item in items])
    items = [item for item in items if item.case.id in visible]
    return render(request, "video/room_screen.html", _room_context(request, room, items))


@routes.post("/rooms/{room_id:\\d+}/audiences/{audience_id:\\d+}/check-in")
@requires(*ROOM_ROLES)
async def check_in(request: web.Request) -> web.Response:
    room = await _room_for(request)
    session = request[DB]
    audience = await _audience_in(request, room)
    try:
        await video.check_in(
            session=session,
            clock=request.app[CLOCK],
            audience_id=audience.id,
            actor_id=signed_in_user(request).id,
            arrival_policy=arrival.policy_from(request.app[SETTINGS]),
        )
    except (video.VideoRefused, arrival.ArrivalRefused, AppointmentRefused) as exc:
        await session.rollback()
        return error_response(request, 409, request.app[CATALOGS].gettext(request[LANGUAGE], exc.message, **exc.params))
    await _tell_consoles(request)
    return done(request, f"/rooms/{room.id}/console", CHECKED_IN)


@routes.post("/rooms/{room_id:\\d+}/audiences/{audience_id:\\d+}/consent")
@requires(*ROOM_ROLES)
async def record_consent(request: web.Request) -> web.Response:
    """The applicant consents to the recording of the audience; taken only where recording is allowed."""
    room = await _room_for(request)
    if not request.app[SETTINGS].video_recording_allowed:
        return error_response(request, 409, N_("Recording is not allowed on this system."))
    session = request[DB]
    audience = await _audience_in(request, room)
    try:
        await video.record_consent(
            session=session, clock=request.app[CLOCK], audience_id=audience.id, actor_id=signed_in_user(request).id
        )
    except video.VideoRefused as exc:
        return error_response(request, 409, exc.message)
    await request[DB].commit()
    if VIDEO_HUB in request.app:
        request.app[VIDEO_HUB].consented(audience.id)
    return done(request, f"/rooms/{room.id}/console#audience-{audience.id}", CONSENT_RECORDED)
