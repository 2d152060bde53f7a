"""What the follow-up team's pages say: the names of a referral's stages, clocks, team actions and events, and
working time in words (working days of the department's calendar, hours, minutes), in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from followup import daily
from followup.models import ContactRole, Department, EventKind, ReferralEvent, ReferralSource, ReferralState
from majlis.errors import N_
from web.keys import CATALOGS, LANGUAGE

STATES: Mapping[str, str] = {
    ReferralState.SENT: N_("Sent, not yet acknowledged"),
    ReferralState.ACKNOWLEDGED: N_("Acknowledged, in progress"),
    ReferralState.AWAITING_APPLICANT: N_("Waiting for the applicant"),
    ReferralState.ANSWERED: N_("Answered by the department"),
    ReferralState.RETURNED: N_("Returned to the follow-up team"),
    ReferralState.CLOSED: N_("Closed"),
    daily.UNREFERRED: N_("Referred, with no department"),
}
CLOCKS: Mapping[str, str] = {
    "first_response": N_("First response"),
    "update": N_("Update"),
    "solution": N_("Solution"),
}
TEAM_ACTIONS: Mapping[str, str] = {
    daily.Action.REVIEW_AND_CLOSE: N_("Review the answer and close"),
    daily.Action.REFER_OR_CLOSE: N_("Refer elsewhere, or close"),
    daily.Action.CLOSE_RETURNED: N_("Close: the request is with another department"),
    daily.Action.REFER: N_("Refer to a department"),
}
EVENTS: Mapping[str, str] = {
    EventKind.SENT: N_("Referred"),
    EventKind.ACKNOWLEDGED: N_("Acknowledged by the department"),
    EventKind.INFORMATION_ASKED: N_("Information asked of the applicant"),
    EventKind.INFORMATION_GIVEN: N_("The applicant answered"),
    EventKind.UPDATE: N_("News from the department"),
    EventKind.ANSWERED: N_("Answered by the department"),
    EventKind.RETURNED: N_("Returned: not the department's"),
    EventKind.REMINDED: N_("Reminder sent"),
    EventKind.PHONE_CALL: N_("Phone call"),
    EventKind.ESCALATED: N_("Escalated"),
    EventKind.EXTENDED: N_("Deadlines extended"),
    EventKind.CLOSED: N_("Closed"),
}
SOURCES: Mapping[str, str] = {
    ReferralSource.AUDIT_DESK: N_("Written referral by the audit desk or the follow-up team"),
    ReferralSource.AUDIENCE: N_("The official's directive at an audience"),
}
CONTACT_ROLES: Mapping[str, str] = {
    ContactRole.HEAD: N_("Head"),
    ContactRole.DEPUTY: N_("Deputy"),
    ContactRole.LIAISON: N_("Liaison officer"),
}


def say(request: web.Request, message: str, **params: object) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, **params)


def working_time(request: web.Request, amount: timedelta, working_day: timedelta | None) -> str:
    """Working time as the team reads it: working days of the department's calendar and hours, or hours and minutes."""
    minutes = int(abs(amount).total_seconds() // 60)
    day = int(working_day.total_seconds() // 60) if working_day else 0
    if day and minutes >= day:
        days, hours = minutes // day, minutes % day // 60
        if not hours:
            return say(request, N_("{days} working day(s)"), days=days)
        return say(request, N_("{days} working day(s) {hours} h"), days=days, hours=hours)
    if minutes >= 60:
        if not minutes % 60:
            return say(request, N_("{hours} h"), hours=minutes // 60)
        return say(request, N_("{hours} h {minutes} min"), hours=minutes // 60, minutes=minutes % 60)
    return say(request, N_("{minutes} min"), minutes=minutes)


def standing_text(request: web.Request, item: daily.Item) -> str:
    """Where the item stands against its nearest clock, in words."""
    if item.left is None:
        return "—"
    spent = working_time(request, item.left, item.working_day)
    if item.paused:
        if item.left < timedelta():
            return say(request, N_("Stopped while overdue by {time}"), time=spent)
        return say(request, N_("Stopped with {time} left"), time=spent)
    if item.overdue:
        return say(request, N_("Overdue by {time}"), time=spent)
    return say(request, N_("{time} left"), time=spent)


def department_name(request: web.Request, department: Department | None) -> str:
    if department is None:
        return "—"
    return department.name_in(request[LANGUAGE])


def event_detail(request: web.Request, event: ReferralEvent, departments: Mapping[str, Department]) -> str:
    """What an event's details say, in the reader's language."""
    details = event.details or {}
    if event.kind is EventKind.SENT:
        return say(
            request,
            N_("To {department}"),
            department=department_name(request, departments.get(details.get("department", ""))),
        )
    if event.kind is EventKind.REMINDED:
        return say(request, N_("By e-mail and SMS") if details.get("channels") == "email+sms" else N_("By e-mail"))
    if event.kind is EventKind.ESCALATED:
        role = CONTACT_ROLES.get(details.get("role", ""))
        return say(
            request,
            N_("Level {level}: {role} of {department} ({name})"),
            level=details.get("level", ""),
            role=say(request, role) if role else details.get("role", ""),
            department=department_name(request, departments.get(details.get("department", ""))),
            name=details.get("to", ""),
        )
    if event.kind is EventKind.EXTENDED and details.get("minutes", "").isdigit():
        return say(
            request,
            N_("By {time} of working time"),
            time=working_time(request, timedelta(minutes=int(details["minutes"])), None),
        )
    return ""
