"""Gaps in live missions' duty rosters, flagged to the consular supervisors before they start.

A periodic job looks `lookahead` ahead of now at each live mission's roster. A stretch with nobody on duty
is recorded once, by the moment it starts (a RosterGap row), and e-mailed through the outbox to the ministry's
consular deputy, who supervises the rosters (staff accounts carry no e-mail address; the supervisors' pages
list the open gaps). Run after run the same gap is recognised by its start, or, once it has begun, as the
gap still running, so it is told once; one that grows only has its end moved. A gap that shifts now fill, or
that has passed, is marked resolved; if a removed shift opens it again, it is told again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import roster
from emergency.models import Mission, RosterGap
from majlis.clock import RIYADH, Clock
from majlis.errors import N_
from majlis.settings import Settings
from notify import outbox
from notify.texts import say

log = logging.getLogger(__name__)

GAP_SUBJECT = N_("Duty roster gap: {mission}")
GAP_BODY = N_(
    "Nobody is on the duty roster of {mission} from {starts} to {ends}, the mission's time ({zone}); "
    "that is from {starts_riyadh} to {ends_riyadh}, Riyadh time. An emergency report in that time would "
    "reach no duty officer. Add a shift to the roster: {link}"
)
# The ministry's language: the consular deputy reads Arabic.
LANGUAGE = "ar"


@dataclass(frozen=True)
class Watch:
    """Where and how far ahead gaps are told (from the settings): a change that opens a gap tells it at once,
    rather than at the next hourly run, which may come after the gap has begun."""

    lookahead: timedelta
    to: str
    mission_url: str


def watch_from(settings: Settings) -> Watch:
    """The settings' look-ahead and recipient, and the missions' pages (…/{code}) the e-mails link to."""
    return Watch(
        lookahead=timedelta(hours=settings.emergency_roster_lookahead_hours),
        to=settings.emergency_consular_deputy_email,
        mission_url=settings.public_url.rstrip("/") + "/emergency/missions",
    )


async def flag_now(*, session: AsyncSession, clock: Clock, mission: Mission, watch: Watch) -> tuple[int, int]:
    """The mission's roster looked at now (a live mission's only): (flagged, resolved)."""
    if not (mission.live and mission.active):
        return 0, 0
    return await flag_mission(
        session=session,
        clock=clock,
        mission=mission,
        lookahead=watch.lookahead,
        to=watch.to,
        mission_url=watch.mission_url,
    )


@dataclass
class GapReport:
    flagged: int = 0
    resolved: int = 0
    failed: list[str] = field(default_factory=list)


def _shown(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def _tell(
    session: AsyncSession, clock: Clock, mission: Mission, gap: RosterGap, to: str, mission_url: str
) -> None:
    zone = ZoneInfo(mission.time_zone)
    name = mission.name_in(LANGUAGE)
    values = {
        "mission": name,
        "zone": mission.time_zone,
        "starts": _shown(gap.starts_at, zone),
        "ends": _shown(gap.ends_at, zone),
        "starts_riyadh": _shown(gap.starts_at, RIYADH),
        "ends_riyadh": _shown(gap.ends_at, RIYADH),
        "link": mission_url.rstrip("/") + f"/{mission.code}",
    }
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=f"emergency:roster_gap:{mission.code}:{gap.starts_at.isoformat()}",
        channel="email",
        recipient=to,
        language=LANGUAGE,
        body=say(LANGUAGE, GAP_BODY, **values),
        payload={"subject": say(LANGUAGE, GAP_SUBJECT, mission=name)},
    )


async def flag_mission(
    *, session: AsyncSession, clock: Clock, mission: Mission, lookahead: timedelta, to: str, mission_url: str
) -> tuple[int, int]:
    """Records and tells the mission's new gaps ahead, moves the ends of known ones, settles the rest:
    (flagged, resolved)."""
    now = clock.now()
    found = await roster.gaps(session, mission.id, now, now + lookahead)
    rows = list(await session.scalars(select(RosterGap).where(RosterGap.mission_id == mission.id)))
    by_start = {row.starts_at: row for row in rows}
    running = [r for r in rows if r.resolved_at is None and r.starts_at <= now < r.ends_at]
    kept: set[int] = set()
    flagged = 0
    for starts, ends in found:
        row = by_start.get(starts)
        if row is None and starts == now and running:
            row = running[0]
        if row is not None and row.resolved_at is None:
            row.ends_at = ends
            kept.add(row.id)
            continue
        if row is None:
            row = RosterGap(mission_id=mission.id, starts_at=starts, ends_at=ends, flagged_at=now)
            session.add(row)
        else:
            # Filled once, open again (a shift was removed): told again.
            row.ends_at, row.flagged_at, row.resolved_at = ends, now, None
        await session.flush()
        kept.add(row.id)
        await _tell(session, clock, mission, row, to, mission_url)
        flagged += 1
    resolved = 0
    for row in rows:
        if row.resolved_at is None and row.id not in kept:
            row.resolved_at = now
            resolved += 1
    await session.flush()
    return flagged, resolved


async def flag_gaps(
    *, session: AsyncSession, clock: Clock, lookahead: timedelta, to: str, mission_url: str
) -> GapReport:
    """Every live mission's roster looked at, each in its own savepoint: a failing one is logged and left
    for the next run."""
    report = GapReport()
    live = await session.scalars(
        select(Mission).where(Mission.live.is_(True), Mission.active.is_(True)).order_by(Mission.code)
    )
    for mission in list(live):
        try:
            async with session.begin_nested():
                flagged, resolved = await flag_mission(
                    session=session, clock=clock, mission=mission, lookahead=lookahead, to=to, mission_url=mission_url
                )
        except Exception:
            log.exception("looking for gaps in the roster of %s failed; the next run tries again", mission.code)
            report.failed.append(mission.code)
            continue
        report.flagged += flagged
        report.resolved += resolved
    return report
