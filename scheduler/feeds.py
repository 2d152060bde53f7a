"""The official's audiences as iCalendar feeds that Outlook, Google and Apple calendars subscribe to.

`audiences` reads what a feed shows; the rest is pure: the builder turns
events into bytes and the tokens are HMACs, so the web layer only has to check
the token in the URL, name the events and answer conditional requests.

A feed shows each request once, under the UID its e-mail invitations carry
(`notify.invitation.audience_uid`) and at the request's revision
(`scheduler.revisions`): a move keeps the event and raises its SEQUENCE, so a
subscribed calendar updates its entry instead of deleting it and adding
another. A released audience stays in the feeds as STATUS:CANCELLED while its
time is inside the feed's window, so calendars mark it cancelled rather than
losing it without a word; a room's feed shows an audience that moved to
another room cancelled there. DTSTAMP is the revision's own time, so the same
calendar gives the same bytes on every fetch and can carry an ETag.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Final, cast

from icalendar import STATUS, Calendar, Event, Timezone, vDuration
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from majlis.clock import RIYADH
from rooms import service as rooms
from scheduler.models import Appointment, AppointmentState, Slot
from scheduler.revisions import latest_revisions

PRODID: Final = "-//Majlis//Audiences//EN"
FEED_TIMEZONE: Final = "Asia/Riyadh"
# Outlook reads X-PUBLISHED-TTL and Apple REFRESH-INTERVAL; without them a
# subscription may refresh only daily or weekly, long after an audience moved.
REFRESH: Final = timedelta(hours=1)
_MAC_LABEL: Final = "majlis-feed:"  # keeps these MACs apart from anything else the secret signs


@dataclass(frozen=True)
class FeedAudience:
    """A request's audience as a feed shows it, before the web layer names it."""

    tracking_number: str
    starts_at: datetime
    ends_at: datetime
    place: str
    sequence: int  # the request's revision
    stamp: datetime  # when that revision was made
    cancelled: bool


@dataclass(frozen=True)
class FeedEvent:
    """One audience as a feed writes it; `uid` stays the same for the request's whole life."""

    uid: str  # notify.invitation.audience_uid: the invitations' UID
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    location: str
    description: str
    sequence: int  # rises at every change, so clients replace their copy
    cancelled: bool
    stamp: datetime  # DTSTAMP: when this revision was made, not when the feed was fetched


async def audiences(
    *,
    session: AsyncSession,
    start: datetime,
    end: datetime,
    room_id: int | None = None,
    room_ids: Collection[int] | None = None,
) -> list[FeedAudience]:
    """The audiences of requests with an appointment starting in [start, end) (in one room, or in the rooms of
    `room_ids` - a branch's - if given).

    One per request: where its latest appointment is, at the request's
    revision, cancelled if that appointment was released. In a room's feed, a
    request whose latest appointment is in another room shows its last
    appointment in this room, cancelled. Sorted by start, then tracking number.
    """
    in_window = (
        select(Appointment, Slot)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Slot.starts_at >= start, Slot.starts_at < end)
    )
    wanted = {room_id} if room_id is not None else None if room_ids is None else set(room_ids)
    if wanted is not None:
        in_window = in_window.where(Slot.room_id.in_(wanted))
    here: dict[int, tuple[Appointment, Slot]] = {}
    for appointment, slot in (await session.execute(in_window)).all():
        kept = here.get(appointment.case_id)  # the request's latest appointment here
        if kept is None or kept[0].id < appointment.id:
            here[appointment.case_id] = (appointment, slot)
    if not here:
        return []
    # Not correlated with the outer query, which reads appointments too.
    case_ids = in_window.with_only_columns(Appointment.case_id).correlate(None)
    revisions = await latest_revisions(session=session, where=Appointment.case_id.in_(case_ids))
    latest_slots = {
        s.id: s
        for s in await session.scalars(
            select(Slot).where(Slot.id.in_({r.appointment.slot_id for r in revisions.values()}))
        )
    }
    shown: dict[int, tuple[Slot, bool]] = {}
    for case_id, (_, slot) in here.items():
        latest = revisions[case_id].appointment
        where = latest_slots[latest.slot_id]
        if wanted is None or where.room_id in wanted:
            shown[case_id] = (where, latest.state is AppointmentState.RELEASED)
        else:  # moved to another room: gone from this one
            shown[case_id] = (slot, True)
    case_of = await cases.cases_by_id(session=session, case_ids=set(shown))
    room_of = await rooms.rooms_by_id(session=session, ids={slot.room_id for slot, _ in shown.values()})
    found = [
        FeedAudience(
            tracking_number=case_of[case_id].tracking_number,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            place=room_of[slot.room_id].name if slot.room_id in room_of else "",
            sequence=revisions[case_id].sequence,
            stamp=revisions[case_id].stamp,
            cancelled=cancelled,
        )
        for case_id, (slot, cancelled) in shown.items()
    ]
    return sorted(found, key=lambda a: (a.starts_at, a.tracking_number))


def build_feed(*, name: str, events: Iterable[FeedEvent]) -> bytes:
    """Return an iCalendar (RFC 5545) feed named `name` of the events, in Riyadh time.

    The output is the same for the same input, so it can carry an ETag: no
    clock is read, each event carries its own DTSTAMP.
    Empty locations and descriptions are left out rather than written empty.
    """
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.calendar_name = name  # NAME (RFC 7986) and X-WR-CALNAME, which Outlook and Google read
    calendar.add("X-WR-TIMEZONE", FEED_TIMEZONE)
    # icalendar's refresh_interval setter leaves out VALUE=DURATION, which RFC 7986 §5.7 requires.
    calendar.add("REFRESH-INTERVAL", vDuration(REFRESH, params={"VALUE": "DURATION"}))
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    calendar.add_component(copy.deepcopy(_riyadh_vtimezone()))
    for event in events:
        calendar.add_component(_vevent(event))
    return cast("bytes", calendar.to_ical())  # icalendar leaves to_ical unannotated


def feed_token(secret: str, scope: str) -> str:
    """Return the URL-safe token that opens the feed of `scope`, such as "official" or "room:12".

    An HMAC-SHA256 of the scope: unguessable without the secret, yet needing no
    table.  Changing the secret revokes every feed URL at once.
    """
    if not secret:
        raise ValueError("feed tokens need a secret")
    digest = hmac.new(secret.encode(), (_MAC_LABEL + scope).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_valid(secret: str, scope: str, token: str) -> bool:
    """Return whether `token` opens the feed of `scope`; the comparison takes the same time however it differs."""
    if not token.isascii():  # compare_digest refuses non-ASCII text, and no real token has any
        return False
    return hmac.compare_digest(feed_token(secret, scope), token)


def _vevent(event: FeedEvent) -> Event:
    """Return the VEVENT of one audience, with its times on Riyadh's clock."""
    if event.starts_at.tzinfo is None or event.ends_at.tzinfo is None or event.stamp.tzinfo is None:
        raise ValueError(f"{event.uid}: times must be aware datetimes")
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", event.stamp.astimezone(UTC))
    # TZID=Asia/Riyadh rather than UTC, so that a client shows the audience at the time the office said.
    vevent.add("DTSTART", event.starts_at.astimezone(RIYADH))
    vevent.add("DTEND", event.ends_at.astimezone(RIYADH))
    vevent.add("SUMMARY", event.summary)
    if event.location:
        vevent.add("LOCATION", event.location)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("STATUS", STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED)
    return vevent


@cache
def _riyadh_vtimezone() -> Timezone:
    """Return the VTIMEZONE of Asia/Riyadh as icalendar derives it from zoneinfo: one STANDARD part, +0300.

    Cached because the derivation probes the zone; callers add a copy, never this one.
    """
    return Timezone.from_tzid(FEED_TIMEZONE, first_date=date(1970, 1, 1), last_date=date(2100, 1, 1))
