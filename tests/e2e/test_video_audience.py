"""A video audience in two real Chromium pages: the room checks its devices and is ready, the official calls,
both sides decode the other's video (Chromium's fake camera), the official ends the call and records the outcome.
The same flow from a women's-section room and from a men's room run by the protocol man on its roster.

After End nothing of the call is left running on either side: every track of the streams the pages showed is
"ended" (the camera's light goes off), read from the video elements' srcObject, as nothing more is exposed."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, JSHandle, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.rooms.test_rooms import put_on_roster
from tests.video.arrange import SUNDAY, video_audiences
from video import room_check_records as records
from video import service as video
from video.analysis import Verdict
from video.models import VideoOutcome, VideoState

pytestmark = pytest.mark.browser

WAIT_SECONDS = 20.0
# Who runs each kind of room, and how the official's console says that its applicant is present.
ROOM_STAFF = {
    "women_video": (Role.WOMEN_SECTION, "women", "المستفيدة حاضرة"),
    "men_video": (Role.PROTOCOL, "fahad", "المستفيد حاضر"),
}


async def frames_decoded(page: Page) -> int:
    return int(await page.evaluate("window.majlisVideo.framesDecoded()"))


async def until_frames(page: Page, at_least: int = 1) -> int:
    """Polls the page's decoded video frames (RTCPeerConnection.getStats) until there are some, for a bounded time."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    frames = 0
    while asyncio.get_running_loop().time() < deadline:
        frames = await frames_decoded(page)
        if frames >= at_least:
            return frames
        await asyncio.sleep(0.25)
    raise AssertionError(f"no decoded video frames after {WAIT_SECONDS} s (state {await state(page)})")


async def until_event(sessions: async_sessionmaker[AsyncSession], audience_id: int, kind: str) -> None:
    """Waits, for a bounded time, until the server has recorded this event of the audience."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        async with sessions() as session:
            if kind in [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]:
                return
        await asyncio.sleep(0.25)
    raise AssertionError(f"no {kind} event after {WAIT_SECONDS} s")


async def state(page: Page) -> str:
    return str(await page.evaluate("window.majlisVideo.state()"))


async def until_true(page: Page, expression: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await page.evaluate(expression):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not true after {WAIT_SECONDS} s: {expression}")


async def shown_streams(page: Page) -> JSHandle:
    """The streams the page's video elements show now (kept by the test, to read their tracks after the call)."""
    streams = await page.evaluate_handle("Array.from(document.querySelectorAll('video')).map(v => v.srcObject)")
    tracks = await streams.evaluate("ss => ss.filter(Boolean).flatMap(s => s.getTracks()).length")
    assert tracks >= 3, tracks  # our camera and microphone, and at least the other side's picture
    return streams


async def until_stopped(page: Page, streams: JSHandle) -> None:
    """Waits, for a bounded time, until every track of `streams` is stopped and no video element shows any."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    states: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        states = await streams.evaluate("ss => ss.filter(Boolean).flatMap(s => s.getTracks()).map(t => t.readyState)")
        shown = await page.evaluate("Array.from(document.querySelectorAll('video')).filter(v => v.srcObject).length")
        if set(states) == {"ended"} and shown == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"tracks still {states} after {WAIT_SECONDS} s")


async def until_state(page: Page, *wanted: str) -> None:
    # Polled with evaluate: wait_for_function would compile a string, which the page's CSP forbids.
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await state(page) in wanted:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"state {await state(page)}, not {wanted}")


@pytest.mark.parametrize("kind", ["women_video", "men_video"])
async def test_the_official_calls_the_room_sees_and_is_seen_then_records_the_outcome(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser, kind: str
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1, kind=kind)
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        room_id, case_id = audience.room_id, audience.case_id
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    role, username, present = ROOM_STAFF[kind]
    staff = await make_staff(sessions, clock, role, username)
    if kind == "men_video":  # a men's room is run by the man on its roster today
        await put_on_roster(sessions, clock, room_id, staff.id, SUNDAY.date())
    # The room's pre-call check on the server found it too dark this morning (the server's check has tests of its
    # own: tests/e2e/test_room_check.py); the official is told before he calls, in his language.
    dark = Verdict(passed=False, problems=["too_dark"], measures={}, snapshot_jpeg=None)
    async with transaction(sessions) as session:
        await records.record_check(session=session, clock=clock, room_id=room_id, by_id=None, verdict=dark)
    base = str(client.make_url("/")).rstrip("/")
    # Two browser contexts: two people, two sets of cookies.
    official_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    room_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    official = await official_context.new_page()
    room = await room_context.new_page()
    try:
        await sign_in(room, base, username, clock)
        await room.goto(f"{base}/rooms/{room_id}/console")
        await room.click(f"#audience-{audience_id} form.check-in button")
        await room.wait_for_selector(f"#audience-{audience_id}[data-checked-in='1']")
        await room.click("#device-check")
        await room.wait_for_selector("#room-console[data-device-check='passed']", timeout=10_000)
        assert await room.locator("#camera option").count() >= 1
        assert await room.locator("#microphone option").count() >= 1
        # The fake microphone beeps: the level meter moves.
        await room.wait_for_selector("#mic-level[data-heard='1']", timeout=10_000)
        await room.click("#room-ready")

        await sign_in(official, base, "official", clock)
        assert official.url.endswith("/official")
        row = f"#audience-{audience_id}"
        # The room's state arrives live over /ws/consoles: the applicant is present (checked in, devices ready).
        await official.wait_for_selector(f"{row} [data-audience-state][data-state='present']", timeout=10_000)
        assert await official.text_content(f"{row} [data-audience-state]") == present
        failed = official.locator(f"{row} [data-room-check='{room_id}']")
        assert await failed.is_visible()
        assert await failed.locator("li").all_text_contents() == ["الصورة معتمة أكثر من اللازم"]
        # Recording is offered only during a call: before it, the button is truly disabled.
        record = official.locator("#record-button")
        assert not await record.count() or await record.is_disabled()
        # The room checks again and passes: the note goes at the next change of the rooms' states (the call).
        good = Verdict(passed=True, problems=[], measures={}, snapshot_jpeg=None)
        async with transaction(sessions) as session:
            await records.record_check(session=session, clock=clock, room_id=room_id, by_id=None, verdict=good)
        await official.click(f"{row} .call-button")

        official_frames = await until_frames(official)
        room_frames = await until_frames(room)
        assert official_frames > 0 and room_frames > 0
        assert await state(official) == "in_call" and await state(room) == "in_call"
        # Both heartbeats report frames arriving: the server records the call as connected.
        await until_event(sessions, audience_id, "connected")
        await official.wait_for_selector(f"{row} [data-audience-state][data-state='in_call']", timeout=10_000)
        await failed.wait_for(state="hidden", timeout=10_000)
        # The screen facing the applicant, opened from the console, shows the official full-screen.
        async with room.expect_popup() as popup:
            await room.click("#open-screen")
        screen = await popup.value
        await screen.wait_for_selector("body[data-screen='call']", state="attached", timeout=10_000)
        assert await screen.locator("button, a, input, select").count() == 0
        await until_true(screen, "document.getElementById('screen-official').videoWidth > 0")
        # The official mutes himself; the room is told.
        await official.click("#mute-button")
        await room.wait_for_selector("#official-muted:not([hidden])", timeout=5_000)

        official_streams = await shown_streams(official)
        room_streams = await shown_streams(room)
        await official.click(f"{row} .end-button")
        await official.wait_for_selector(f"{row} form.outcome:not([hidden])", timeout=10_000)
        await until_state(room, "ended", "waiting", "peer_present", "connecting", "idle")
        # Camera and microphone released on both sides, the official's console as before the call.
        await until_stopped(official, official_streams)
        await until_stopped(room, room_streams)
        assert await official.locator("#call-stage").is_hidden()
        assert await official.get_attribute("#mute-button", "aria-pressed") == "false"
        assert await room.locator("#emergency-end").is_disabled()
        # The outcome is the page's task now: a heading, enabled fields, the focus on the first, not greyed.
        form = official.locator(f"{row} form.outcome")
        assert await form.get_by_role("heading").text_content() == "نتيجة اللقاء"
        assert await official.evaluate("document.activeElement.id") == f"outcome-{audience_id}"
        assert await form.locator("select, textarea").evaluate_all("els => els.every(e => !e.disabled)")
        look = await form.evaluate("f => [getComputedStyle(f).backgroundColor, getComputedStyle(f).borderTopStyle]")
        assert look == ["rgb(255, 255, 255)", "solid"]
        directive = "أُجيب الطلب: يُنفذ حكم الحضانة عن طريق محكمة التنفيذ"
        await official.select_option(f"#outcome-{audience_id}", "answered")
        await official.fill(f"#directive-{audience_id}", directive)
        await official.click(f"{row} form.outcome button[type=submit]")
        await official.wait_for_selector(f"{row} .outcome-recorded")
        await screen.wait_for_selector("body[data-screen='waiting']", state="attached", timeout=5_000)
        assert directive in (await official.text_content(f"{row} .outcome-recorded") or "")
    finally:
        await official_context.close()
        await room_context.close()

    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        assert audience.state is VideoState.ENDED and audience.ended_by == "official"
        assert audience.started_at is not None and audience.outcome is VideoOutcome.ANSWERED
        history = await cases.history(session=session, case_id=case_id)
        kinds = [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]
    assert (history[-1].to_status, history[-1].note) == (CaseStatus.COMPLETED, directive)
    assert kinds[:3] == ["checked_in", "started", "connected"] and kinds[-2:] == ["ended", "outcome"]


async def test_a_reloaded_room_is_called_back_and_the_room_can_end_in_an_emergency(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        room_id = audience.room_id
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    base = str(client.make_url("/")).rstrip("/")
    official_context = await browser.new_context()
    room_context = await browser.new_context()
    official = await official_context.new_page()
    room = await room_context.new_page()
    try:
        await sign_in(room, base, "women")
        await room.goto(f"{base}/rooms/{room_id}/console")
        await room.click("#device-check")
        await room.wait_for_selector("#room-console[data-device-check='passed']", timeout=10_000)
        await room.click("#room-ready")
        await sign_in(official, base, "official", clock)
        row = f"#audience-{audience_id}"
        await official.wait_for_selector(f"{row} [data-audience-state][data-state='ready']", timeout=10_000)
        await official.click(f"{row} .call-button")
        await until_frames(official)
        await until_frames(room)
        # Connected as the server sees it (both heartbeats report frames) before the reload, so
        # what follows is a reconnection, not a slow first connection.
        await until_event(sessions, audience_id, "connected")

        # The room's page is reloaded mid-call: it repeats its device check by itself, the server asks both
        # sides to rebuild, the official offers again, and video flows again without anyone pressing anything.
        await room.reload()
        await until_frames(room)
        await until_state(room, "in_call")
        await until_event(sessions, audience_id, "reconnected")

        await room.click("#emergency-end")
        await room.click("#emergency-confirm")
        await until_state(official, "ended")
        await official.wait_for_selector(f"{row} form.outcome:not([hidden])", timeout=10_000)
    finally:
        await official_context.close()
        await room_context.close()
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None and audience.state is VideoState.ENDED and audience.ended_by == "room"
        assert audience.reconnections >= 1
