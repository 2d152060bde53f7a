"""Video audiences: today's list for the official and for a room, who may hold a room's token, and the record.

The signalling hub (video.hub) keeps the live state of calls in memory; what
must outlast a restart — started, reconnections, ended, duration, the outcome —
is written here, each in its own short transaction by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from audience_day import arrival
from audience_day.models import ArrivalVia, Outcome
from audience_day.outcome import apply_outcome, checked_directive
from cases import service as cases
from cases.models import Case, CaseStatus, StatusChange
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError
from priority import service as priority
from priority.models import Category, Triage
from quality import invites
from rooms import service as rooms
from rooms.models import Room
from scheduler import lifecycle
from scheduler.models import LIVE_STATES, Appointment, AudienceMode, Slot
from scheduler.views import sessions_with_slots
from video.models import VideoAudience, VideoEvent, VideoEventKind, VideoOutcome, VideoState
from video.tokens import Side, VideoGrant, VideoTokens, end_of_day


class VideoRefused(DomainError):
    """A video action that cannot be done (no such audience, already ended, outcome twice)."""


@dataclass(frozen=True)
class CaseSummary:
    """What the official reads about a request before and during its audience."""

    tracking_number: str
    applicant_name: str
    subject: str
    text: str
    status: CaseStatus
    category: Category | None
    urgency: str | None
    special_care: list[str]
    history: list[StatusChange]


@dataclass(frozen=True)
class AudienceItem:
    """One of the day's audiences: its appointment, slot, room, mode, request and (for video) its record."""

    appointment: Appointment
    slot: Slot
    room: Room
    mode: AudienceMode
    case: Case
    summary: CaseSummary
    video: VideoAudience | None


def today(clock: Clock) -> datetime:
    """The start of the current Riyadh day."""
    now = riyadh(clock.now())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def _summaries(*, session: AsyncSession, case_list: list[Case]) -> dict[int, CaseSummary]:
    ids = {c.id for c in case_list}
    triage_of: dict[int, Triage] = await priority.triages(session=session, case_ids=ids)
    category_of = {c.code: c for c in await priority.categories(session=session, active_only=False)}
    found = {}
    for case in case_list:
        triage = triage_of.get(case.id)
        found[case.id] = CaseSummary(
            tracking_number=case.tracking_number,
            applicant_name=case.applicant_name,
            subject=case.subject,
            text=case.text,
            status=case.status,
            category=category_of.get(triage.category_code) if triage and triage.category_code else None,
            urgency=triage.urgency.value if triage and triage.urgency else None,
            special_care=case.special_care,
            history=await cases.history(session=session, case_id=case.id),
        )
    return found


async def ensure_audience(*, session: AsyncSession, appointment: Appointment, room_id: int) -> VideoAudience:
    """The video record of an appointment taken over video, made on first sight."""
    found = await session.scalar(select(VideoAudience).where(VideoAudience.appointment_id == appointment.id))
    if found is not None:
        return found
    # A savepoint: two consoles opening at once both try to insert; the unique index keeps one.
    audience = VideoAudience(
        appointment_id=appointment.id,
        case_id=appointment.case_id,
        room_id=room_id,
        state=VideoState.WAITING,
        reconnections=0,
        connected_seconds=0,
        directive="",
    )
    try:
        async with session.begin_nested():
            session.add(audience)
            await session.flush()
    except Exception:
        existing = await session.scalar(select(VideoAudience).where(VideoAudience.appointment_id == appointment.id))
        if existing is None:
            raise
        return existing
    return audience


async def audiences_today(*, session: AsyncSession, clock: Clock, room_id: int | None = None) -> list[AudienceItem]:
    """The day's audiences in order (in person and by video; only this room's if given), each with its summary.

    Makes the video record of every video appointment among them.
    """
    day = today(clock).date()
    views = await sessions_with_slots(
        session=session, start=day, end=day + timedelta(days=1), room_id=room_id, with_held=True
    )
    rows = [
        (view.session.mode, slot_view.slot, slot_view.room, appointment, case)
        for view in views
        for slot_view in view.slots
        for appointment, case in slot_view.appointments
    ]
    rows.sort(key=lambda r: (r[1].starts_at, r[1].id, r[3].seat))
    summaries = await _summaries(session=session, case_list=[r[4] for r in rows])
    items = []
    for mode, slot, room, appointment, case in rows:
        video = (
            await ensure_audience(session=session, appointment=appointment, room_id=room.id)
            if mode is AudienceMode.VIDEO
            else None
        )
        items.append(AudienceItem(appointment, slot, room, mode, case, summaries[case.id], video))
    return items


async def video_audiences_today(
    *, session: AsyncSession, clock: Clock, room_id: int | None = None
) -> list[AudienceItem]:
    """Only the day's video audiences, in order."""
    return [i for i in await audiences_today(session=session, clock=clock, room_id=room_id) if i.video is not None]


async def may_hold_room(*, session: AsyncSession, clock: Clock, staff_id: int, role: Role, room_id: int) -> bool:
    """Whether this member of staff (signed in with this role) may speak for the video room: one of those who run
    rooms of its kind (`rooms.may_run`: women of the women's section for a women's room, men of protocol for a
    men's room), and on its roster today when it has one."""
    room = await rooms.get_room(session=session, room_id=room_id)
    staff = await accounts.get_user(session=session, user_id=staff_id)
    if (
        room is None
        or room.kind not in rooms.VIDEO_ROOM_STAFF
        or staff is None
        or not rooms.may_run(room, role=role, gender=staff.gender)
    ):
        return False
    entries = [e for e in await rooms.roster_for_day(session=session, day=today(clock).date()) if e.room_id == room_id]
    return not entries or any(e.staff_id == staff_id for e in entries)


def token_for(tokens: VideoTokens, item: AudienceItem, role: Side) -> str:
    """The signalling token of one side of a video audience, valid to the end of its day."""
    if item.video is None:
        raise ValueError("not a video audience")
    day = riyadh(item.slot.starts_at).date()
    return tokens.token(VideoGrant(audience_id=item.video.id, role=role, expires_at=end_of_day(day)))


async def get_audience(*, session: AsyncSession, audience_id: int) -> VideoAudience | None:
    return await session.get(VideoAudience, audience_id)


async def audiences_by_id(*, session: AsyncSession, ids: set[int]) -> dict[int, VideoAudience]:
    rows = await session.scalars(select(VideoAudience).where(VideoAudience.id.in_(ids)))
    return {a.id: a for a in rows}


async def events(*, session: AsyncSession, audience_id: int) -> list[VideoEvent]:
    rows = await session.scalars(
        select(VideoEvent).where(VideoEvent.audience_id == audience_id).order_by(VideoEvent.at, VideoEvent.id)
    )
    return list(rows)


async def _locked(session: AsyncSession, audience_id: int) -> VideoAudience:
    audience = await session.scalar(select(VideoAudience).where(VideoAudience.id == audience_id).with_for_update())
    if audience is None:
        raise VideoRefused("no_audience", N_("There is no such video audience."))
    return audience


def _event(
    session: AsyncSession, clock: Clock, audience: VideoAudience, kind: VideoEventKind, detail: str = ""
) -> None:
    session.add(VideoEvent(audience_id=audience.id, at=clock.now(), kind=kind, detail=detail))


async def check_in(
    *,
    session: AsyncSession,
    clock: Clock,
    audience_id: int,
    actor_id: int,
    arrival_policy: arrival.ArrivalPolicy | None = None,
) -> VideoAudience:
    """Marks the applicant present in the room (the room staff's check-in); the waiting time starts."""
    audience = await _locked(session, audience_id)
    if audience.state is VideoState.ENDED:
        raise VideoRefused("audience_ended", N_("This audience has ended."))
    if audience.checked_in_at is None:
        # The applicant's arrival at the centre, as the kiosk or desk would record it (the room's own branch).
        if await arrival.arrival_of(session=session, appointment_id=audience.appointment_id) is None:
            await arrival.check_in(
                session=session,
                clock=clock,
                policy=arrival_policy or arrival.ArrivalPolicy(),
                appointment_id=audience.appointment_id,
                via=ArrivalVia.ROOM,
                branch_code=None,
                actor_id=actor_id,
            )
        audience.checked_in_at = clock.now()
        _event(session, clock, audience, VideoEventKind.CHECKED_IN, detail=str(actor_id))
        await session.flush()
    return audience


async def record_consent(*, session: AsyncSession, clock: Clock, audience_id: int, actor_id: int) -> VideoAudience:
    """The applicant consented to the recording of her audience, as the room staff recorded it."""
    audience = await _locked(session, audience_id)
    if audience.state is VideoState.ENDED:
        raise VideoRefused("audience_ended", N_("This audience has ended."))
    if audience.recording_consent_at is None:
        audience.recording_consent_at = clock.now()
        audience.recording_consent_by_id = actor_id
        _event(session, clock, audience, VideoEventKind.CONSENT, detail=str(actor_id))
        await session.flush()
    return audience


async def mark_recording(
    *, session: AsyncSession, clock: Clock, audience_id: int, path: str | None, detail: str
) -> VideoAudience:
    """A recording started (its file, relative to the recordings directory) or stopped (`path` None)."""
    audience = await _locked(session, audience_id)
    if path is not None:
        audience.recording_path = path
    _event(session, clock, audience, VideoEventKind.RECORDING, detail)
    await session.flush()
    return audience


async def mark_started(*, session: AsyncSession, clock: Clock, audience_id: int) -> VideoAudience:
    """The official called the room: the audience is in its call (a restart changes nothing)."""
    audience = await _locked(session, audience_id)
    if audience.state is VideoState.WAITING:
        audience.state = VideoState.IN_CALL
        audience.started_at = clock.now()
        appointment = await lifecycle.locked(session=session, appointment_id=audience.appointment_id)
        if appointment.state in LIVE_STATES:
            await lifecycle.mark_in_audience(session=session, appointment=appointment)
        _event(session, clock, audience, VideoEventKind.STARTED)
        await session.flush()
    return audience


async def mark_event(
    *, session: AsyncSession, clock: Clock, audience_id: int, kind: VideoEventKind, detail: str = ""
) -> VideoAudience:
    """Records an event of the call (`connected`, `bridged`, `quality`…); `reconnected` also counts a reconnection."""
    audience = await _locked(session, audience_id)
    if kind is VideoEventKind.RECONNECTED:
        audience.reconnections += 1
    _event(session, clock, audience, kind, detail)
    await session.flush()
    return audience


async def mark_ended(
    *, session: AsyncSession, clock: Clock, audience_id: int, by: Side, reason: str, connected_seconds: float
) -> VideoAudience:
    """The audience ended (by the official, or by the room in an emergency), with its connected time."""
    audience = await _locked(session, audience_id)
    if audience.state is VideoState.ENDED:
        return audience
    audience.state = VideoState.ENDED
    audience.ended_at = clock.now()
    audience.ended_by = by
    audience.connected_seconds += round(connected_seconds)
    _event(session, clock, audience, VideoEventKind.ENDED, detail=reason)
    await session.flush()
    return audience


async def add_connected_seconds(*, session: AsyncSession, clock: Clock, audience_id: int, seconds: float) -> None:
    audience = await _locked(session, audience_id)
    audience.connected_seconds += round(seconds)
    await session.flush()


async def record_outcome(
    *,
    session: AsyncSession,
    clock: Clock,
    audience_id: int,
    outcome: VideoOutcome,
    directive: str,
    actor_id: int,
    status_url: str,
    referred_to: str = "",
) -> VideoAudience:
    """The official's outcome and directive, written to the audience and to the request's history.

    The request moves on as for an in-person audience (audience_day.outcome) and the appointment is held.
    """
    try:
        decided = Outcome(outcome.value)
    except ValueError:
        raise VideoRefused("outcome_unknown", N_("Choose one of the outcomes offered.")) from None
    directive, referred_to = checked_directive(decided, directive, referred_to)
    audience = await _locked(session, audience_id)
    if audience.outcome is not None:
        raise VideoRefused("outcome_recorded", N_("The outcome of this audience is already recorded."))
    found = await cases.lock_cases(session=session, case_ids=[audience.case_id])
    case = found[audience.case_id]
    await apply_outcome(
        session=session,
        clock=clock,
        case=case,
        outcome=decided,
        directive=directive,
        referred_to=referred_to,
        actor_id=actor_id,
        status_url=status_url,
    )
    audience.outcome = outcome
    audience.directive = directive
    audience.outcome_at = clock.now()
    audience.outcome_by_id = actor_id
    appointment = await lifecycle.locked(session=session, appointment_id=audience.appointment_id)
    await lifecycle.mark_held(session=session, clock=clock, appointment=appointment)
    _event(session, clock, audience, VideoEventKind.OUTCOME, detail=outcome.value)
    await invites.after_audience(
        session=session, clock=clock, case=case, appointment_id=appointment.id, staff_id=actor_id
    )
    await session.flush()
    return audience
