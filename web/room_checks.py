"""The pre-call check of a video room over HTTP, and protocol's view of rooms with recurring problems.

The room console (web/static/room_check.js) posts its offer as JSON with the
X-CSRF-Token header, gets the server's answer, then polls the check until it is
done. A check is addressed by the id the post gave while it runs, and by its
stored record's id (digits) once stored; both resolve here, from the database
(video.room_check_runs), so a poll may land on any process. Errors are JSON,
in Arabic and English, naming what is wrong. The Arabic asks the reader in the
feminine (the women's section) and, in a men's room, in the masculine (the
catalogs' context "men's room").
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_
from rooms import service as rooms
from rooms.models import Room, RoomKind
from video import room_check_records as records
from video import service as video
from video.analysis import PROBLEMS, problem_text
from video.models import RoomCheck, RoomCheckRunState
from video.room_check import CheckRefused
from video.room_check_runs import RunView, find_run, longest_check
from web.auth import requires, signed_in_user
from web.errors import bilingual
from web.i18n import LANGUAGES, NP_, Catalogs
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, ROOM_CHECKS
from web.pages import render
from web.video_pages import ROOM_ROLES, _room_for

routes = web.RouteTableDef()

RECURRING_DAYS = 14
_CHECK_ID = "{check_id:[A-Za-z0-9]+}"
# A stored check's number fits the database's integer column.
_MAX_RECORD_DIGITS = 9
# Errors of the request itself (the check's own refusals are video.room_check.REFUSALS).
_INPUT_ERRORS: dict[str, str] = {
    "bad_json": N_('The request body must be JSON of this form: {"sdp": "…"}.'),
    "bad_field": N_('The field "sdp" is missing or is not text.'),
    "no_check": N_("There is no check with this number for this room."),
    "no_snapshot": N_("This check has no picture."),
    "check_failed": N_("The check could not be completed on the server. Try again."),
}
_REFUSAL_STATUS = {"busy": 503, "room_busy": 409, "closed": 503, "bad_sdp": 422, "no_video": 422}
# Those above that ask the reader to act, as asked of the men of a men's room.
_INPUT_ERRORS_TO_MEN: dict[str, tuple[str, str]] = {
    "check_failed": NP_("men's room", "The check could not be completed on the server. Try again."),
}


def setup(app: web.Application) -> None:
    """The check routes (the check peers are wired in the app factory: majlis.app.room_checks_ctx)."""
    app.router.add_routes(routes)


def _run_by_men(room: Room | None) -> bool:
    return room is not None and room.kind is RoomKind.MEN_VIDEO


def _error(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    to_men: tuple[str, str] | None = None,
    room: Room | None = None,
) -> web.Response:
    """The error `code` as JSON: `message` (an English message id) in the reader's language and in every language.

    `to_men` is the message with its context as said to the men of a men's room, when it is said otherwise there.
    """
    catalogs = request.app[CATALOGS]
    if to_men is not None and _run_by_men(room):
        messages = {language: catalogs.pgettext(language, *to_men) for language in LANGUAGES}
    else:
        messages = bilingual(catalogs, message)
    body = {"error": code, "message": messages.get(request[LANGUAGE], messages["en"]), "messages": messages}
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


def _input_error(request: web.Request, status: int, code: str, room: Room | None = None) -> web.Response:
    return _error(request, status, code, _INPUT_ERRORS[code], _INPUT_ERRORS_TO_MEN.get(code), room)


def problems(catalogs: Catalogs, codes: list[str], room: Room | None = None) -> list[dict[str, str]]:
    """Each problem's code with its Arabic and English text, in the order found (as said to the room's staff)."""
    to_men = _run_by_men(room)
    found = []
    for code in codes:
        if code in PROBLEMS:
            arabic = problem_text(catalogs, "ar", code, to_men=to_men)
            english = problem_text(catalogs, "en", code, to_men=to_men)
        else:  # a code stored by an older version
            arabic = english = code
        found.append({"code": code, "message_ar": arabic, "message_en": english})
    return found


def _snapshot_url(room_id: int, record_id: int) -> str:
    return f"/rooms/{room_id}/checks/{record_id}/snapshot.jpg"


def _record_json(
    catalogs: Catalogs, record: RoomCheck | records.CheckSummary, has_snapshot: bool, room: Room
) -> dict[str, Any]:
    return {
        "check_id": str(record.id),
        "record_id": record.id,
        "state": "done",
        "at": record.at.isoformat(),
        "passed": record.passed,
        "problems": problems(catalogs, list(record.reasons), room),
        "measures": record.measures,
        "snapshot_url": _snapshot_url(record.room_id, record.id) if has_snapshot else None,
    }


@routes.post("/rooms/{room_id:\\d+}/check")
@requires(*ROOM_ROLES)
async def start_check(request: web.Request) -> web.Response:
    """Answers the room's offer (camera and microphone, sendonly) and starts judging them: {check_id, sdp}."""
    room = await _room_for(request)
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _input_error(request, 400, "bad_json")
    if not isinstance(body, dict):
        return _input_error(request, 400, "bad_json")
    sdp = body.get("sdp")
    if not isinstance(sdp, str) or not sdp:
        return _input_error(request, 422, "bad_field")
    by_id = signed_in_user(request).id
    # Nothing of this request's transaction is needed while the peer answers; the result is stored on its own.
    await request[DB].commit()
    try:
        started = await request.app[ROOM_CHECKS].start(room_id=room.id, offer_sdp=sdp, by_id=by_id)
    except CheckRefused as exc:
        status = _REFUSAL_STATUS.get(exc.code, 422)
        return _error(request, status, exc.code, exc.message, exc.message_to_men, room)
    answer = {"check_id": started.id, "sdp": started.answer_sdp, "seconds": request.app[ROOM_CHECKS].seconds}
    return web.json_response(answer, headers={"Cache-Control": "no-store"})


async def _find(request: web.Request, room: Room) -> RunView | RoomCheck | None:
    """The check of the address: its run's state (from whichever process runs it), or its stored record."""
    check_id = request.match_info["check_id"]
    if check_id.isdigit():
        if len(check_id) > _MAX_RECORD_DIGITS:
            return None
        record = await records.get_check(session=request[DB], check_id=int(check_id))
        return record if record is not None and record.room_id == room.id else None
    checks = request.app[ROOM_CHECKS]
    longest = longest_check(connect_timeout=checks.connect_timeout, seconds=checks.seconds)
    run = await find_run(session=request[DB], clock=request.app[CLOCK], check_id=check_id, longest=longest)
    if run is None or run.room_id != room.id:
        return None
    if run.state is RoomCheckRunState.DONE and run.record_id is not None:
        return await records.get_check(session=request[DB], check_id=run.record_id)
    return run


@routes.get(f"/rooms/{{room_id:\\d+}}/checks/{_CHECK_ID}")
@requires(*ROOM_ROLES)
async def check_result(request: web.Request) -> web.Response:
    """{state: "running"} while the check runs; then the verdict with each problem in Arabic and English."""
    room = await _room_for(request)
    found = await _find(request, room)
    if found is None:
        return _input_error(request, 404, "no_check")
    if isinstance(found, RoomCheck):
        body = _record_json(request.app[CATALOGS], found, found.snapshot is not None, room)
        return web.json_response(body, headers={"Cache-Control": "no-store"})
    if found.state is RoomCheckRunState.RUNNING:
        return web.json_response({"check_id": found.id, "state": "running"}, headers={"Cache-Control": "no-store"})
    return _input_error(request, 500, "check_failed", room)


@routes.get(f"/rooms/{{room_id:\\d+}}/checks/{_CHECK_ID}/snapshot.jpg")
@requires(*ROOM_ROLES)
async def check_snapshot(request: web.Request) -> web.Response:
    """The picture the check judged (JPEG); never kept by browsers or proxies."""
    room = await _room_for(request)
    found = await _find(request, room)
    if not isinstance(found, RoomCheck) or found.snapshot is None:
        return _input_error(request, 404, "no_snapshot")
    return web.Response(body=found.snapshot, content_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@routes.get("/rooms/{room_id:\\d+}/checks")
@requires(*ROOM_ROLES)
async def checks_today(request: web.Request) -> web.Response:
    """The room's checks today, newest first."""
    room = await _room_for(request)
    day = video.today(request.app[CLOCK]).date()
    found = await records.latest_checks(session=request[DB], room_id=room.id, day=day)
    catalogs = request.app[CATALOGS]
    body = {"day": day.isoformat(), "checks": [_record_json(catalogs, c, c.has_snapshot, room) for c in found]}
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.get("/protocol/room-checks")
@requires(Role.PROTOCOL)
async def recurring(request: web.Request) -> web.Response:
    """Rooms whose pre-call checks found problems over the last 14 days: failing days and the usual problems."""
    session = request[DB]
    found = await records.recurring_problems(session=session, clock=request.app[CLOCK], days=RECURRING_DAYS)
    names = await rooms.rooms_by_id(session=session, ids={r.room_id for r in found})
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    context = {
        "rooms": found,
        "names": {room_id: room.name for room_id, room in names.items()},
        "problem_text": {code: catalogs.gettext(language, text) for code, text in PROBLEMS.items()},
        "days": RECURRING_DAYS,
    }
    return render(request, "protocol/room_checks.html", context)
