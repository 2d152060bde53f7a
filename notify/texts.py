"""Message texts to applicants, in their language, from the Babel catalogs (English msgids, Arabic in
web/translations).

Bodies never carry the request's text (privacy): only the tracking number,
dates, places and a link. An Arabic SMS segment holds 70 characters, so the
receipt is kept short; the registered sender name (MAJLIS) says who writes, so
the bodies do not repeat it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from majlis.bidi import LEFT_TO_RIGHT_ISOLATE, first_strong, left_to_right
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, shipped_catalogs

GSM_SEGMENT = 160
UNICODE_SEGMENT = 70
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def sms_segments(body: str) -> int:
    """How many SMS segments the body takes (70 characters each once any is not GSM-7)."""
    if all(ch in _GSM_BASIC for ch in body):
        per, multi = GSM_SEGMENT, 153
    else:
        per, multi = UNICODE_SEGMENT, 67
    if len(body) <= per:
        return 1
    return -(-len(body) // multi)


# Placeholders by what they hold, named alike in every message text (SMS, WhatsApp, e-mail, voice). Numbers read
# left to right ("6-000005-26", "+966…", an arrival code); names, places, reasons and dates-with-words take the
# direction of their first letter. Links are left bare on purpose: a phone's link finder (Android's takes any
# character from U+00A0 up) would swallow the closing isolate into the address and break the link.
LEFT_TO_RIGHT_PLACEHOLDERS = frozenset(
    {"tracking_number", "original_number", "number", "arrival", "code", "phone", "id_number"}
)
FIRST_STRONG_PLACEHOLDERS = frozenset(
    {
        "when",
        "until",
        "due",
        "place",
        "name",
        "subject",
        "missing",
        "reason",
        "mission",
        "registered",
        "acknowledge_due",
        "solve_due",
    }
)
_ISOLATES = (LEFT_TO_RIGHT_ISOLATE, "\u2068")


def _right_to_left(value: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in value)


def isolated(language: str, params: Mapping[str, str]) -> dict[str, str]:
    """The placeholders' values, numbers and names each set in its own direction where the text needs it.

    In a right-to-left language, every number and name: there a bare "6-000005-26" shows as "26-000005-6" and a
    Latin name pulls the sentence's words out of order. In English, only a name or place written right to left
    (a room with no English name yet): numbers do not reorder there, and an isolate (not in GSM-7) would turn the
    whole SMS into UCS-2, 70 characters a segment instead of 160, twice the segments for nothing; Arabic letters
    make it UCS-2 already. A value already isolated by its caller is left as it is, so none is isolated twice.
    """
    right_to_left = language in RIGHT_TO_LEFT
    values = {}
    for key, value in params.items():
        if value and not value.startswith(_ISOLATES):
            if key in LEFT_TO_RIGHT_PLACEHOLDERS and right_to_left:
                value = left_to_right(value)
            elif key in FIRST_STRONG_PLACEHOLDERS and (right_to_left or _right_to_left(value)):
                value = first_strong(value)
        values[key] = value
    return values


def say(language: str, message: str, **params: str) -> str:
    """The message (an English msgid) in the applicant's language, placeholders filled (numbers and names
    isolated in a right-to-left language: see `isolated`)."""
    return shipped_catalogs().gettext(language, message, **isolated(language, params))


class Text:
    """One message to applicants: an English msgid, said in the applicant's language with its placeholders."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, *, language: str, **params: str) -> str:
        return say(language, self.message, **params)


def reply_choices(language: str) -> str:
    """How to answer the confirmation on WhatsApp, as every WhatsApp text that asks for an answer says it."""
    return say(language, N_("Reply 1 to confirm, 2 to change the date, 3 to cancel."))


# The SMS sent right after a request is received.
receipt_sms = Text(N_("Request {tracking_number} received. Track it: {status_url}"))


# Asks the applicant for what the audit desk found missing (the desk's words, not the request's).
needs_information_sms = Text(N_("Request {tracking_number} needs more information: {missing}. Details: {status_url}"))


# The audit desk cannot accept the request; its reason is for the applicant.
rejected_sms = Text(N_("Request {tracking_number} cannot be accepted: {reason}. Details: {status_url}"))


# Tells the applicant a repeated request was joined to the first one; nothing they wrote is lost.
merged_sms = Text(
    N_(
        "Request {tracking_number} repeats request {original_number}; they are now one, "
        "and what you wrote is kept. Follow {original_number}: {status_url}"
    )
)


# Tells the applicant the audience's date and place; the confirmation request follows three days before.
scheduled_sms = Text(N_("Request {tracking_number} has an audience on {when} at {place}. Details: {status_url}"))


# Tells the applicant the audience will not take place then; a new date follows with its own message.
audience_cancelled_sms = Text(
    N_("The audience of request {tracking_number} on {when} is cancelled; a new date will follow. {status_url}")
)


# Tells the applicant the audience moved, with the new date and place: one message for a move (by hand, by the
# official's directive, or a cancelled session placed again at once), never a cancellation and then a new date.
# Kept within two Arabic SMS segments (134 characters) with the short date (majlis.dates.short_dual_datetime).
audience_moved_sms = Text(
    N_("Your audience for request {tracking_number} has moved to {when} at {place}. {status_url}")
)


# SMS cannot be answered in Saudi Arabia: it carries the link to answer on the portal, and the arrival code.
confirmation_sms = Text(
    N_(
        "Audience for request {tracking_number}: {when} at {place}. Arrival code: "
        "{arrival}. Confirm, change or cancel: {link}"
    )
)


def confirmation_whatsapp(
    *, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str
) -> str:
    """The free-form message inside the 24-hour window; outside it the approved template carries the same."""
    return say(
        language,
        N_(
            "Your audience for request {tracking_number} is on {when} at {place}. Your "
            "arrival code: {arrival}. {choices} Or answer here: {link}"
        ),
        tracking_number=tracking_number,
        when=when,
        place=place,
        link=link,
        arrival=arrival,
        choices=reply_choices(language),
    )


# What the voice call says; the keypad answers it.
confirmation_call = Text(
    N_(
        "Hello. This is the office of the open-door audience. Your audience for request "
        "{tracking_number} is on {when}, at {place}. To confirm, press 1. To change the "
        "date, press 2. To cancel, press 3."
    )
)


def confirmation_email(
    *, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str
) -> tuple[str, str]:
    """Subject and text of the e-mail that asks for confirmation (the invitation rides with it)."""
    return (
        say(
            language,
            N_("Please confirm your audience — request {tracking_number}"),
            tracking_number=tracking_number,
            when=when,
            place=place,
            link=link,
            arrival=arrival,
        ),
        say(
            language,
            N_(
                "Your audience for request {tracking_number} is on {when} at {place}.\n\nShow this "
                "arrival code at the reception centre's kiosk or desk: {arrival}\n\nPlease confirm "
                "it, or ask for another date, or cancel it, on this page:\n{link}\n"
            ),
            tracking_number=tracking_number,
            when=when,
            place=place,
            link=link,
            arrival=arrival,
        ),
    )


# The alt text of the arrival code's QR code in the confirmation e-mail.
arrival_code_alt = Text(N_("Arrival code {arrival}"))


def invitation_email(*, language: str, tracking_number: str, when: str, place: str, cancelled: bool) -> tuple[str, str]:
    """Subject and text of the e-mail carrying the calendar invitation (or its cancellation)."""
    if cancelled:
        return (
            say(language, N_("Audience cancelled — request {tracking_number}"), tracking_number=tracking_number),
            say(
                language,
                N_(
                    "The audience for request {tracking_number} on {when} will not take place. "
                    "A new date will follow.\n"
                ),
                tracking_number=tracking_number,
                when=when,
            ),
        )
    return (
        say(language, N_("Your audience — request {tracking_number}"), tracking_number=tracking_number),
        say(
            language,
            N_(
                "Your audience for request {tracking_number} is on {when} at {place}. "
                "The invitation is attached for your calendar.\n"
            ),
            tracking_number=tracking_number,
            when=when,
            place=place,
        ),
    )


# The calendar entry's title.
audience_summary = Text(N_("Open-door audience — request {tracking_number}"))


# Thanks the applicant for confirming the audience.
confirmed_sms = Text(N_("Thank you: the audience of request {tracking_number} on {when} is confirmed. {status_url}"))


# The applicant asked for another date: the old one is freed and a new one follows.
rescheduling_sms = Text(
    N_(
        "As you asked, the audience of request {tracking_number} on {when} is freed; a "
        "new date will follow. {status_url}"
    )
)


# The request went to the competent department.
referred_sms = Text(
    N_("Request {tracking_number} has been referred to the competent department. Follow it: {status_url}")
)


# The request is done; the applicant is asked to rate the service, by a signed link usable once (quality/invites.py).
completed_sms = Text(N_("Request {tracking_number} is complete. Thank you. Rate our service: {rating_link}"))

# After an audience (in person or by video): the applicant is asked to rate it, by SMS or WhatsApp.
rate_audience_sms = Text(
    N_("Thank you for attending the audience of request {tracking_number}. Rate it: {rating_link}")
)


# The applicant missed the audience; the request waits again once, keeping its place by priority.
no_show_sms = Text(
    N_(
        "We missed you at the audience of request {tracking_number} on {when}. Your "
        "request keeps its priority and a new date will follow. {status_url}"
    )
)


# A second audience missed: the request is closed; a new request can always be made.
no_show_closed_sms = Text(
    N_(
        "Request {tracking_number} is closed: its audience on {when} was missed a second "
        "time. You are welcome to submit a new request. {status_url}"
    )
)


# The applicant came but the session ended before the official reached them: owed a new date now.
not_reached_sms = Text(
    N_(
        "We are sorry the audience of request {tracking_number} on {when} ended before "
        "your turn. A new date will follow shortly. {status_url}"
    )
)


# After the audience the request could not be accepted; the official's directive stays with staff.
audience_rejected_sms = Text(
    N_("After the audience, request {tracking_number} could not be accepted. Details: {status_url}")
)


# After the audience the official asked for the request to be studied.
under_study_sms = Text(
    N_("After the audience, request {tracking_number} is being studied as the official directed. {status_url}")
)
