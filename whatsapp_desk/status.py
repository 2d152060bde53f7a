"""Status on request: the state of a sender's requests in plain words, for WhatsApp and the enquiry line.

Only requests given with the sender's own phone are told: WhatsApp and the telephone network have verified
that number, so it is the proof. A tracking number of someone else's request gets the same answer as a number
that does not exist, so the answer never tells whether a request exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case, CaseStatus, StatusChange
from followup import directory, referrals
from followup.models import OPEN_REFERRAL_STATES, ReferralState
from followup.notices import listed
from majlis.clock import Clock
from majlis.dates import dual_datetime
from majlis.errors import N_
from notify.texts import say
from priority import duplicates
from priority.models import DuplicateCancellation
from scheduler.views import upcoming_appointment_of

# At most this many requests are told at once (newest first): a WhatsApp message and a phone call stay short.
MAX_TOLD = 5
# A closed request is still told for this long after it closed, so "completed" or "cancelled" is heard.
RECENTLY_CLOSED = timedelta(days=30)
SUBJECT_SHOWN = 60
# The marks that keep written text in order (LRI, RLI, FSI, PDI) mean nothing to a voice.
_NO_ISOLATES = str.maketrans(dict.fromkeys(("\u2066", "\u2067", "\u2068", "\u2069")))

YOUR_REQUESTS = N_("Your requests:")
NONE_FOUND = N_("We found no request made with your phone number.")
NONE_FOR_NUMBER = N_("No request was found for this number with your phone.")
LINE = N_("{number} — {subject}: {state}")
SPOKEN_LINE = N_("Request {number}: {state}.")

STATES: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: N_("received; the audit desk is reviewing it"),
    CaseStatus.NEEDS_INFORMATION: N_("more information is needed from you, as our SMS said"),
    CaseStatus.AWAITING_AUDIENCE: N_("awaiting an audience; we will send you its date"),
    CaseStatus.SCHEDULED: N_("an audience is scheduled"),
    CaseStatus.CONFIRMED: N_("an audience is scheduled"),
    CaseStatus.REFERRED: N_("referred to the competent department"),
    CaseStatus.UNDER_STUDY: N_("being studied as the official directed"),
    CaseStatus.COMPLETED: N_("completed"),
    CaseStatus.REJECTED: N_("it could not be accepted; our SMS gave the reason"),
    CaseStatus.DUPLICATE: N_("closed as a duplicate"),
    CaseStatus.CLOSED_NO_SHOW: N_("closed: two audiences were missed"),
}
SCHEDULED_ON = N_("an audience on {when} at {place}; we will ask you to confirm it")
CONFIRMED_ON = N_("an audience on {when} at {place}, confirmed")
REFERRED_TO = N_("referred to {departments}")
REPEAT_OF = N_("cancelled as a repeat of request {number}; follow that request instead")
JOINED_TO = N_("joined to request {number}, which holds what you wrote")


@dataclass(frozen=True)
class RequestState:
    """One request as the sender is told it: its number, subject and state in the sender's language."""

    tracking_number: str
    subject: str
    state: str


def ltr(text: str) -> str:
    """Kept left to right inside Arabic (LRI … PDI): a tracking number's dashes would otherwise reorder it."""
    return f"\u2066{text}\u2069"


def first_strong(text: str) -> str:
    """Set apart in its own direction (FSI … PDI): a subject or a date inside the sentence around it."""
    return f"\u2068{text}\u2069"


async def _senders_requests(*, session: AsyncSession, clock: Clock, phone: str) -> list[Case]:
    """The requests given with this phone that are open or closed recently, newest first, at most MAX_TOLD."""
    rows = list(
        await session.scalars(
            select(Case).where(Case.phone == phone).order_by(Case.submitted_at.desc(), Case.id.desc()).limit(50)
        )
    )
    closed = {c.id for c in rows if c.status in cases.CLOSED}
    if closed:
        # When each closed one closed: its last change of status.
        last = dict(
            (
                await session.execute(
                    select(StatusChange.case_id, func.max(StatusChange.at))
                    .where(StatusChange.case_id.in_(closed))
                    .group_by(StatusChange.case_id)
                )
            ).all()
        )
        since = clock.now() - RECENTLY_CLOSED
        rows = [c for c in rows if c.id not in closed or last.get(c.id, c.submitted_at) >= since]
    return rows[:MAX_TOLD]


async def _state(*, session: AsyncSession, clock: Clock, case: Case, language: str) -> str:
    def _(message: str, **params: str) -> str:
        return say(language, message, **params)

    if case.status in (CaseStatus.SCHEDULED, CaseStatus.CONFIRMED):
        upcoming = await upcoming_appointment_of(session=session, clock=clock, case_id=case.id)
        if upcoming is not None:
            when = first_strong(dual_datetime(upcoming.slot.starts_at, language))
            place = first_strong(upcoming.branch.name_in(language))
            wording = CONFIRMED_ON if case.status is CaseStatus.CONFIRMED else SCHEDULED_ON
            return _(wording, when=when, place=place)
    if case.status is CaseStatus.REFERRED:
        sent = [
            r
            for r in await referrals.of_case(session=session, case_id=case.id)
            if r.state in OPEN_REFERRAL_STATES or r.state is ReferralState.CLOSED
        ]
        departments = await directory.names(session=session, ids={r.department_id for r in sent})
        names = [first_strong(d.name_in(language)) for d in departments.values()]
        if names:
            return _(REFERRED_TO, departments=listed(sorted(names), language))
    if case.status is CaseStatus.DUPLICATE:
        cancellation = await session.get(DuplicateCancellation, case.id)
        if cancellation is not None and cancellation.undone_at is None:
            original = await cases.get_case(session=session, case_id=cancellation.original_case_id)
            if original is not None:
                return _(REPEAT_OF, number=ltr(original.tracking_number))
        merge = await duplicates.merged_into(session=session, case_id=case.id)
        if merge is not None:
            original = await cases.get_case(session=session, case_id=merge.original_case_id)
            if original is not None:
                return _(JOINED_TO, number=ltr(original.tracking_number))
    return _(STATES[case.status])


async def request_states(
    *, session: AsyncSession, clock: Clock, phone: str, tracking_number: str | None, language: str
) -> list[RequestState] | None:
    """The sender's requests as they are told, newest first; None when a tracking number was given and is not
    a request of this phone (whether it exists or not). An empty list: no request of this phone to tell."""
    if tracking_number is not None and tracking_number.strip():
        found = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
        if found is None or found.phone != phone:
            return None
        told = [found]
    else:
        told = await _senders_requests(session=session, clock=clock, phone=phone)
    states = []
    for case in told:
        subject = case.subject if len(case.subject) <= SUBJECT_SHOWN else case.subject[: SUBJECT_SHOWN - 1] + "…"
        state = await _state(session=session, clock=clock, case=case, language=language)
        states.append(RequestState(case.tracking_number, subject, state))
    return states


async def status_answer(
    *, session: AsyncSession, clock: Clock, phone: str, tracking_number: str | None, language: str
) -> str:
    """The answer to "follow a request", in `language`: the sender's own requests (given with this phone), or
    the request with this tracking number when its phone is the sender's; a plain "none found" otherwise."""
    states = await request_states(
        session=session, clock=clock, phone=phone, tracking_number=tracking_number, language=language
    )
    if states is None:
        return say(language, NONE_FOR_NUMBER)
    if not states:
        return say(language, NONE_FOUND)
    lines = [
        say(language, LINE, number=ltr(s.tracking_number), subject=first_strong(s.subject), state=s.state)
        for s in states
    ]
    if tracking_number is not None and tracking_number.strip():
        return lines[0]
    return "\n".join([say(language, YOUR_REQUESTS), *lines])


def spoken_number(tracking_number: str) -> str:
    """A tracking number as a voice should read it: digit by digit, a pause at each dash ("2 6, 0 0 0 1 2 3, 4")."""
    return ", ".join(" ".join(part) for part in tracking_number.split("-"))


async def spoken_status(*, session: AsyncSession, clock: Clock, phone: str, language: str) -> str:
    """The caller's requests as the enquiry line says them: short, numbers read digit by digit, no subjects
    (a voice of one language stumbles over words typed in the other)."""
    states = await request_states(session=session, clock=clock, phone=phone, tracking_number=None, language=language)
    if not states:
        return say(language, NONE_FOUND)
    spoken = [say(language, SPOKEN_LINE, number=spoken_number(s.tracking_number), state=s.state) for s in states]
    return " ".join(spoken).translate(_NO_ISOLATES)
