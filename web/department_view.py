"""A referral as its department reads it, in the reader's language: for the department's pages and the API.

The department reads the request's subject and text, the applicant's name and ID number, the directive and
the deadlines, the files it may open and the referral's history. Not the applicant's phone: the
department's work goes through Majlis (a question to the applicant goes by Majlis's SMS), so it does not
need the number, and the link may be forwarded inside the department.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from aiohttp import web

from accounts import service as accounts
from cases.models import Case
from followup import department_desk
from followup.department_desk import ReferralView
from followup.models import AttachmentOwner, Department, EventKind, Referral, ReferralEvent, ReferralState
from majlis.errors import N_
from web.attachments import FileLink, file_link
from web.department_actions import Access, allowed
from web.keys import CATALOGS, DB, LANGUAGE

# The same words as the staff's history of the request (web/case_history.py), so both read alike.
STEPS: Mapping[EventKind, str] = {
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
STATES: Mapping[ReferralState, str] = {
    ReferralState.SENT: N_("Sent, not yet acknowledged"),
    ReferralState.ACKNOWLEDGED: N_("Acknowledged, in progress"),
    ReferralState.AWAITING_APPLICANT: N_("Waiting for the applicant"),
    ReferralState.ANSWERED: N_("Answered by the department"),
    ReferralState.RETURNED: N_("Returned to the follow-up team"),
    ReferralState.CLOSED: N_("Closed"),
}
FILE_OWNERS: Mapping[AttachmentOwner, str] = {
    AttachmentOwner.APPLICANT: N_("The applicant"),
    AttachmentOwner.DEPARTMENT: N_("The department"),
    AttachmentOwner.STAFF: N_("Majlis staff"),
}
# Why nothing can be done on the referral now, shown in place of the forms.
WAITING: Mapping[ReferralState, str] = {
    ReferralState.AWAITING_APPLICANT: N_(
        "The applicant has been asked for information. The deadlines are paused until they answer; "
        "you will be told by e-mail."
    ),
    ReferralState.ANSWERED: N_("You have answered this referral; the follow-up team is reviewing the answer."),
    ReferralState.RETURNED: N_("This referral was returned to the follow-up team."),
    ReferralState.CLOSED: N_("This referral is closed; nothing more can be done on it."),
}
BY_APPLICANT = N_("The applicant (portal)")
BY_SWEEP = N_("The escalation sweep")


@dataclass(frozen=True)
class Step:
    """One exchange on the referral, as the history lists it."""

    kind: EventKind
    label: str
    at: datetime
    by: str
    text: str


@dataclass(frozen=True)
class Shown:
    """Everything the referral's page (and the API) says, in the reader's language."""

    referral: Referral
    case: Case
    department: Department
    department_name: str
    state: str
    actions: tuple[str, ...]
    # Why there are no actions, when there are none.
    waiting: str
    files: list[FileLink]
    history: list[Step]
    page: str

    @property
    def id_number(self) -> str:
        return self.case.applicant.id_number


def _who(event: ReferralEvent, actors: Mapping[int, str], say: Callable[[str], str]) -> str:
    """Who took the step: the liaison or staff member, the department through its link, the applicant, the sweep."""
    if event.actor_id is not None:
        return actors.get(event.actor_id, event.by)
    if event.by:
        return event.by
    if event.kind is EventKind.INFORMATION_GIVEN:
        return say(BY_APPLICANT)
    if event.kind is EventKind.ESCALATED:
        return say(BY_SWEEP)
    return ""


async def shown(request: web.Request, access: Access, referral: Referral) -> Shown:
    """The referral with its request, files and history, for this way in and the reader's language."""
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    view: ReferralView = await department_desk.referral_view(session=session, referral=referral)
    actors = await accounts.names_by_id(
        session=session, ids={e.actor_id for e in view.events if e.actor_id is not None}
    )

    def _(message: str) -> str:
        return catalogs.gettext(language, message)

    history = [
        Step(kind=e.kind, label=_(STEPS[e.kind]), at=e.at, by=_who(e, actors, _), text=e.text) for e in view.events
    ]
    actions = allowed(referral)
    return Shown(
        referral=referral,
        case=view.case,
        department=view.department,
        department_name=view.department.name_in(language),
        state=_(STATES[referral.state]),
        actions=actions,
        waiting=_(WAITING[referral.state]) if not actions and referral.state in WAITING else "",
        files=[replace(file_link(a), url=f"{access.page}/attachments/{a.id}") for a in view.files],
        history=history,
        page=access.page,
    )
