"""Builders for the video tests: video audiences (women's or men's) on Sunday, and the clock moved to that day."""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from scheduler import calendar
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_runs import IDS, run
from video import service as video
from video.tokens import Side, VideoGrant, VideoTokens, end_of_day

Sessions = async_sessionmaker[AsyncSession]
PHONES = ["+966501234567", "+966501234568", "+966501234569", "+966501234570", "+966501234571"]
SUNDAY = datetime(2026, 11, 29, 9, 45, tzinfo=RIYADH)


async def video_audiences(
    sessions: Sessions, clock: FrozenClock, count: int = 2, kind: str = "women_video"
) -> list[int]:
    """`count` women's requests placed in Sunday's video block of one women's room (men's requests in a men's room
    with `kind="men_video"`); the clock moves to Sunday morning; gives the video audiences' ids in order."""
    men = kind == "men_video"
    name = "غرفة الاتصال المرئي للرجال" if men else "غرفة الاتصال المرئي ١"
    room = await add_room(sessions, clock, name=name, kind=kind)
    await add(sessions, clock, template((room.id,), slot_minutes="10", mode="video"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    for i in range(count):
        applicant = {"applicant_gender": "male", "applicant_name": "فهد عبدالله"} if men else {}
        number = await new_case(sessions, clock, applicant_national_id=IDS[i], applicant_phone=PHONES[i], **applicant)
        await ready(sessions, clock, actor, number, route="audience_video")
    report = await run(sessions, clock)
    assert report.placed == count
    clock.set(SUNDAY)
    async with transaction(sessions) as session:
        items = await video.video_audiences_today(session=session, clock=clock)
    return [i.video.id for i in items if i.video is not None]


def token(tokens: VideoTokens, audience_id: int, role: str, expires_at: datetime | None = None) -> str:
    side = cast(Side, role)
    return tokens.token(
        VideoGrant(audience_id=audience_id, role=side, expires_at=expires_at or end_of_day(SUNDAY.date()))
    )


def message(kind: str, tok: str, **fields: object) -> str:
    return json.dumps({"type": kind, "token": tok, **fields})


OFFER_SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"
)
