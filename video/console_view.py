"""The consoles' view: the rooms' live states and the day's video queue, from the records and the live calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from video.call_state import Call
from video.models import VideoState
from video.service import AudienceItem
from video.signalling_messages import ROOM_STATES, ConsoleMessage


def console_payloads(items: Sequence[AudienceItem], calls: Mapping[int, Call]) -> list[ConsoleMessage]:
    """The two messages a console shows: `rooms` (each room's current state) and `queue` (the day's audiences)."""
    queue = []
    by_room: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        assert item.video is not None
        call = calls.get(item.video.id)
        state = call.shown_state() if call is not None else item.video.state.value
        if call is None and item.video.state is VideoState.IN_CALL:
            state = "reconnecting"  # in a call before a restart, nobody back yet
        entry = {
            "audience_id": item.video.id,
            "appointment_id": item.appointment.id,
            "room_id": item.room.id,
            "room_name": item.room.name,
            "starts_at": item.slot.starts_at.isoformat(),
            "state": state,
            "record_state": item.video.state.value,
            "checked_in_at": item.video.checked_in_at.isoformat() if item.video.checked_in_at else None,
            "outcome": item.video.outcome.value if item.video.outcome else None,
        }
        queue.append(entry)
        by_room.setdefault(item.room.id, []).append(entry)
    rooms = []
    for room_id, entries in by_room.items():
        live = [e for e in entries if e["state"] in ("in_call", "reconnecting")]
        connected = [e for e in entries if e["state"] in ROOM_STATES and e["state"] != "offline"]
        waiting = [e for e in entries if e["record_state"] != "ended"]
        current = (live or connected or waiting or entries[-1:])[0]
        state = current["state"] if current["state"] != "ended" and current["state"] != "waiting" else "offline"
        rooms.append(
            {
                "room_id": room_id,
                "name": current["room_name"],
                "state": state,
                "applicant_waiting_since": current["checked_in_at"] if state not in ("in_call",) else None,
                "audience_id": current["audience_id"],
            }
        )
    return [{"type": "rooms", "rooms": rooms}, {"type": "queue", "audiences": queue}]
