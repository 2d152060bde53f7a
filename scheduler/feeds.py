"""The official's audiences as iCalendar feeds that Outlook, Google and Apple calendars subscribe to.

Pure: the builder turns events into bytes and the tokens are HMACs, so the
web layer only has to look the events up and check the token in the URL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Final, cast

from icalendar import STATUS, Calendar, Event, Timezone, vDuration

from majlis.clock import RIYADH

PRODID: Final = "-//Majlis//Audiences//EN"
FEED_TIMEZONE: Final = "Asia/Riyadh"
# Outlook reads X-PUBLISHED-TTL and Apple REFRESH-INTERVAL; without them a
# subscription may refresh only daily or weekly, long after an audience moved.
REFRESH: Final = timedelta(hours=1)
_MAC_LABEL: Final = "majlis-feed:"  # keeps these MACs apart from anything else the secret signs


@dataclass(frozen=True)
class FeedEvent:
    """One audience as a feed shows it; `uid` stays the same for the appointment's whole life."""

    uid: str  # e.g. f"appointment-{id}@majlis"
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    location: str
    description: str
    sequence: int  # raised by one at every change, so clients replace their copy
    cancelled: bool


def build_feed(*, name: str, events: Iterable[FeedEvent], now: datetime) -> bytes:
    """Return an iCalendar (RFC 5545) feed named `name` of the events, in Riyadh time, stamped `now`.

    The output is the same for the same input, so it can carry an ETag.
    Empty locations and descriptions are left out rather than written empty.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
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
    stamp = now.astimezone(UTC)
    for event in events:
        calendar.add_component(_vevent(event, stamp))
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


def _vevent(event: FeedEvent, stamp: datetime) -> Event:
    """Return the VEVENT of one audience, with its times on Riyadh's clock."""
    if event.starts_at.tzinfo is None or event.ends_at.tzinfo is None:
        raise ValueError(f"{event.uid}: times must be aware datetimes")
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("DTSTAMP", stamp)
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
