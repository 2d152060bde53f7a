"""What an applicant sees of their own request: the history meant for them, and the audience ahead.

Used by the status page (web/public.py) and the status API (web/api.py), both
behind the tracking number and the phone given with the request.

Applicants read only what was written for them: the status of each step, the
system's notes listed in `APPLICANT_NOTE_KEYS`, and what the audit desk asked
them to complete (sent to them by SMS in the same words). Never the
allocation's explanation (its score and rank), a member of staff's name, the
reason for a move or a cancelled session, the call centre's notes or the
official's directive: a note not known to be for the applicant is left out.
Of the referrals they read the stages in plain words (to whom and when, that a
department answered, the outcome the follow-up team approved), never the
directive, the department's answer, the team's notes or the escalations.

The audience shown is the request's live appointment (scheduled, confirmed,
arrived, in audience) whose session is not over; an appointment that ended
(held, no-show, released) or whose session has passed shows nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

import segno
from babel.dates import format_time
from icalendar import Calendar, vCalAddress
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from cases.identity import ApplicantKind
from cases.models import Case, CaseStatus, StatusChange
from cases.progress import Ending, Progress, Stage, StepState
from followup import directory, referrals
from followup.models import Department, Referral, ReferralState
from majlis.clock import riyadh
from majlis.dates import dual_date
from majlis.errors import N_
from majlis.settings import Settings
from notify.invitation import audience_uid
from notify.links import Links
from notify.texts import audience_summary
from rooms.models import RoomKind
from scheduler.feeds import FeedEvent, build_feed
from scheduler.models import Appointment, AppointmentState, AudienceMode
from scheduler.revisions import revision_of
from scheduler.views import UpcomingAppointment
from web import bidi_filters as bidi
from web.i18n import Catalogs

# The system's notes written for the applicant (their English message ids, as the domains mark them).
# Any other note_key stays with staff: "Its audience was given to a critical request" speaks of
# another applicant's priority. A note_key changed in its domain drops out of this list, which only
# ever hides it (tests/web/test_applicant_appointment.py checks each is still in the code).
APPLICANT_NOTE_KEYS = frozenset(
    {
        "The request cannot be accepted: {reason}",
        "The information asked for has been completed.",
        "The applicant asked for another date.",
        "The applicant cancelled the audience; the request is followed in writing.",
        "The official has a commitment at that time; a new date follows.",
        "The applicant did not attend the audience; the request waits again with its priority.",
        "The applicant missed a second audience; the request is closed.",
        "The session ended before the applicant's turn; a new date is owed at once.",
        "Joined to request {number}, which now holds its text.",
        "The applicant answered the information asked for.",
        "Cancelled automatically as a repeat of request {number}, which stays open.",
        "The cancellation as a repeat of request {number} was undone: this request stands.",
    }
)
# Steps whose free text staff wrote to the applicant, and which was sent to them in the same words:
# what the audit desk found missing. A rejection's note is not here: after an audience it holds
# the official's directive, which is for staff only (audience_day.outcome).
NOTE_WRITTEN_TO_APPLICANT = frozenset({CaseStatus.NEEDS_INFORMATION})

STATES: dict[AppointmentState, str] = {
    AppointmentState.SCHEDULED: N_("Scheduled: we will ask you to confirm it"),
    AppointmentState.CONFIRMED: N_("Confirmed"),
    AppointmentState.ARRIVED: N_("You have checked in"),
    AppointmentState.IN_AUDIENCE: N_("In the audience now"),
}
_IDENTITY: dict[ApplicantKind, str] = {
    ApplicantKind.CITIZEN: N_("Your original national ID card."),
    ApplicantKind.RESIDENT: N_("Your original iqama."),
    ApplicantKind.COMPANY: N_(
        "The company's commercial registration and a letter authorising you to speak for it, "
        "with your own original national ID or iqama."
    ),
}
_DOCUMENTS = N_("The documents of your request (rulings, reports, letters): the originals and a copy.")
_ARRIVE = N_(
    "Arrive by {time}, {minutes} minutes before your audience, and show your arrival code "
    "at the kiosk at the entrance or at the reception desk."
)
_WOMEN_SECTION = N_(
    "Come to the women's section of the reception centre: you meet the official by video from its room, "
    "with women staff."
)
_VIDEO_ROOM = N_("Come to the reception centre: you meet the official by video from its video room.")
_CARE = N_("Protocol staff will help you on arrival, as you asked when you applied.")
_IN_PERSON = N_("In person, in the audience hall")
_BY_VIDEO_WOMEN = N_("By video, from the women's section of the reception centre")
_BY_VIDEO = N_("By video, from the reception centre's video room")
ARRIVAL_CODE = N_("Arrival code")
WHAT_TO_BRING = N_("What to bring and when to arrive")


# What build_feed writes for a subscribed feed, left out of a file that adds one audience.
_FEED_ONLY = ("NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL")


def isolate(text: str) -> str:
    """The text between Unicode first-strong isolates, so a time or a code keeps its order inside Arabic."""
    return f"\u2068{text}\u2069"


# --- the history ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicantStep:
    """One step of the request as its applicant sees it; `note` is in the reader's language, or empty."""

    to_status: CaseStatus
    at: datetime
    note: str


def applicant_note(step: StatusChange, catalogs: Catalogs, language: str) -> str:
    """The step's note if it was written for the applicant, in their language; else nothing."""
    if step.note_key:
        if step.note_key not in APPLICANT_NOTE_KEYS:
            return ""
        return catalogs.gettext(language, step.note_key, **step.note_params)
    if step.to_status in NOTE_WRITTEN_TO_APPLICANT:
        return step.note
    return ""


def applicant_history(steps: Sequence[StatusChange], catalogs: Catalogs, language: str) -> list[ApplicantStep]:
    """The steps an applicant sees: every change of status, and a note only when it was meant for them.

    A step that changed no status and carries nothing for the applicant (the
    official's directive on a request that stays where it is) is left out whole.
    """
    shown = []
    for step in steps:
        note = applicant_note(step, catalogs, language)
        if step.from_status == step.to_status and not note:
            continue
        shown.append(ApplicantStep(to_status=step.to_status, at=step.at, note=note))
    return shown


# --- the referral's stages ---------------------------------------------------------------------------

# What the applicant reads of the referrals, in plain words: to whom and when, that a department answered,
# and the outcome the follow-up team approved for them. Never the directive, the department's answer, the
# team's notes, a return or an escalation: those are for staff (web/case_history.py).
REFERRED_STAGE = N_("Referred to {department} on {date}")
ANSWERED_STAGE = N_("{department} answered on {date}; the follow-up team is reviewing the answer")
COMPLETED_STAGE = N_("Completed by {department}: {outcome}")


@dataclass(frozen=True)
class ReferralStage:
    """One stage of a referral as its applicant reads it; `text` is in the reader's language."""

    stage: Literal["referred", "answered", "completed"]
    at: datetime
    department: str
    text: str
    # The outcome the follow-up team approved for the applicant; only on "completed".
    outcome: str = ""


def referral_stages(
    referred: Sequence[Referral], departments: Mapping[int, Department], catalogs: Catalogs, language: str
) -> list[ReferralStage]:
    """The stages of the request's referrals in time order, from what each referral records."""

    def _(message: str, **params: str) -> str:
        return catalogs.gettext(language, message, **params)

    def named(referral: Referral) -> str:
        department = departments.get(referral.department_id)
        if department is None:
            return ""
        return isolate(department.name_in(language))

    stages: list[ReferralStage] = []
    for referral in referred:
        name = named(referral)
        day = dual_date(referral.created_at, language)
        stages.append(
            ReferralStage("referred", referral.created_at, name, _(REFERRED_STAGE, department=name, date=day))
        )
        if referral.answered_at is not None:
            day = dual_date(referral.answered_at, language)
            text = _(ANSWERED_STAGE, department=name, date=day)
            stages.append(ReferralStage("answered", referral.answered_at, name, text))
        if referral.state is ReferralState.CLOSED and referral.closed_at is not None:
            text = _(COMPLETED_STAGE, department=name, outcome=referral.outcome)
            stages.append(ReferralStage("completed", referral.closed_at, name, text, outcome=referral.outcome))
    return sorted(stages, key=lambda stage: stage.at)


async def applicant_referral_stages(
    *, session: AsyncSession, case_id: int, catalogs: Catalogs, language: str
) -> list[ReferralStage]:
    referred = await referrals.of_case(session=session, case_id=case_id)
    if not referred:
        return []
    departments = await directory.names(session=session, ids={r.department_id for r in referred})
    return referral_stages(referred, departments, catalogs, language)


# --- the tracker ------------------------------------------------------------------------------------

# Each stage's name, and the line the applicant reads while their request is at it: what it means for them
# and what happens next. No internal word reaches it: no score, rank, note or staff member.
STAGE_NAMES: dict[Stage, str] = {
    Stage.RECEIVED: N_("Request received"),
    Stage.TRIAGED: N_("Request reviewed"),
    Stage.SCHEDULED: N_("Audience scheduled"),
    Stage.CONFIRMED: N_("Audience confirmed"),
    Stage.HELD: N_("Audience held"),
    Stage.REFERRED: N_("With the departments"),
    Stage.COMPLETED: N_("Request completed"),
}
STAGE_LINES: dict[Stage, str] = {
    Stage.RECEIVED: N_(
        "We have received your request. The audit desk is reviewing it; we will tell you by SMS what comes next."
    ),
    Stage.TRIAGED: N_(
        "Your request has been reviewed and is waiting for an audience date. We will send you the date by SMS."
    ),
    Stage.SCHEDULED: N_("An audience date has been set. We will ask you to confirm it three days before."),
    Stage.CONFIRMED: N_("You have confirmed your audience. Please come on time with what is listed below."),
    Stage.HELD: N_(
        "Your audience has been held. The official asked for your request to be studied; "
        "we will tell you the outcome by SMS."
    ),
    Stage.REFERRED: N_(
        "Your request has been sent to the competent departments. "
        "The follow-up team follows it with them every day until it is done."
    ),
    Stage.COMPLETED: N_("Your request has been completed. Thank you for your patience."),
}
# With the audience ahead known, its day, time and centre are said.
SCHEDULED_ON = N_("Your audience is on {date} at {time}, {centre}. Please confirm when asked three days before.")
CONFIRMED_ON = N_(
    "You have confirmed your audience on {date} at {time}, {centre}. Please come on time with what is listed below."
)
ENDING_LINES: dict[Ending, str] = {
    Ending.REJECTED: N_("Your request could not be accepted, and it is closed."),
    Ending.MERGED: N_(
        "This request repeated another of your requests and was joined to it. "
        "Follow that request: nothing you wrote is lost."
    ),
    Ending.CLOSED_NO_SHOW: N_(
        "Your request was closed because two audiences were missed. You may submit a new request."
    ),
}
WAITING_LINE = N_("We need information from you to continue. Please answer the question below.")
STEP_STATES: dict[StepState, str] = {
    StepState.DONE: N_("done"),
    StepState.CURRENT: N_("current stage"),
    StepState.UPCOMING: N_("not yet"),
}


@dataclass(frozen=True)
class TrackerStep:
    stage: Stage
    state: StepState
    name: str
    state_label: str  # for screen readers: the tick and the mark say it to the eye


@dataclass(frozen=True)
class Tracker:
    """The progress tracker in the reader's language: its steps and the current stage's line, or how it ended."""

    steps: list[TrackerStep]
    line: str
    ending: Ending | None
    waiting_line: str


def tracker(
    progress: Progress,
    audience: AudienceShown | None,
    catalogs: Catalogs,
    language: str,
) -> Tracker:
    """The tracker of `progress` (cases.progress), its line naming the audience ahead when there is one."""

    def _(message: str, **params: object) -> str:
        return catalogs.gettext(language, message, **params)

    steps = [
        TrackerStep(step.stage, step.state, _(STAGE_NAMES[step.stage]), _(STEP_STATES[step.state]))
        for step in progress.steps
    ]
    waiting = _(WAITING_LINE) if progress.waiting_for_applicant else ""
    if progress.ending is not None:
        return Tracker(steps=[], line=_(ENDING_LINES[progress.ending]), ending=progress.ending, waiting_line="")
    assert progress.current is not None
    line = _(STAGE_LINES[progress.current])
    if audience is not None and progress.current in (Stage.SCHEDULED, Stage.CONFIRMED):
        on = SCHEDULED_ON if progress.current is Stage.SCHEDULED else CONFIRMED_ON
        # Filled on the page as <bdi> elements (web/bidi_filters.py), each part in its own direction.
        said = escape(_(on, date="{date}", time="{time}", centre="{centre}"))
        # The time is isolated by its first letter, not forced left to right: in Arabic it carries the letter sad or
        # mim (AM/PM).
        parts = {"{date}": bidi.isolate(audience.date), "{time}": bidi.isolate(audience.time)}
        parts["{centre}"] = bidi.isolate(audience.centre)
        for placeholder, part in parts.items():
            said = said.replace(placeholder, part)
        line = said
    return Tracker(steps=steps, line=line, ending=None, waiting_line=waiting)


# --- the audience -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceShown:
    """The audience in the reader's language, as the page, the API and the calendar file give it."""

    appointment_id: int
    state: AppointmentState
    state_label: str
    starts_at: datetime
    ends_at: datetime
    mode: AudienceMode
    mode_label: str
    date: str  # Gregorian and Umm al-Qura Hijri
    time: str  # from – to, Riyadh time
    branch: str  # the branch's code
    centre: str  # the branch's name
    room: str
    address: str
    arrive_by: datetime
    bring: list[str]
    arrival_code: str

    @property
    def place(self) -> str:
        """The room and the centre's address (its name when no address is set), on one line."""
        return " — ".join(part for part in (self.room, self.address or self.centre) if part)

    def qr_svg(self, title: str) -> Markup:
        """The arrival code as a QR code, an inline <svg> (no script, no inline style: the CSP allows it)."""
        qr = segno.make(self.arrival_code, error="m", micro=False)
        svg = qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="arrival-qr")
        return Markup(svg)  # noqa: S704 (segno's own markup of a code we made; the title is escaped by segno)


def _time(moment: datetime, language: str) -> str:
    return format_time(riyadh(moment).time(), format="short", locale=language)


def audience_shown(
    case: Case,
    upcoming: UpcomingAppointment,
    *,
    catalogs: Catalogs,
    language: str,
    links: Links,
    arrive_minutes: int,
) -> AudienceShown:
    """The request's audience ahead (`scheduler.views.upcoming_appointment_of`) in the reader's language; `case`
    comes with its applicant, as the cases service gives it."""

    def _(message: str, **params: object) -> str:
        return catalogs.gettext(language, message, **params)

    slot = upcoming.slot
    women = upcoming.room.kind is RoomKind.WOMEN_VIDEO
    by_video = _BY_VIDEO_WOMEN if women else _BY_VIDEO
    mode_label = _(_IN_PERSON if upcoming.mode is AudienceMode.IN_PERSON else by_video)
    arrive_by = slot.starts_at - timedelta(minutes=arrive_minutes)
    bring = [_(_IDENTITY[case.applicant.kind]), _(_DOCUMENTS)]
    if upcoming.mode is AudienceMode.VIDEO:
        bring.append(_(_WOMEN_SECTION if women else _VIDEO_ROOM))
    bring.append(_(_ARRIVE, time=isolate(_time(arrive_by, language)), minutes=isolate(str(arrive_minutes))))
    if case.special_care:
        bring.append(_(_CARE))
    return AudienceShown(
        appointment_id=upcoming.appointment.id,
        state=upcoming.appointment.state,
        state_label=_(STATES[upcoming.appointment.state]),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        mode=upcoming.mode,
        mode_label=mode_label,
        date=dual_date(slot.starts_at, language),
        time=f"{_time(slot.starts_at, language)} – {_time(slot.ends_at, language)}",
        branch=upcoming.branch.code,
        centre=upcoming.branch.name_in(language),
        room=upcoming.room.name,
        address=upcoming.branch.address_in(language),
        arrive_by=arrive_by,
        bring=bring,
        arrival_code=links.arrival_code(upcoming.appointment.id),
    )


async def calendar_file(
    *,
    session: AsyncSession,
    case: Case,
    appointment: Appointment,
    shown: AudienceShown,
    settings: Settings,
    catalogs: Catalogs,
    language: str,
) -> bytes:
    """The audience as an iCalendar file to add to one's calendar (METHOD:PUBLISH).

    The same UID as the e-mail invitations and the feeds (one per request) and
    the request's revision as SEQUENCE and DTSTAMP, so a calendar that already
    holds the invitation updates that entry instead of adding a second. Only the
    tracking number, time, place and what to bring: nothing the applicant wrote.
    """
    revision = await revision_of(session=session, appointment=appointment)
    number = case.tracking_number
    lines = [
        f"{catalogs.gettext(language, ARRIVAL_CODE)}: {shown.arrival_code}",
        f"{catalogs.gettext(language, WHAT_TO_BRING)}:",
        *(f"- {item}" for item in shown.bring),
    ]
    event = FeedEvent(
        uid=audience_uid(number, settings.mail_from),
        starts_at=shown.starts_at,
        ends_at=shown.ends_at,
        summary=audience_summary(language=language, tracking_number=number),
        location=shown.place,
        description="\n".join(line.replace("\u2068", "").replace("\u2069", "") for line in lines),
        sequence=revision.sequence,
        cancelled=False,
        stamp=revision.stamp,
    )
    feed = Calendar.from_ical(build_feed(name=event.summary, events=[event]))
    # A file that adds one audience, not a calendar to subscribe to: no calendar name (a program may open a
    # named file as a calendar of its own) and no refresh interval. PUBLISH names its ORGANIZER (RFC 5546).
    for name in _FEED_ONLY:
        feed.pop(name, None)
    for vevent in feed.walk("VEVENT"):
        vevent.add("ORGANIZER", vCalAddress.new(settings.mail_from, cn="Majlis"))
    return cast("bytes", feed.to_ical())
