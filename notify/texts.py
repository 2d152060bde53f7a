"""Message texts to applicants, in their language, from the Babel catalogs (English msgids, Arabic in
web/translations).

Bodies never carry the request's text (privacy): only the tracking number,
dates, places and a link. An Arabic SMS segment holds 70 characters, so the
receipt is kept short; the registered sender name (MAJLIS) says who writes, so
the bodies do not repeat it.
"""

from __future__ import annotations

from majlis.errors import N_
from majlis.i18n import shipped_catalogs

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


def say(language: str, message: str, **params: str) -> str:
    """The message (an English msgid) in the applicant's language, placeholders filled."""
    return shipped_catalogs().gettext(language, message, **params)


def reply_choices(language: str) -> str:
    """How to answer the confirmation on WhatsApp, as every WhatsApp text that asks for an answer says it."""
    return say(language, N_("Reply 1 to confirm, 2 to change the date, 3 to cancel."))


def receipt_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """The SMS sent right after a request is received."""
    return say(
        language,
        N_("Request {tracking_number} received. Track it: {status_url}"),
        tracking_number=tracking_number,
        status_url=status_url,
    )


def needs_information_sms(*, language: str, tracking_number: str, missing: str, status_url: str) -> str:
    """Asks the applicant for what the audit desk found missing (the desk's words, not the request's)."""
    return say(
        language,
        N_("Request {tracking_number} needs more information: {missing}. Details: {status_url}"),
        tracking_number=tracking_number,
        missing=missing,
        status_url=status_url,
    )


def rejected_sms(*, language: str, tracking_number: str, reason: str, status_url: str) -> str:
    """The audit desk cannot accept the request; its reason is for the applicant."""
    return say(
        language,
        N_("Request {tracking_number} cannot be accepted: {reason}. Details: {status_url}"),
        tracking_number=tracking_number,
        reason=reason,
        status_url=status_url,
    )


def merged_sms(*, language: str, tracking_number: str, original_number: str, status_url: str) -> str:
    """Tells the applicant a repeated request was joined to the first one; nothing they wrote is lost."""
    return say(
        language,
        N_(
            "Request {tracking_number} repeats request {original_number}; they are now one, "
            "and what you wrote is kept. Follow {original_number}: {status_url}"
        ),
        tracking_number=tracking_number,
        original_number=original_number,
        status_url=status_url,
    )


def scheduled_sms(*, language: str, tracking_number: str, when: str, place: str, status_url: str) -> str:
    """Tells the applicant the audience's date and place; the confirmation request follows three days before."""
    return say(
        language,
        N_("Request {tracking_number} has an audience on {when} at {place}. Details: {status_url}"),
        tracking_number=tracking_number,
        when=when,
        place=place,
        status_url=status_url,
    )


def audience_cancelled_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """Tells the applicant the audience will not take place then; a new date follows with its own message."""
    return say(
        language,
        N_("The audience of request {tracking_number} on {when} is cancelled; a new date will follow. {status_url}"),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def audience_moved_sms(*, language: str, tracking_number: str, when: str, place: str, status_url: str) -> str:
    """Tells the applicant the audience moved, with the new date and place."""
    return say(
        language,
        N_("The audience of request {tracking_number} has moved to {when} at {place}. {status_url}"),
        tracking_number=tracking_number,
        when=when,
        place=place,
        status_url=status_url,
    )


def confirmation_sms(*, language: str, tracking_number: str, when: str, place: str, link: str, arrival: str) -> str:
    """SMS cannot be answered in Saudi Arabia: it carries the link to answer on the portal, and the arrival code."""
    return say(
        language,
        N_(
            "Audience for request {tracking_number}: {when} at {place}. Arrival code: "
            "{arrival}. Confirm, change or cancel: {link}"
        ),
        tracking_number=tracking_number,
        when=when,
        place=place,
        link=link,
        arrival=arrival,
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


def confirmation_call(*, language: str, tracking_number: str, when: str, place: str) -> str:
    """What the voice call says; the keypad answers it."""
    return say(
        language,
        N_(
            "Hello. This is the office of the open-door audience. Your audience for request "
            "{tracking_number} is on {when}, at {place}. To confirm, press 1. To change the "
            "date, press 2. To cancel, press 3."
        ),
        tracking_number=tracking_number,
        when=when,
        place=place,
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


def audience_summary(*, language: str, tracking_number: str) -> str:
    """The calendar entry's title."""
    return say(language, N_("Open-door audience — request {tracking_number}"), tracking_number=tracking_number)


def confirmed_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """Thanks the applicant for confirming the audience."""
    return say(
        language,
        N_("Thank you: the audience of request {tracking_number} on {when} is confirmed. {status_url}"),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def rescheduling_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant asked for another date: the old one is freed and a new one follows."""
    return say(
        language,
        N_(
            "As you asked, the audience of request {tracking_number} on {when} is freed; a "
            "new date will follow. {status_url}"
        ),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def referred_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """The request went to the competent department."""
    return say(
        language,
        N_("Request {tracking_number} has been referred to the competent department. Follow it: {status_url}"),
        tracking_number=tracking_number,
        status_url=status_url,
    )


def completed_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """The request is done; the applicant is asked to rate the service."""
    return say(
        language,
        N_("Request {tracking_number} is complete. Thank you. Rate our service: {status_url}"),
        tracking_number=tracking_number,
        status_url=status_url,
    )


def no_show_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant missed the audience; the request waits again once, keeping its place by priority."""
    return say(
        language,
        N_(
            "We missed you at the audience of request {tracking_number} on {when}. Your "
            "request keeps its priority and a new date will follow. {status_url}"
        ),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def no_show_closed_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """A second audience missed: the request is closed; a new request can always be made."""
    return say(
        language,
        N_(
            "Request {tracking_number} is closed: its audience on {when} was missed a second "
            "time. You are welcome to submit a new request. {status_url}"
        ),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def not_reached_sms(*, language: str, tracking_number: str, when: str, status_url: str) -> str:
    """The applicant came but the session ended before the official reached them: owed a new date now."""
    return say(
        language,
        N_(
            "We are sorry the audience of request {tracking_number} on {when} ended before "
            "your turn. A new date will follow shortly. {status_url}"
        ),
        tracking_number=tracking_number,
        when=when,
        status_url=status_url,
    )


def audience_rejected_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """After the audience the request could not be accepted; the official's directive stays with staff."""
    return say(
        language,
        N_("After the audience, request {tracking_number} could not be accepted. Details: {status_url}"),
        tracking_number=tracking_number,
        status_url=status_url,
    )


def under_study_sms(*, language: str, tracking_number: str, status_url: str) -> str:
    """After the audience the official asked for the request to be studied."""
    return say(
        language,
        N_("After the audience, request {tracking_number} is being studied as the official directed. {status_url}"),
        tracking_number=tracking_number,
        status_url=status_url,
    )
