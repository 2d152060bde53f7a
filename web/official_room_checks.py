"""What the official's console says of a room whose pre-call check failed today: which checks, in his language.

The room's staff read each problem as an instruction (video.analysis.PROBLEMS: "check that the camera is
connected…", said to them in the feminine or, in a men's room, the masculine). The official needs only to know,
before he calls, that the room's camera or microphone was found wanting and in what, so he reads each failed check
by a short name. A room counts as failing while its last check of the day failed, as the record of recurring
problems counts a day (video.room_check_records): staff check again after fixing what was found.

The console shows the notes when it is rendered and asks GET /official/room-checks?room=… (the rooms of its
audiences) again whenever a room's state changes (a room marks itself ready after its check) and every half minute
(web/static/consoles.js; answered by web/video_pages.py): a few rows read, not the day's audiences again.
"""

from __future__ import annotations

from aiohttp import web

from majlis.errors import N_
from video import room_check_records as records
from video import service as video
from web.i18n import Catalogs
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE

# Each check of video.analysis.PROBLEMS by its name, as the official reads it.
CHECK_NAMES: dict[str, str] = {
    "no_video": N_("No picture from the camera"),
    "no_audio": N_("No sound from the microphone"),
    "black": N_("The picture is black"),
    "mic_silent": N_("The microphone is silent"),
    "frozen": N_("The picture is frozen"),
    "too_dark": N_("The picture is too dark"),
    "overexposed": N_("The picture is too bright"),
    "no_face": N_("No face in the picture"),
    "mic_too_quiet": N_("The microphone is too quiet"),
    "face_off_centre": N_("The face is not in the middle of the picture"),
    "out_of_focus": N_("The picture is blurred"),
    "mic_clipping": N_("The sound distorts"),
    "low_resolution": N_("The picture's resolution is too low"),
    "low_frame_rate": N_("The picture is jerky"),
}
# The rooms one console asks about: a day's video rooms are a handful.
MAX_ROOMS = 50
# A code stored by an older version of the analysis.
OTHER_PROBLEM = N_("Another problem with the camera or microphone")


def check_names(catalogs: Catalogs, language: str, codes: list[str]) -> list[str]:
    """The failed checks' names in the language, in the order found, each once."""
    names = [catalogs.gettext(language, CHECK_NAMES.get(code, OTHER_PROBLEM)) for code in codes]
    return list(dict.fromkeys(names))


async def failed_today(request: web.Request, room_ids: set[int]) -> dict[int, list[str]]:
    """The rooms among `room_ids` whose last pre-call check today failed, with the failed checks' names."""
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    day = video.today(request.app[CLOCK]).date()
    failed = {}
    for room_id in sorted(room_ids):  # a handful of rooms a day
        checks = await records.latest_checks(session=session, room_id=room_id, day=day)
        if checks and not checks[0].passed:
            # A failed check names at least one problem; should it not, the note still says the check failed.
            failed[room_id] = check_names(catalogs, language, checks[0].reasons)
    return failed
