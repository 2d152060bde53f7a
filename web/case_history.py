"""A request's history as staff read it: its status changes, every exchange on its referrals and every WhatsApp
message that belongs to it (in and out, with the member of staff who wrote a reply), in time order, and where
each referral stands (department, state, deadlines, escalation level).

For staff only (the audit desk's case page, the case lookup): the directive, the
departments' answers and the applicant's answers appear as written. What the
applicant reads is web/applicant_view.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from cases import service as cases
from cases.models import Case, CaseStatus, Channel, StatusChange
from followup import directory, information, referrals
from followup.models import ContactRole, EventKind, Referral, ReferralEvent, ReferralState
from majlis.dates import dual_datetime
from majlis.errors import N_
from web import labels
from web.fairness_files import BY_RULE
from web.i18n import Catalogs
from whatsapp_desk.inbox_lists import messages_of_case
from whatsapp_desk.models import DeskMessage, Direction

EVENT_KINDS: Mapping[EventKind, str] = {
    EventKind.SENT: N_("Referred to the department"),
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
    EventKind.CLOSED: N_("Referral closed with its outcome"),
}
REFERRAL_STATES: Mapping[ReferralState, str] = {
    ReferralState.SENT: N_("Sent, not yet acknowledged"),
    ReferralState.ACKNOWLEDGED: N_("Acknowledged, in progress"),
    ReferralState.AWAITING_APPLICANT: N_("Waiting for the applicant"),
    ReferralState.ANSWERED: N_("Answered by the department"),
    ReferralState.RETURNED: N_("Returned to the follow-up team"),
    ReferralState.CLOSED: N_("Closed"),
}
CONTACT_ROLES: Mapping[str, str] = {
    ContactRole.HEAD.value: N_("Head"),
    ContactRole.DEPUTY.value: N_("Deputy"),
    ContactRole.LIAISON.value: N_("Liaison officer"),
}
_REMINDED_BY = {"email": N_("By e-mail"), "email+sms": N_("By e-mail and SMS")}
_ESCALATED_TO = N_("Level {level}: {role} of {department} ({name})")
_EXTENDED_BY = N_("{minutes} working minutes more; the solution is now due {due}.")
_BY_APPLICANT = N_("The applicant themselves")
_BY_APPLICANT_THROUGH = N_("The applicant ({channel})")
_BY_SWEEP = N_("The escalation sweep")
_WHATSAPP_IN = N_("WhatsApp message from the applicant")
_WHATSAPP_BOT = N_("WhatsApp reply of the automatic desk")
_WHATSAPP_STAFF = N_("WhatsApp reply from staff")
_BY_APPLICANT_WHATSAPP = N_("The applicant (WhatsApp)")
_BY_DESK = N_("The automatic desk")


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the history, in the reader's language; `department` is empty for a status change."""

    at: datetime
    step: str
    department: str
    note: str
    by: str
    # The status the request moved to, for a status change; none for a referral's exchange.
    status: CaseStatus | None = None
    # A WhatsApp message of the request's conversation (in or out).
    whatsapp: bool = False


@dataclass(frozen=True)
class ReferralLine:
    referral: Referral
    department: str
    state: str
    overdue: bool


@dataclass(frozen=True)
class StaffHistory:
    entries: list[HistoryEntry]
    referrals: list[ReferralLine]


# The status changes no member of staff made that the applicant did: answering the information asked for, and
# answering an audience's confirmation (another date, a cancellation, or confirming it). Every other change without
# a member of staff is Majlis's by a written rule: a repeat cancelled, a no-show, a date given or taken back by the
# allocation, a request completed as its last referral closed.
_APPLICANT_NOTES = frozenset(
    {
        information.ANSWERED,
        "The applicant asked for another date.",
        "The applicant cancelled the audience; the request is followed in writing.",
    }
)


def _status_by(step: StatusChange, catalogs: Catalogs, language: str, channel: Channel | None) -> str:
    """Who made a change that no member of staff made: the applicant (their request through its channel, or
    their own answer), or else Majlis by rule."""
    if step.from_status is None and channel is not None:
        return catalogs.gettext(
            language, _BY_APPLICANT_THROUGH, channel=catalogs.gettext(language, labels.CHANNELS[channel])
        )
    if step.note_key in _APPLICANT_NOTES or (step.to_status is CaseStatus.CONFIRMED and not step.note_key):
        return catalogs.gettext(language, _BY_APPLICANT)
    return catalogs.gettext(language, BY_RULE)


def _status_entry(
    step: StatusChange, catalogs: Catalogs, language: str, actors: Mapping[int, str], channel: Channel | None
) -> HistoryEntry:
    note = catalogs.gettext(language, step.note_key, **step.note_params) if step.note_key else step.note
    by = actors.get(step.actor_id, "") if step.actor_id is not None else _status_by(step, catalogs, language, channel)
    step_label = catalogs.gettext(language, labels.STATUSES[step.to_status])
    return HistoryEntry(at=step.at, step=step_label, department="", note=note, by=by, status=step.to_status)


def _event_note(event: ReferralEvent, catalogs: Catalogs, language: str, names: Mapping[str, str]) -> str:
    """What was said, as written; the steps that carry figures say them in the reader's language first."""

    def _(message: str, **params: str) -> str:
        return catalogs.gettext(language, message, **params)

    details = event.details or {}
    lead = ""
    if event.kind is EventKind.REMINDED:
        lead = _(_REMINDED_BY.get(details.get("channels", "email"), _REMINDED_BY["email"]))
    elif event.kind is EventKind.ESCALATED:
        role = details.get("role", "")
        lead = _(
            _ESCALATED_TO,
            level=details.get("level", ""),
            name=details.get("to", ""),
            role=_(CONTACT_ROLES[role]) if role in CONTACT_ROLES else role,
            department=names.get(details.get("department", ""), details.get("department", "")),
        )
    elif event.kind is EventKind.EXTENDED and details.get("solution_due"):
        due = dual_datetime(datetime.fromisoformat(details["solution_due"]), language)
        lead = _(_EXTENDED_BY, minutes=details.get("minutes", ""), due=due)
    return "\n".join(part for part in (lead, event.text) if part)


def _event_by(event: ReferralEvent, catalogs: Catalogs, language: str, actors: Mapping[int, str]) -> str:
    if event.actor_id is not None:
        return actors.get(event.actor_id, "")
    if event.by:
        # The department through its signed link, named as the link's user gave their name.
        return event.by
    if event.kind is EventKind.INFORMATION_GIVEN:
        return catalogs.gettext(language, _BY_APPLICANT)
    if event.kind is EventKind.ESCALATED:
        return catalogs.gettext(language, _BY_SWEEP)
    return ""


def _desk_entry(message: DeskMessage, catalogs: Catalogs, language: str, actors: Mapping[int, str]) -> HistoryEntry:
    if message.direction is Direction.INBOUND:
        step, by = _WHATSAPP_IN, catalogs.gettext(language, _BY_APPLICANT_WHATSAPP)
    elif message.staff_id is not None:
        step, by = _WHATSAPP_STAFF, actors.get(message.staff_id, "")
    else:
        step, by = _WHATSAPP_BOT, catalogs.gettext(language, _BY_DESK)
    return HistoryEntry(
        at=message.at, step=catalogs.gettext(language, step), department="", note=message.body, by=by, whatsapp=True
    )


def merged(
    steps: list[StatusChange],
    events: list[ReferralEvent],
    *,
    catalogs: Catalogs,
    language: str,
    actors: Mapping[int, str],
    departments: Mapping[int, str],
    names: Mapping[str, str],
    desk: list[DeskMessage] | None = None,
    channel: Channel | None = None,
) -> list[HistoryEntry]:
    """Status changes, referral events and WhatsApp messages in one list by time.

    At one moment (a frozen clock; the system clock hardly ever repeats) a status change comes before the
    referrals' steps, as a request is referred before each department is sent it, except its completion,
    which follows the close of its last referral. `channel` is the request's, which its applicant made it through.
    """
    tagged: list[tuple[datetime, int, int, HistoryEntry]] = []
    for event in events:
        entry = HistoryEntry(
            at=event.at,
            step=catalogs.gettext(language, EVENT_KINDS[event.kind]),
            department=departments.get(event.referral_id, ""),
            note=_event_note(event, catalogs, language, names),
            by=_event_by(event, catalogs, language, actors),
        )
        tagged.append((event.at, 1, event.id, entry))
    for step in steps:
        rank = 2 if step.to_status is CaseStatus.COMPLETED else 0
        tagged.append((step.at, rank, step.id, _status_entry(step, catalogs, language, actors, channel)))
    for message in desk or []:
        tagged.append((message.at, 1, message.id, _desk_entry(message, catalogs, language, actors)))
    tagged.sort(key=lambda item: item[:3])
    return [entry for *_, entry in tagged]


async def staff_history(
    *, session: AsyncSession, case_id: int, catalogs: Catalogs, language: str, now: datetime
) -> StaffHistory:
    """The request's whole history and its referrals, for staff, in the reader's language."""
    case = await session.get(Case, case_id)
    steps = await cases.history(session=session, case_id=case_id)
    events = await referrals.events_of_case(session=session, case_id=case_id)
    referred = await referrals.of_case(session=session, case_id=case_id)
    # A few hundred departments at most, retired ones included: an old referral or escalation still names them.
    every = await directory.departments(session=session) if referred else []
    names = {d.code: d.name_in(language) for d in every}
    by_id = {d.id: d.name_in(language) for d in every}
    departments = {r.id: by_id.get(r.department_id, "") for r in referred}
    desk = await messages_of_case(session=session, case_id=case_id)
    actor_ids = (
        {s.actor_id for s in steps if s.actor_id is not None}
        | {e.actor_id for e in events if e.actor_id is not None}
        | {m.staff_id for m in desk if m.staff_id is not None}
    )
    actors = await accounts.names_by_id(session=session, ids=actor_ids)
    entries = merged(
        steps,
        events,
        catalogs=catalogs,
        language=language,
        actors=actors,
        departments=departments,
        names=names,
        desk=desk,
        channel=case.channel if case is not None else None,
    )
    lines = [
        ReferralLine(
            referral=r,
            department=departments[r.id],
            state=catalogs.gettext(language, REFERRAL_STATES[r.state]),
            overdue=referrals.is_overdue(r, now=now),
        )
        for r in referred
    ]
    return StaffHistory(entries=entries, referrals=lines)
