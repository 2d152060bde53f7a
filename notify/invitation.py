"""iCalendar invitations (RFC 5545 / iTIP RFC 5546) for an applicant's audience.

One audience keeps one UID for its whole life (`uid_for`): moving it sends a
new REQUEST with the same UID and a higher SEQUENCE, so the applicant's
calendar updates the entry in place; cancelling sends a CANCEL with the same
UID. The official's and the rooms' feeds give the request's audience the same
UID (`audience_uid`), so every calendar knows it as one event. Building an
invitation reads no clock: DTSTAMP is the `stamp` passed in.

No reply is asked for (RSVP=FALSE): applicants confirm or decline through
WhatsApp, the call's keypad or the signed portal link, which act on the
appointment at once; an iTIP REPLY would reach only the sender's mailbox,
which nothing reads, and a calendar's "accept" must not pass for a confirmation.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from icalendar import PARTSTAT, ROLE, STATUS, Calendar, Event, vCalAddress

from majlis.clock import RIYADH

PRODID = "-//Majlis//Audience invitations//EN"

_TRACKING_NUMBER = re.compile(r"[0-9]+(?:-[0-9]+)*")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_AUDIENCE_UID = re.compile(rf"audience-({_TRACKING_NUMBER.pattern})@{_DOMAIN.pattern}", re.IGNORECASE)


def uid_for(tracking_number: str, domain: str) -> str:
    """The UID of a request's audience, the same for every REQUEST and CANCEL about it.

    >>> uid_for("26-000123-4", "majlis.example")
    'audience-26-000123-4@majlis.example'
    """
    if not _TRACKING_NUMBER.fullmatch(tracking_number):
        raise ValueError(f"not a canonical tracking number: {tracking_number!r}")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain name: {domain!r}")
    return f"audience-{tracking_number}@{domain.lower()}"


def audience_uid(tracking_number: str, organizer: str) -> str:
    """The UID of a request's audience in invitations sent from the `organizer` address and in the feeds.

    >>> audience_uid("26-000123-4", "majlis@Majlis.Example")
    'audience-26-000123-4@majlis.example'
    """
    return uid_for(tracking_number, organizer.rpartition("@")[2])


def tracking_number_in(uid: str) -> str | None:
    """The tracking number an audience UID made by `uid_for` names (whatever its domain), else None.

    >>> tracking_number_in("audience-26-000123-4@majlis.example")
    '26-000123-4'
    >>> tracking_number_in("meeting-12@example.org") is None
    True
    """
    found = _AUDIENCE_UID.fullmatch(uid.strip())
    return found.group(1) if found else None


def invitation(
    *,
    uid: str,
    sequence: int,
    method: Literal["REQUEST", "CANCEL"],
    starts_at: datetime,
    ends_at: datetime,
    summary: str,
    location: str,
    description: str,
    organizer_email: str,
    organizer_name: str,
    attendee_email: str,
    attendee_name: str,
    stamp: datetime,
) -> bytes:
    """The iCalendar text (UTF-8, CRLF lines) inviting the attendee to the audience, or cancelling it.

    Times are shown in Riyadh time with a VTIMEZONE, so a calendar in another
    zone still places the audience at the right instant. `sequence` must rise
    with every change sent for the same `uid`, a cancellation included.
    """
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at), ("stamp", stamp)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if ends_at <= starts_at:
        raise ValueError("an audience must end after it starts")
    if sequence < 0:
        raise ValueError("SEQUENCE starts at 0")
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method: {method!r}")

    event = Event.new(
        uid=uid,
        sequence=sequence,
        stamp=stamp.astimezone(UTC),
        start=starts_at.astimezone(RIYADH),
        end=ends_at.astimezone(RIYADH),
        summary=summary,
        location=location,
        description=description,
        organizer=vCalAddress.new(organizer_email, cn=organizer_name),
        attendees=[
            vCalAddress.new(
                attendee_email,
                cn=attendee_name,
                role=ROLE.REQ_PARTICIPANT,
                partstat=PARTSTAT.NEEDS_ACTION,
                rsvp=False,  # answers come by WhatsApp, keypad or portal link: see the module's docstring
            )
        ],
        status=STATUS.CONFIRMED if method == "REQUEST" else STATUS.CANCELLED,
    )
    # Not Calendar.new(): it gives the calendar itself a random UID (RFC 7986),
    # which would make the same invitation come out different on every call.
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.method = method
    calendar.add_component(event)
    # Generated from the tz database (zoneinfo), inserted before the VEVENT.
    calendar.add_missing_timezones()
    text: bytes = calendar.to_ical()
    return text
