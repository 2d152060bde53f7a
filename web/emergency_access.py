"""Who may see and act on which emergency report: the row-level confinement of the emergency line.

- a mission's staff: their own mission's reports only (StaffUser.mission_id), to read and act on;
- the ministry's consular supervisors (and administrators): every report, and they alone send a report to
  another mission;
- the contact centre's agents: what they registered, and the open queue (every report not yet solved or handed
  over) to read, never a closed report of someone else's, and no action.

A report the reader may not see is answered exactly as a number that does not exist (404, never 403), on the
pages and in the API, so trying numbers confirms nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from emergency import reports
from emergency.models import EmergencyReport
from web.auth import signed_in_user
from web.keys import DB

AGENTS = (Role.EMERGENCY_AGENT,)
MISSION = (Role.MISSION_STAFF,)
SUPERVISORS = (Role.CONSULAR_SUPERVISOR,)
# Who reads a report's page; who acts on it (acknowledge, news, solve or hand over); who sends it elsewhere.
READERS = (*AGENTS, *MISSION, *SUPERVISORS)
ACTORS = (*MISSION, *SUPERVISORS)
REASSIGNERS = SUPERVISORS


class ReportHidden(Exception):
    """No such report for this reader: it does not exist, or it is not theirs to see."""


@dataclass(frozen=True)
class Reader:
    """The signed-in account as the emergency line confines it."""

    user_id: int
    role: Role
    # A mission's staff: their mission; None for every other role (and for staff not yet given one).
    mission_id: int | None

    @property
    def sees_all(self) -> bool:
        return self.role in (Role.CONSULAR_SUPERVISOR, Role.ADMINISTRATOR)

    @property
    def is_mission_staff(self) -> bool:
        return self.role is Role.MISSION_STAFF

    def may_see(self, report: EmergencyReport) -> bool:
        if self.sees_all:
            return True
        if self.role is Role.MISSION_STAFF:
            return self.mission_id is not None and report.mission_id == self.mission_id
        if self.role is Role.EMERGENCY_AGENT:
            return report.registered_by_id == self.user_id or report.state in reports.OPEN_STATES
        return False

    def may_act(self, report: EmergencyReport) -> bool:
        if self.sees_all:
            return True
        return self.role is Role.MISSION_STAFF and self.may_see(report)

    @property
    def confined_to(self) -> int | None:
        """The one mission whose reports this reader acts on, checked again by each step once it has locked the
        report (a supervisor may have sent it elsewhere since it was read); None: any report in reach."""
        return self.mission_id if self.is_mission_staff else None

    @property
    def may_reassign(self) -> bool:
        return self.sees_all


async def reader_of(request: web.Request) -> Reader:
    user = signed_in_user(request)
    mission_id = None
    if user.role is Role.MISSION_STAFF:
        account = await accounts.get_user(session=request[DB], user_id=user.id)
        mission_id = account.mission_id if account is not None else None
    return Reader(user_id=user.id, role=user.role, mission_id=mission_id)


async def visible_report(request: web.Request, reader: Reader, number: str) -> EmergencyReport:
    """The report with this number if the reader may see it; ReportHidden otherwise (shown as not found)."""
    report = await reports.get_by_number(session=request[DB], number=number)
    if report is None or not reader.may_see(report):
        raise ReportHidden(number)
    return report
