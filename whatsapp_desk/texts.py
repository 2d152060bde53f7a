"""What the WhatsApp desk says, in the conversation's language (English msgids here, the Arabic in the catalogs).

Numbers, tracking numbers and addresses sit between Unicode isolates (U+2066 … U+2069) so that they keep their
left-to-right order inside an Arabic sentence. Like every message to applicants, the bot never repeats what
someone else wrote about a request: the summary shows only what this sender typed in this conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from majlis.errors import N_
from majlis.i18n import other_language
from notify.texts import say

# The WhatsApp desk's own wording of the choices (the same msgids as the forms where the words are the same).
KIND_LABELS = {
    "audience_in_person": N_("Audience in person"),
    "audience_video": N_("Audience by video"),
    "petition": N_("Written petition"),
    "complaint": N_("Complaint"),
    "suggestion": N_("Suggestion"),
    "enquiry": N_("Enquiry"),
}
GENDER_LABELS = {"male": N_("Male"), "female": N_("Female")}

MENU_NEW_REQUEST = N_("A new request")
MENU_COMPLAINT = N_("A complaint")
MENU_FOLLOW = N_("Follow a request")
MENU_STAFF = N_("Talk to a member of staff")

GREETING = N_("Welcome to the open-door audience office on WhatsApp. How may we help you?")
MENU = N_("Please reply with the number of your choice:")
# Shown in the *other* language, so that each reader finds the word that switches to their own.
SWITCH_HINT = N_("Send “English” to continue in English.")
CONTROLS_HINT = N_("At any time, send “back” to return to the previous question, or “cancel” to stop.")

ASK_NAME = N_("Please send your full name as it appears on your ID.")
ASK_ID = N_("Please send your national ID number (it starts with 1) or your iqama number (it starts with 2).")
ASK_GENDER = N_("Please state your gender (on the audience day, women are received in the women's section):")
ASK_KIND = N_("What kind of request is it?")
ASK_BRANCH = N_("Which office should receive it?")
ASK_SUBJECT = N_("Please send the subject of your request in a few words (at most {max} characters).")
ASK_REQUEST_TEXT = N_("Please write your request in full (at most {max} characters).")
ASK_COMPLAINT_TEXT = N_("Please write your complaint in full (at most {max} characters).")
ASK_EVIDENCE = N_(
    "You may send photos or PDF files as evidence: up to {count} files, {max} MB each. "
    "When you have finished, or if you have none, send “done”."
)
EVIDENCE_RECEIVED = N_("Files received so far: {count}. Send more, or send “done”.")
SUMMARY = N_(
    "Please review your request:\n"
    "Name: {name}\n"
    "ID number: {id_number}\n"
    "Gender: {gender}\n"
    "Kind: {kind}\n"
    "Office: {branch}\n"
    "Subject: {subject}\n"
    "Text: {text}\n"
    "Files: {files}"
)
CONFIRM_CHOICES = N_("Reply 1 to send it, 2 to change an answer, or “cancel” to drop it.")
EDIT_WHICH = N_("Which answer would you like to change?")
EDIT_NAME = N_("Name")
EDIT_ID = N_("ID number")
EDIT_GENDER = N_("Gender")
EDIT_KIND = N_("Kind of request")
EDIT_BRANCH = N_("Office")
EDIT_SUBJECT = N_("Subject")
EDIT_TEXT = N_("Text")
EDIT_FILES = N_("Files")

NOT_UNDERSTOOD = N_("Sorry, we did not understand your answer.")
CHOOSE_A_NUMBER = N_("Please reply with one of the numbers shown.")
NAME_UNREADABLE = N_("Please write your full name in letters: at least two names, without numbers.")
NAME_TOO_LONG = N_("The name must be at most {max} characters.")
ID_LENGTH = N_("The number must be exactly 10 digits.")
ID_PREFIX = N_("A national ID number starts with 1 and an iqama number with 2.")
ID_CHECK_DIGIT = N_("This number is not valid: its check digit does not match. Please check it and send it again.")
TOO_LONG = N_("Your answer is longer than {max} characters; please shorten it.")
EMPTY_ANSWER = N_("Please answer in words.")
EVIDENCE_UNREADABLE = N_("Please send photos or PDF files, or send “done” to continue.")

MEDIA_UNREADABLE = N_("File {index} could not be received. Please send it again.")
MEDIA_TOO_LARGE = N_("File {index} is larger than {max} MB and was not kept.")
MEDIA_FILE_TYPE = N_("File {index} is not a PDF, JPEG or PNG file and was not kept.")
MEDIA_TOO_MANY = N_("File {index} was not kept: a request can keep at most {max} files.")
MEDIA_KEPT = N_("Your file has been kept and will be added to your request as evidence.")
MEDIA_NOT_NOW = N_("Files can be sent as evidence while you make a request or a complaint.")

SUBMITTED = N_(
    "Thank you. Your request has been received with tracking number {number}. We will keep you informed by "
    "SMS, and you can follow it here or at {status_url}"
)
REPEATED = N_(
    "This request ({number}) repeats your open request {original}, so it has been cancelled as a duplicate. "
    "Your earlier request continues; follow it here or at {status_url}"
)
PHONE_REFUSED = N_(
    "A request cannot be made from this WhatsApp number, because our messages about requests are sent by SMS to "
    "a Saudi mobile number. Please submit it at {portal_url}, or send 4 to talk to a member of staff."
)
CANCELLED = N_("As you asked, this has been cancelled and nothing was sent.")
FOLLOW_PROMPT = N_("To ask about one request, send its tracking number. Send “cancel” to return to the menu.")
FOLLOW_UNREADABLE = N_("This is not a tracking number. A tracking number looks like {example}.")
RESUME = N_(
    "Welcome back. You had started a request with us. Reply 1 to continue where you left off, or 2 to start over."
)
HANDED_OVER = N_("Thank you. A member of our staff will answer you here as soon as possible.")
HANDED_OVER_UNREADABLE = N_(
    "We could not understand your answers, so a member of our staff will continue with you here shortly."
)
HANDED_OVER_MEDIA = N_("We could not receive your files, so a member of our staff will continue with you here shortly.")
SLOW_DOWN = N_("You have sent many messages in a short time. Please wait a minute, then send your message again.")


def isolated(value: str) -> str:
    """The value between a left-to-right isolate and its closing mark: digits and addresses keep their order."""
    return f"\u2066{value}\u2069"


def text(language: str, message: str, **params: str) -> str:
    return say(language, message, **params)


def numbered(language: str, labels: Sequence[str]) -> str:
    """Numbered choices, one a line: "1. …"."""
    return "\n".join(f"{index}. {say(language, label)}" for index, label in enumerate(labels, start=1))


def menu(language: str) -> str:
    """The menu with its choices and the word that switches to the other language."""
    choices = numbered(language, (MENU_NEW_REQUEST, MENU_COMPLAINT, MENU_FOLLOW, MENU_STAFF))
    return f"{say(language, MENU)}\n{choices}\n\n{say(other_language(language), SWITCH_HINT)}"


def greeting(language: str) -> str:
    return f"{say(language, GREETING)}\n{menu(language)}"
