"""A video audience through the server's bridge between two real Chromium pages: each page connects to the
server's aiortc peer, both decode the other's picture (Chromium's fake camera, relayed and re-encoded), and the
official records the audience the applicant consented to."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import make_settings, start_client
from tests.e2e.test_audit_desk import sign_in
from tests.e2e.test_video_audience import until_event, until_frames, until_state, until_true
from tests.factories import make_staff
from tests.video.arrange import video_audiences
from video import service as video
from video.bridge import BridgedCall
from video.models import VideoState
from web.keys import SESSIONS, VIDEO_HUB

pytestmark = pytest.mark.browser


async def test_a_bridged_audience_shows_each_side_the_other_and_records_with_consent(
    database_url: str, clock: FrozenClock, browser: Browser, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        video_bridge="always",
        video_recording_allowed=True,
        video_recordings_dir=str(tmp_path),
    )
    client = await start_client(create_app(settings, clock=clock))
    sessions: async_sessionmaker[AsyncSession] = client.app[SESSIONS]
    [audience_id] = await video_audiences(sessions, clock, count=1)
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        room_id = audience.room_id
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    base = str(client.make_url("/")).rstrip("/")
    official_context = await browser.new_context(viewport={"width": 1024, "height": 768})
    room_context = await browser.new_context(viewport={"width": 1024, "height": 768})
    official = await official_context.new_page()
    room = await room_context.new_page()
    hub = client.app[VIDEO_HUB].local_hub
    assert hub is not None and hub.bridge is not None
    bridge = hub.bridge
    try:
        await sign_in(room, base, "women")
        await room.goto(f"{base}/rooms/{room_id}/console")
        row = f"#audience-{audience_id}"
        # The applicant consents to the recording; the room records it before the call.
        await room.click(f"{row} form.consent button")
        await room.wait_for_selector(f"{row} .consent-note")
        await room.click("#device-check")
        await room.wait_for_selector("#room-console[data-device-check='passed']", timeout=10_000)
        await room.click("#room-ready")

        await sign_in(official, base, "official", clock)
        await official.wait_for_selector(f"{row} [data-audience-state][data-state='ready']", timeout=10_000)
        await official.click(f"{row} .call-button")
        await until_true(official, "window.majlisVideo.path() === 'bridge'")
        await until_true(room, "window.majlisVideo.path() === 'bridge'")
        # Frames decoded on both pages came through the server: neither page has a connection to the other.
        await until_frames(official, 30)
        await until_frames(room, 30)
        await until_true(official, "document.querySelector('video.remote-view').videoWidth > 0")
        await until_true(room, "document.querySelector('video.remote-view').videoWidth > 0")
        bridged = bridge.get(audience_id)
        # The serve process's own bridge (not a majlis bridge worker's call) in this test.
        assert isinstance(bridged, BridgedCall) and bridged.connected("room") and bridged.connected("official")
        await until_event(sessions, audience_id, "connected")
        # The fake camera's moving pattern is a good picture: no warning about it on the official's console.
        # (Its frame rate is another matter on a loaded test machine: a stall is rightly reported.)
        codes = await official.eval_on_selector_all("#quality-warning li", "items => items.map(i => i.dataset.code)")
        assert not set(codes) & {"black", "too_dark", "no_video"}, await official.text_content("#quality-warning")

        # The screen facing the applicant, opened from the room console.
        async with room.expect_popup() as popup:
            await room.click("#open-screen")
        screen = await popup.value
        await screen.wait_for_selector("body[data-screen='call']", state="attached", timeout=10_000)

        await official.click("#record-button")
        await official.wait_for_selector("#recording-note:not([hidden])", timeout=10_000)
        await room.wait_for_selector("#recording-note:not([hidden])", timeout=10_000)
        # The applicant sees for herself that she is being recorded.
        await screen.wait_for_selector("#screen-recording:not([hidden])", timeout=10_000)
        await official.wait_for_timeout(2_000)
        await official.click("#record-button")
        await room.wait_for_selector("#recording-note", state="hidden", timeout=10_000)
        await screen.wait_for_selector("#screen-recording", state="hidden", timeout=10_000)

        await official.click(f"{row} .end-button")
        await official.wait_for_selector(f"{row} form.outcome:not([hidden])", timeout=10_000)
        await until_state(room, "ended", "waiting", "peer_present", "connecting")
        assert bridge.get(audience_id) is None  # the bridged call was released with the audience
        # Read before the app closes: its engine is disposed then, and a session opened after would
        # leave a connection nobody closes.
        async with sessions() as session:
            audience = await video.get_audience(session=session, audience_id=audience_id)
            assert audience is not None and audience.state is VideoState.ENDED
            assert audience.recording_path is not None
            kinds = [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]
    finally:
        await official_context.close()
        await room_context.close()
        await client.close()
    assert "bridged" in kinds and kinds.count("recording") == 2
    with av.open(str(tmp_path / audience.recording_path)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "audio", "video"]
        pictures = sum(1 for _ in container.decode(video=0))
    assert pictures >= 30  # about two seconds of the room's picture
