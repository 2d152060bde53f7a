"""The signalling protocol's words: limits, close codes, refusals with their texts, and the shape checks.

Every inbound message is a JSON object with a `type` and the sender's `token`; its fields are checked here or by
the call state machine (video.call_machine) before anything else is done with it. A refusal goes back to the
sender alone, in Arabic and English together.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Protocol, TypedDict

from majlis.errors import N_
from majlis.i18n import shipped_catalogs

MAX_FRAME_BYTES = 64 * 1024
MAX_SDP_CHARS = 60_000
TIMEOUT_SECONDS = 5.0
CLOSE_TOO_BIG = 1009
CLOSE_UNSUPPORTED = 1003
CLOSE_GOING_AWAY = 1001
CLOSE_REPLACED = 4001
# A side that stopped reading: closed after this long, so it holds nobody else up.
CLOSE_TOO_SLOW = 4008
CLOSE_NO_JOIN = 4003
JOIN_DEADLINE = 10.0
SEND_TIMEOUT = 2.0
# The bridge's answer to an offer (aiortc gathers its candidates first): under the 5 s heartbeat timeout.
ANSWER_TIMEOUT = 4.0
ROOM_STATES = ("ready", "present", "offline")

# What a page may send; each but `join` is a step of the call state machine (video.call_machine).
INBOUND_TYPES = frozenset({"join", "offer", "answer", "ice", "heartbeat", "state", "call", "end", "mute", "record"})


# --- what the hub sends: one shape per message type, checked by mypy at every send -------------------------


class Joined(TypedDict):
    type: Literal["joined"]
    role: str
    peer_present: bool
    path: str
    recording: bool


class PeerJoined(TypedDict):
    type: Literal["peer_joined"]
    role: str


class PeerLeft(TypedDict):
    type: Literal["peer_left"]
    role: str


class Description(TypedDict):
    """An offer or answer, relayed to the other side or answered by the bridge; `id` echoes the offer's number."""

    type: Literal["offer", "answer"]
    sdp: str
    id: NotRequired[int]


class Candidate(TypedDict):
    type: Literal["ice"]
    candidate: dict[str, Any] | None


class HeartbeatAck(TypedDict):
    type: Literal["heartbeat_ack"]


class Called(TypedDict):
    """To the room: the official called; `path` is "direct" or "bridge"."""

    type: Literal["call"]
    path: str


class PathChosen(TypedDict):
    """To the official, answering the call: the path chosen."""

    type: Literal["path"]
    path: str


class Reconnect(TypedDict):
    type: Literal["reconnect"]
    path: str


class Ended(TypedDict):
    type: Literal["ended"]
    by: str


class Muted(TypedDict):
    type: Literal["mute"]
    muted: bool


class Recording(TypedDict):
    type: Literal["recording"]
    on: bool


class Problem(TypedDict):
    code: str
    message_ar: str
    message_en: str


# "from" is a keyword: the functional form.
Quality = TypedDict("Quality", {"type": Literal["quality"], "from": str, "problems": list[Problem]})


class ErrorMessage(TypedDict):
    type: Literal["error"]
    code: str
    message_ar: str
    message_en: str


class RoomsView(TypedDict):
    """To consoles: each room's current state (video.console_view)."""

    type: Literal["rooms"]
    rooms: list[dict[str, Any]]


class QueueView(TypedDict):
    """To consoles: the day's video audiences with their live state (video.console_view)."""

    type: Literal["queue"]
    audiences: list[dict[str, Any]]


Outbound = (
    Joined
    | PeerJoined
    | PeerLeft
    | Description
    | Candidate
    | HeartbeatAck
    | Called
    | PathChosen
    | Reconnect
    | Ended
    | Muted
    | Recording
    | Quality
    | ErrorMessage
)
ConsoleMessage = RoomsView | QueueView

# English message ids; the Arabic is in the catalogs. A refusal is sent in Arabic and English together.
ERRORS: dict[str, str] = {
    "too_large": N_("The message is larger than 64 KiB."),
    "bad_json": N_("The message is not valid JSON."),
    "bad_message": N_("The message must be a JSON object."),
    "unknown_type": N_("Unknown message type."),
    "token_missing": N_("The message carries no token."),
    "token_invalid": N_("The token is not valid."),
    "token_expired": N_("The token has expired."),
    "wrong_audience": N_("This token is for another audience or side."),
    "no_audience": N_("There is no such video audience."),
    "audience_ended": N_("This audience has ended."),
    "not_joined": N_("Join the audience first."),
    "not_allowed": N_("This side may not do that."),
    "bad_field": N_("Missing or invalid field: {field}"),
    "bad_sdp": N_("The session description (SDP) does not parse."),
    "peer_absent": N_("The other side is not connected."),
    "replaced": N_("This side joined again from another window."),
    "server_error": N_("That could not be saved; try again."),
    "bridge_full": N_(
        "The server is carrying as many bridged calls as it may, and this room connects only through it."
        " Try again when another call has ended."
    ),
    "recording_not_allowed": N_("Recording is not allowed on this system."),
    "no_consent": N_("The room has not recorded the applicant's consent to recording."),
    "not_in_call": N_("The call has not started."),
    "recording_no_room": N_(
        "The server has no room for another bridged call, and recording goes only through the bridge."
        " Try again when another call has ended."
    ),
}


class Link(Protocol):
    """One open connection: a WebSocket, or a test's stand-in."""

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Refusal(Exception):
    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def error_message(code: str, **params: str) -> ErrorMessage:
    """The refusal `code` as sent, in Arabic and English ({placeholders} filled from params)."""
    catalogs = shipped_catalogs()
    return {
        "type": "error",
        "code": code,
        "message_ar": catalogs.gettext("ar", ERRORS[code], **params),
        "message_en": catalogs.gettext("en", ERRORS[code], **params),
    }


def sdp_parses(sdp: object) -> bool:
    if not isinstance(sdp, str) or len(sdp) > MAX_SDP_CHARS:
        return False
    lines = sdp.replace("\r\n", "\n").split("\n")
    return lines[0] == "v=0" and any(line.startswith("m=") for line in lines)


def ice_shape(candidate: object) -> bool:
    if candidate is None:
        return True
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        return False
    mid, index = candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
    index_ok = index is None or (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 64)
    return (mid is None or isinstance(mid, str)) and index_ok and len(candidate["candidate"]) <= 1024
