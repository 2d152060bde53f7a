"""The call state machine's bridge steps: when a call goes through the server's bridge, and recording there."""

from __future__ import annotations

import logging
from typing import Any

from majlis.i18n import shipped_catalogs
from video import service
from video.analysis import PROBLEMS, problem_text
from video.bridge import BridgedCall, BridgeRefused, Side
from video.call_state import Call, Client, HubCore
from video.models import VideoEventKind
from video.signalling_messages import Refusal, error_message
from video.worker_bridge import WorkerBridge, WorkerCall

log = logging.getLogger(__name__)


class CallBridge(HubCore):
    """The steps that open, close and use a call's bridged media."""

    async def _tell_reconnect(self, call: Call) -> None:
        if call.path == "bridge" and self.bridge is not None and self.bridge.get(call.audience_id) is None:
            # Its bridged call was closed while both sides were away: opened again, or direct if the bridge is full
            # (a room that must be bridged is told why instead; the sweep tries again).
            try:
                await self._open_bridge(call)
            except Refusal:
                if self._bridge_wanted(call) == "room":
                    call.last_reconnect_at = self._now()
                    for side in call.sides.values():
                        if side.client is not None:
                            await self._send(side.client, error_message("bridge_full"))
                    return
                call.path = "direct"
        now = self._now()
        call.last_reconnect_at = now
        for side in call.sides.values():
            side.media, side.media_false_since, side.last_heartbeat = False, now, now
        for side in call.sides.values():
            if side.client is not None:
                await self._send(side.client, {"type": "reconnect", "path": call.path})

    # --- the bridge -------------------------------------------------------------------

    def _bridged(self, call: Call) -> BridgedCall | WorkerCall | None:
        """The audience's bridged call when its media go through the server, else None."""
        if call.path != "bridge" or self.bridge is None:
            return None
        return self.bridge.get(call.audience_id)

    def _bridge_wanted(self, call: Call) -> str | None:
        """Why this call should start on the bridge ("room", "settings", "recording"), or None for direct."""
        if self.bridge is None or (self.policy.mode == "never" and call.room_id not in self.policy.bridged_rooms):
            return None
        if call.room_id in self.policy.bridged_rooms:
            return "room"
        if self.policy.mode == "always":
            return "settings"
        if self.policy.recording_allowed and call.consent:
            return "recording"  # the server must see the media to record them
        return None

    async def _open_bridge(self, call: Call) -> None:
        assert self.bridge is not None
        try:
            if isinstance(self.bridge, WorkerBridge):
                await self.bridge.open(call.audience_id)  # a place taken in the database, the worker asked
            else:
                self.bridge.open(call.audience_id)
        except BridgeRefused as refused:
            raise Refusal(refused.code) from None

    async def bridge_lost(self, audience_id: int) -> None:
        """The worker carrying this call stopped: both sides rebuild, on another worker (or direct if none)."""
        call = self.calls.get(audience_id)
        if call is not None and call.in_call and not call.ended and call.path == "bridge":
            await self._tell_reconnect(call)
            self._dirty.set()

    async def _fall_back_to_bridge(self, call: Call, now: float) -> bool:
        """A direct call that has not connected within the time limit moves to the bridge, if there is room."""
        if (
            self.bridge is None
            or self.policy.mode != "fallback"
            or call.path != "direct"
            or call.connected_once
            or call.called_at is None
            or now - call.called_at < self.policy.direct_timeout
            or any(s.client is None for s in call.sides.values())
            or not self.bridge.has_room()
        ):
            return False
        await self._open_bridge(call)
        call.path = "bridge"
        await self._record_quietly(call, VideoEventKind.BRIDGED, "direct_failed")
        await self._tell_reconnect(call)
        self._dirty.set()
        return True

    async def _close_bridge(self, call: Call) -> None:
        if self.bridge is not None and self.bridge.get(call.audience_id) is not None:
            if call.recording:
                call.recording = False
                await self._record_quietly(call, VideoEventKind.RECORDING, "stopped")
            await self.bridge.close_call(call.audience_id)

    async def quality_changed(self, audience_id: int, side: Side, problems: list[str]) -> None:
        """The bridge's monitor saw the picture `side` sends go bad (or recover): the official is warned.

        The official is a man: the warnings ask him in the masculine (the men's-room texts). The live monitor's
        problems (no picture, black, frozen, too dark, jerky) name only the reader, never the person in the room,
        so they hold for a call with a women's room too.
        """
        call = self.calls.get(audience_id)
        if call is None or call.ended:
            return
        official = call.sides["official"].client
        if official is not None:
            catalogs = shipped_catalogs()
            await self._send(
                official,
                {
                    "type": "quality",
                    "from": side,
                    "problems": [
                        {
                            "code": code,
                            "message_ar": problem_text(catalogs, "ar", code, to_men=True),
                            "message_en": problem_text(catalogs, "en", code, to_men=True),
                        }
                        for code in problems
                        if code in PROBLEMS
                    ],
                },
            )
        await self._record_quietly(call, VideoEventKind.QUALITY, f"{side}:{','.join(problems) or 'ok'}")

    def consented(self, audience_id: int) -> None:
        """The room recorded the applicant's consent to recording (outside the hub, through the console)."""
        call = self.calls.get(audience_id)
        if call is not None:
            call.consent = True
        self._dirty.set()

    async def _record_media(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if role != "official":
            raise Refusal("not_allowed")
        on = message.get("on")
        if not isinstance(on, bool):
            raise Refusal("bad_field", field="on")
        if not on:
            bridged = self._bridged(call)
            if bridged is not None and call.recording:
                await bridged.stop_recording()
                call.recording = False
                await self._record_quietly(call, VideoEventKind.RECORDING, "stopped")
            await self._tell_recording(call)
            return
        if not self.policy.recording_allowed or self.bridge is None:
            raise Refusal("recording_not_allowed")
        if not call.consent:
            raise Refusal("no_consent")
        if not call.in_call:
            raise Refusal("not_in_call")
        if call.recording:
            await self._tell_recording(call)
            return
        assert self.bridge is not None
        # A recording takes a place of its own under the cap (its recorder encodes the picture once more),
        # and a direct call must first take one for the bridge.
        if not self.bridge.has_room(places=1 if self._bridged(call) is not None else 2):
            raise Refusal("recording_no_room")
        if self._bridged(call) is None:
            # A direct call is moved onto the bridge: only there does the server see what it records.
            await self._open_bridge(call)
            call.path = "bridge"
            await self._record_quietly(call, VideoEventKind.BRIDGED, "recording")
            await self._tell_reconnect(call)
        bridged = self._bridged(call)
        if bridged is None or call.ended:
            raise Refusal("not_in_call")  # the call ended while it was being moved
        name = f"audience-{call.audience_id}-{self._clock.now().strftime('%Y%m%dT%H%M%SZ')}.mkv"
        await bridged.start_recording(self.policy.recordings_dir / name)
        call.recording = True
        try:
            async with call.writes:
                await self._write(service.mark_recording, audience_id=call.audience_id, path=name, detail="started")
        except Refusal:
            # Not on the record, so not at all: the consoles must not show "not recording" while it records.
            await bridged.stop_recording()
            call.recording = False
            raise
        await self._tell_recording(call)

    async def _tell_recording(self, call: Call) -> None:
        # The room shows it too: the applicant sees when she is being recorded.
        for side in call.sides.values():
            if side.client is not None:
                await self._send(side.client, {"type": "recording", "on": call.recording})
