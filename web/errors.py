"""Turning domain errors into words for the reader, on pages and in the API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from cases.identity_review import ApplicantChangeNotFound, IdentityFlagNotFound
from followup.referrals import ReferralNotFound
from majlis.errors import N_, DomainError, FieldError, field_errors
from web.api_models import ErrorOut, FieldProblem
from web.i18n import LANGUAGES, Catalogs
from web.keys import CATALOGS, LANGUAGE
from whatsapp_desk.inbox import ConversationNotFound

# The API modules' name for majlis.errors.field_errors.
pydantic_errors = field_errors

# The names people read for each field path.
FIELD_LABELS: Mapping[str, str] = {
    "applicant": N_("Applicant"),
    "applicant.kind": N_("Applicant type"),
    "applicant.id_number": N_("ID number"),
    "applicant.national_id": N_("National ID"),
    "applicant.iqama": N_("Iqama number"),
    "applicant.cr_number": N_("Commercial registration number"),
    "applicant.name": N_("Full name"),
    "applicant.gender": N_("Gender"),
    "applicant.phone": N_("Mobile number"),
    "applicant.email": N_("E-mail"),
    "applicant.language": N_("Preferred language"),
    "applicant.special_care": N_("Special care"),
    "kind": N_("Request type"),
    "subject": N_("Subject"),
    "text": N_("Request text"),
    "branch": N_("Branch"),
    "channel": N_("Channel"),
    "username": N_("Username"),
    "full_name": N_("Full name"),
    "role": N_("Role"),
    "gender": N_("Gender"),
    "password": N_("Password"),
    "body": N_("Request body"),
    "category": N_("Category"),
    "urgency": N_("Urgency"),
    "route": N_("Route"),
    "change_reason": N_("Reason for a manual change"),
    "change_text": N_("Explanation"),
    "missing": N_("What is missing"),
    "reason": N_("Reason"),
    "points": N_("Points"),
    "into": N_("Request to merge into"),
    "code": N_("Code"),
    "name": N_("Name"),
    "capacity": N_("Capacity"),
    "room_kind": N_("Kind of room"),
    "equipment": N_("Equipment"),
    "weekday": N_("Day"),
    "starts": N_("Starts"),
    "ends": N_("Ends"),
    "slot_minutes": N_("Slot (minutes)"),
    "mode": N_("Kind of audience"),
    "rooms": N_("Rooms"),
    "room": N_("Room"),
    "staff": N_("Staff"),
    "day": N_("Date"),
    "to_slot": N_("Slot"),
    "tracking_number": N_("Tracking number"),
    "template": N_("Template"),
    "days": N_("Dates the applicant cannot come"),
    "name_ar": N_("Name in Arabic"),
    "name_en": N_("Name in English"),
    "weight": N_("Weight"),
    "implied_urgency": N_("Implied urgency"),
    "appointment_id": N_("Appointment"),
    "arrival_code": N_("Arrival code"),
    "phone_last4": N_("Last 4 digits of the phone"),
    "current_id": N_("Audience before the official now"),
    "outcome": N_("Outcome"),
    "directive": N_("Directive"),
    "referred_to": N_("Departments (for a referral)"),
    # The audit desk's written referral (web/triage_actions.py).
    "referral_text": N_("Referral text"),
    # The follow-up team's list and actions (web/followup_pages.py, web/followup_api.py).
    "departments": N_("Departments"),
    "state": N_("Stage"),
    "note": N_("Note"),
    "amount": N_("Extension"),
    "unit": N_("Unit"),
    "confirm": N_("Confirmation"),
    # The applicant's answer to what was asked of them (web/applicant_answers.py, web/answers_api.py).
    "question": N_("Question to the applicant"),
    "question_id": N_("Question"),
    "answer": N_("Your answer"),
    "files": N_("Files"),
    "phone": N_("Mobile number"),
    # The directory of departments, their working calendars and service-level policies (web/followup_*.py).
    "parent": N_("Parent department"),
    "calendar": N_("Working calendar"),
    "email": N_("E-mail"),
    "language": N_("Preferred language"),
    "active": N_("Active"),
    "department": N_("Department"),
    "time_zone": N_("Time zone"),
    # A reception centre (web/admin_branches.py).
    "address_ar": N_("Address in Arabic"),
    "address_en": N_("Address in English"),
    "official_calendar_url": N_("Official's calendar address"),
    "always_open": N_("Open round the clock"),
    "hours": N_("Working hours"),
    "opens": N_("Opens"),
    "closes": N_("Closes"),
    "category_code": N_("Category"),
    "first_response_amount": N_("First response"),
    "first_response_unit": N_("Unit of the first response"),
    "update_amount": N_("Updates every"),
    "update_unit": N_("Unit of the updates"),
    "solution_amount": N_("Solution"),
    "solution_unit": N_("Unit of the solution"),
    "round_the_clock": N_("Escalate round the clock"),
    "percent_of_solution": N_("Share of the solution time (%)"),
    "extra_amount": N_("Extra time"),
    "extra_unit": N_("Unit of the extra time"),
    "rank": N_("Ranks up"),
    "contact_role": N_("Whom it tells"),
    # The WhatsApp desk's inbox (web/whatsapp_inbox.py, web/whatsapp_inbox_api.py).
    "message": N_("Message"),
    "staff_id": N_("Member of staff"),
    # The emergency line's missions directory and duty rosters (emergency/directory.py, emergency/roster.py).
    "country": N_("Country"),
    "city": N_("City"),
    "mission": N_("Mission"),
    "head_name": N_("Head of mission"),
    "head_email": N_("E-mail of the head of mission"),
    "head_phone": N_("Mobile of the head of mission"),
    "live": N_("On the emergency line"),
    "officer_name": N_("Duty officer"),
    "languages": N_("Languages"),
    "city_ar": N_("City in Arabic"),
    "city_en": N_("City in English"),
    # An emergency report as the agent registers it (emergency/intake.py).
    "national_id": N_("National ID"),
    "caller_name": N_("Caller's name"),
    "type": N_("Type of emergency"),
    "severity": N_("Severity"),
    "account": N_("The caller's account"),
    # Steps on an emergency report (web/emergency_actions.py, web/emergency_link.py): who took it (the duty
    # officer's name through the link), how it ended, the mission it is sent to.
    "by": N_("Your name"),
    "ending": N_("How the report ends"),
    "mission_id": N_("Mission"),
    # The daily review of ratings and its list of causes (quality/review.py, quality/causes.py).
    "cause": N_("Cause"),
    "action": N_("Action"),
    "direction": N_("Direction"),
}
# Rows of a list (an escalation ladder's levels, a week's hours) are named "<list>.<n>.<field>", counting from 1.
_ROW = re.compile(r"(?P<rows>\w+)\.(?P<number>[0-9]+)\.(?P<field>\w+)")
ROW_LABELS: Mapping[str, str] = {
    "levels": N_("Level {number}: {field}"),
    "hours": N_("Working hours, row {number}: {field}"),
}


def field_label(catalogs: Catalogs, language: str, field: str) -> str:
    label = FIELD_LABELS.get(field)
    if label:
        return catalogs.gettext(language, label)
    row = _ROW.fullmatch(field)
    if row and row["rows"] in ROW_LABELS:
        inner = field_label(catalogs, language, row["field"])
        return catalogs.gettext(language, ROW_LABELS[row["rows"]], number=row["number"], field=inner)
    return field


def field_message(catalogs: Catalogs, language: str, error: FieldError) -> str:
    return catalogs.gettext(language, error.message, field=field_label(catalogs, language, error.field), **error.params)


def domain_message(catalogs: Catalogs, language: str, error: DomainError) -> str:
    return catalogs.gettext(language, error.message, **error.params)


def bilingual(catalogs: Catalogs, message: str, **params: Any) -> dict[str, str]:
    """The message in every language Majlis speaks."""
    return {language: catalogs.gettext(language, message, **params) for language in LANGUAGES}


def invalid_input(request: web.Request, errors: list[FieldError]) -> web.Response:
    """422 with every field named, in the client's language and in both."""
    catalogs = request.app[CATALOGS]
    language = request[LANGUAGE]
    problems = []
    seen: set[str] = set()
    for error in errors:
        if error.field in seen:
            continue
        seen.add(error.field)
        messages = {
            lang: catalogs.gettext(lang, error.message, field=field_label(catalogs, lang, error.field), **error.params)
            for lang in ("ar", "en")
        }
        problems.append(FieldProblem(field=error.field, code=error.code, message=messages[language], messages=messages))
    summary = bilingual(catalogs, N_("Some fields are not valid; nothing was saved."))
    body = ErrorOut(error="invalid_input", message=summary[language], messages=summary, fields=problems)
    return web.json_response(body.model_dump(mode="json"), status=422)


# Every refusal of the domain in HTTP, in one place (each API used to keep its own table, with different answers
# for the same refusal).
#   404: what the request names is not there (a kind below, or a code ending in _not_found);
#   422: refusals that ask for different input rather than break a rule of the state (the audience day's
#        phone digits, directive and departments; a merge into the request itself or another applicant's);
#   409: any other refusal, by the state of what it acts on (decided, closed, moved on, already done).
# Input that is wrong field by field is InvalidInput (invalid_input above), not a refusal.
_NOT_THERE_KINDS = (ReferralNotFound, ConversationNotFound, IdentityFlagNotFound, ApplicantChangeNotFound)
_NOT_THERE_CODES = frozenset({"no_appointment", "no_session", "no_audience"})
_INPUT_CODES = frozenset(
    {
        "bad_phone_digits",
        "directive_missing",
        "departments_missing",
        "merge_into_itself",
        "not_same_applicant",
        "idempotency_key_reused",
    }
)


def refusal_status(exc: DomainError) -> int:
    """The HTTP status of a domain refusal."""
    if isinstance(exc, _NOT_THERE_KINDS) or exc.code.endswith("_not_found") or exc.code in _NOT_THERE_CODES:
        return 404
    if exc.code in _INPUT_CODES:
        return 422
    return 409


def refusal(request: web.Request, exc: DomainError) -> web.Response:
    """A domain refusal as the API answers it: its code, its message in the client's language and in both."""
    messages = bilingual(request.app[CATALOGS], exc.message, **exc.params)
    body = ErrorOut(error=exc.code, message=messages[request[LANGUAGE]], messages=messages)
    return web.json_response(body.model_dump(mode="json"), status=refusal_status(exc))
