"""What Majlis answers to a reply, on WhatsApp or at the end of the call, in the applicant's language
(English msgids here, the Arabic in the catalogs).

Like every message text they carry no request text; the voice texts carry no
address (nobody can type a URL they heard).
"""

from __future__ import annotations

import enum

from majlis.errors import N_
from notify.texts import reply_choices
from notify.texts import say as _say


class Understood(enum.StrEnum):
    """What Majlis made of a reply (`InboundMessage.understood_as`)."""

    CONFIRMED = "confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    # An answer, but no confirmation awaits one from this number.
    UNMATCHED = "unmatched"
    # Not an answer Majlis knows.
    UNPARSED = "unparsed"
    # An answer the timeline refused (the appointment changed or its time passed meanwhile).
    REFUSED = "refused"
    # An answer from a number with more than one audience awaiting one: which is meant cannot be told.
    AMBIGUOUS = "ambiguous"


_WHATSAPP: dict[Understood, str] = {
    Understood.AMBIGUOUS: N_(
        "More than one of your audiences awaits an answer: please answer from the link in each request's "
        "message. Follow them: {status_url}"
    ),
    Understood.CONFIRMED: N_("Thank you: your audience for request {number} is confirmed."),
    Understood.RESCHEDULED: N_(
        "As you asked, the date of request {number} is freed; the new date will be sent to you by SMS."
    ),
    Understood.CANCELLED: N_(
        "As you asked, the audience of request {number} is cancelled; your request continues in writing. "
        "Follow it: {status_url}"
    ),
    Understood.OPTED_OUT: N_(
        "You will no longer receive WhatsApp messages from us. To receive them again, send START."
    ),
    Understood.OPTED_IN: N_("You will receive our WhatsApp messages again."),
    Understood.UNMATCHED: N_("No audience is awaiting your answer from this number. Follow your request: {status_url}"),
    Understood.UNPARSED: N_("We did not understand your reply. {choices}"),
    Understood.REFUSED: N_("This appointment has changed or its time has passed; see our latest message. {status_url}"),
}

_VOICE: dict[Understood, str] = {
    Understood.CONFIRMED: N_("Thank you. Your audience is confirmed. Goodbye."),
    Understood.RESCHEDULED: N_(
        "As you asked, this date is freed; the new date will be sent to you by text message. Goodbye."
    ),
    Understood.CANCELLED: N_("As you asked, the audience is cancelled; your request continues in writing. Goodbye."),
    Understood.UNPARSED: N_(
        "We did not recognise your choice. We will contact you; you can also answer with the link "
        "in our text message. Goodbye."
    ),
    Understood.REFUSED: N_(
        "This appointment has changed or its time has passed. Please see our latest message. Goodbye."
    ),
}

# Said when the keypad answer arrives after the audience began (the link has expired).
AUDIENCE_PASSED = N_("The time of this audience has passed. Goodbye.")


def audience_passed(language: str) -> str:
    return _say(language, AUDIENCE_PASSED)


def reply_text(
    *, channel: str, understood: Understood, language: str | None, number: str = "", status_url: str = ""
) -> str:
    """The answer to a reply; with no known language, Arabic then English (WhatsApp) or Arabic (voice)."""
    texts = _VOICE if channel == "voice" else _WHATSAPP
    message = texts.get(understood) or texts[Understood.UNPARSED]
    if understood is Understood.UNPARSED and channel == "whatsapp" and not number:
        # Nothing awaits an answer from this number: the 1/2/3 choices would mislead.
        message = texts[Understood.UNMATCHED]

    def said(lang: str) -> str:
        return _say(lang, message, number=number, status_url=status_url, choices=reply_choices(lang))

    if language in ("ar", "en"):
        return said(language)
    if channel == "voice":
        return said("ar")
    return "\n".join(said(lang) for lang in ("ar", "en"))
