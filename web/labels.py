"""The names people read for the values Majlis stores."""

from __future__ import annotations

from collections.abc import Mapping

from accounts.roles import Role
from audience_day.models import Outcome
from cases.identity import ApplicantKind
from cases.models import CaseStatus, Channel, Gender, Language, RequestKind
from emergency.models import MissionKind, ReportEventKind, ReportState, ReportType, Severity
from followup.models import ContactRole
from followup.policies import DurationUnit
from majlis.errors import N_
from priority.models import ChangedField, ChangeReason, Route
from priority.score import Urgency
from quality.models import ReviewAction, Visit
from rooms.models import RoomKind

APPLICANT_KINDS: Mapping[str, str] = {
    ApplicantKind.CITIZEN: N_("Citizen (national ID)"),
    ApplicantKind.RESIDENT: N_("Resident (iqama)"),
    ApplicantKind.COMPANY: N_("Company (commercial registration)"),
}
GENDERS: Mapping[str, str] = {Gender.MALE: N_("Male"), Gender.FEMALE: N_("Female")}
LANGUAGES: Mapping[str, str] = {Language.AR: "العربية", Language.EN: "English"}
REQUEST_KINDS: Mapping[str, str] = {
    RequestKind.AUDIENCE_IN_PERSON: N_("Audience in person"),
    RequestKind.AUDIENCE_VIDEO: N_("Audience by video"),
    RequestKind.PETITION: N_("Written petition"),
    RequestKind.COMPLAINT: N_("Complaint"),
    RequestKind.SUGGESTION: N_("Suggestion"),
    RequestKind.ENQUIRY: N_("Enquiry"),
}
CHANNELS: Mapping[str, str] = {
    Channel.PORTAL: N_("Portal"),
    Channel.WALK_IN: N_("Walk-in at the desk"),
    Channel.CALL_CENTRE: N_("Call centre"),
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.EMAIL: N_("E-mail"),
}
# The channels a desk can record; the portal records itself.
DESK_CHANNELS = (Channel.WALK_IN, Channel.CALL_CENTRE, Channel.WHATSAPP, Channel.EMAIL)
SPECIAL_CARE: Mapping[str, str] = {
    "elderly": N_("Elderly"),
    "wheelchair": N_("Wheelchair user"),
    "transport": N_("Needs transport between halls"),
    "interpreter": N_("Needs an interpreter"),
}
STATUSES: Mapping[str, str] = {
    CaseStatus.RECEIVED: N_("Received"),
    CaseStatus.NEEDS_INFORMATION: N_("Needs information"),
    CaseStatus.AWAITING_AUDIENCE: N_("Awaiting an audience"),
    CaseStatus.SCHEDULED: N_("Audience scheduled"),
    CaseStatus.CONFIRMED: N_("Audience confirmed"),
    CaseStatus.REFERRED: N_("Referred to a department"),
    CaseStatus.COMPLETED: N_("Completed"),
    CaseStatus.REJECTED: N_("Rejected"),
    CaseStatus.DUPLICATE: N_("Closed as a duplicate"),
    CaseStatus.UNDER_STUDY: N_("Under study on the official's instruction"),
    CaseStatus.CLOSED_NO_SHOW: N_("Closed: two audiences missed"),
}
ROLES: Mapping[str, str] = {
    Role.INTAKE_DESK: N_("Intake desk"),
    Role.CALL_CENTRE: N_("Call centre"),
    Role.AUDIT_DESK: N_("Audit desk"),
    Role.PROTOCOL: N_("Protocol"),
    Role.WOMEN_SECTION: N_("Women's section"),
    Role.OFFICIAL: N_("The official"),
    Role.FOLLOW_UP: N_("Follow-up"),
    Role.MANAGER: N_("Manager"),
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.DEPARTMENT_LIAISON: N_("Department liaison"),
    Role.WHATSAPP_DESK: N_("WhatsApp desk"),
    Role.EMERGENCY_AGENT: N_("Emergency line agent"),
    Role.MISSION_STAFF: N_("Mission staff"),
    Role.CONSULAR_SUPERVISOR: N_("Consular supervisor"),
    Role.AUDITOR: N_("Auditor"),
}
URGENCIES: Mapping[str, str] = {
    Urgency.CRITICAL: N_("Critical"),
    Urgency.URGENT: N_("Urgent"),
    Urgency.NORMAL: N_("Normal"),
}
ROUTES: Mapping[str, str] = {
    Route.AUDIENCE_IN_PERSON: N_("Audience in person"),
    Route.AUDIENCE_VIDEO: N_("Audience by video"),
    Route.WRITTEN_REFERRAL: N_("Written referral to a department"),
}
CHANGE_REASONS: Mapping[str, str] = {
    ChangeReason.VERIFIED_EVIDENCE: N_("Evidence verified"),
    ChangeReason.CORRECTED_ERROR: N_("Correcting an error"),
    ChangeReason.NEW_INFORMATION: N_("New information from the applicant"),
    ChangeReason.HEALTH_OR_SAFETY: N_("Risk to health or safety"),
    ChangeReason.LEGAL_DEADLINE: N_("Legal deadline"),
    ChangeReason.OFFICIAL_DIRECTIVE: N_("Directive of the official"),
    # Never chosen by staff: the WhatsApp desk's rule (whatsapp_desk/repeats.py).
    ChangeReason.REPEATED_REQUEST: N_("Repeats an open request of the same applicant"),
}
CHANGED_FIELDS: Mapping[str, str] = {
    ChangedField.CATEGORY: N_("Category"),
    ChangedField.URGENCY: N_("Urgency"),
    ChangedField.ROUTE: N_("Route"),
    ChangedField.QUEUE_POSITION: N_("Queue position"),
    ChangedField.APPOINTMENT: N_("Appointment"),
    ChangedField.DUPLICATE: N_("Cancelled as a repeat"),
}
WAITING_GROUPS: Mapping[str, str] = {
    "urgency": N_("Urgency"),
    "category": N_("Category"),
    "gender": N_("Gender"),
    "applicant_kind": N_("Applicant type"),
    "channel": N_("Channel"),
    "branch": N_("Branch"),
}
ROOM_KINDS: Mapping[str, str] = {
    RoomKind.AUDIENCE_HALL: N_("Audience hall"),
    RoomKind.WOMEN_VIDEO: N_("Women's-section video room"),
    RoomKind.MEN_VIDEO: N_("Men's video room"),
    RoomKind.OFFICIAL_OFFICE: N_("The official's office"),
}
OUTCOMES: Mapping[str, str] = {
    Outcome.ANSWERED: N_("Answered"),
    Outcome.REFERRED: N_("Refer to a department"),
    Outcome.REJECTED: N_("Rejected"),
    Outcome.NEEDS_STUDY: N_("Needs study"),
}
CONTACT_ROLES: Mapping[str, str] = {
    ContactRole.HEAD: N_("Head"),
    ContactRole.DEPUTY: N_("Deputy"),
    ContactRole.LIAISON: N_("Liaison officer"),
}
DURATION_UNITS: Mapping[str, str] = {DurationUnit.HOURS: N_("Hours"), DurationUnit.WORKING_DAYS: N_("Working days")}
# Python's weekday numbers, in the order of the week here: Sunday first.
WEEKDAYS: Mapping[int, str] = {
    6: N_("Sunday"),
    0: N_("Monday"),
    1: N_("Tuesday"),
    2: N_("Wednesday"),
    3: N_("Thursday"),
    4: N_("Friday"),
    5: N_("Saturday"),
}
# The emergency line for citizens abroad (emergency/).
REPORT_TYPES: Mapping[str, str] = {
    ReportType.ARREST: N_("Arrest or detention"),
    ReportType.ACCIDENT: N_("Accident or hospital"),
    ReportType.LOST_PASSPORT: N_("Lost passport"),
    ReportType.DEATH: N_("Death"),
    ReportType.VIOLENCE: N_("Violence or abuse"),
    ReportType.DISASTER: N_("Disaster or evacuation"),
    ReportType.FINANCIAL: N_("Financial distress"),
    ReportType.OTHER: N_("Other emergency"),
}
SEVERITIES: Mapping[str, str] = {
    Severity.LIFE_THREATENING: N_("Life-threatening"),
    Severity.URGENT: N_("Urgent"),
    Severity.NORMAL: N_("Normal"),
}
REPORT_STATES: Mapping[str, str] = {
    ReportState.OPEN: N_("Awaiting acknowledgement"),
    ReportState.ACKNOWLEDGED: N_("Acknowledged by the mission"),
    ReportState.SOLVED: N_("Solved"),
    ReportState.HANDED_OVER: N_("Handed over to another authority"),
}
REPORT_EVENTS: Mapping[str, str] = {
    ReportEventKind.REGISTERED: N_("Report registered"),
    ReportEventKind.ALERTED: N_("Duty officer alerted"),
    ReportEventKind.ACKNOWLEDGED: N_("Acknowledged by the mission"),
    ReportEventKind.UPDATE: N_("News on the report"),
    ReportEventKind.ESCALATED: N_("Escalated to a higher rank"),
    ReportEventKind.REASSIGNED: N_("Sent to another mission"),
    ReportEventKind.SOLVED: N_("Solved"),
    ReportEventKind.HANDED_OVER: N_("Handed over to another authority"),
    ReportEventKind.CITIZEN_TOLD: N_("The citizen was told"),
}
MISSION_KINDS: Mapping[str, str] = {
    MissionKind.EMBASSY: N_("Embassy"),
    MissionKind.CONSULATE: N_("Consulate"),
    MissionKind.CENTRAL_DESK: N_("The ministry's central consular desk"),
}
# How a placement in the fairness chain got its seat (fairness/explain.py's rule).
PLACEMENT_RULES: Mapping[str, str] = {
    "allocation_run": N_("The weekly allocation, in priority order"),
    "urgent_on_routing": N_("Urgent, placed on routing"),
    "urgent_after_no_show": N_("Urgent, placed again at once after a missed audience"),
    "displacement_refill": N_("Placed again after giving up its seat to a critical request"),
    "backfill": N_("A freed seat given to the next in line"),
    "by_hand": N_("Placed by hand"),
    "directive": N_("On the official's directive"),
    "move": N_("Moved by hand"),
    "session_cancelled": N_("Placed again after its session was cancelled"),
    "not_reached": N_("Placed again after it came and was not reached"),
    "rescheduled": N_("Placed again in priority order after the applicant asked for another date"),
    "demo": N_("Demonstration data"),
}
# What allows a placement to pass an older request (fairness/explain.py's Justification.by).
PASS_JUSTIFICATIONS: Mapping[str, str] = {
    "raised": N_("A recorded change raised this request"),
    "lowered": N_("A recorded change lowered the request passed"),
    "by_hand": N_("A seat chosen by hand or on the official's directive"),
    "one_appointment": N_("The request passed already held an appointment"),
    "directive": N_("On the official's directive"),
    "session_cancelled": N_("Owed a new date: its session was cancelled"),
    "not_reached": N_("Owed a new date: it came and was not reached"),
}

# Service quality (issue 19). The faces as the applicant chooses them and staff read them, 1 to 5; drawn by
# web/templates/_face.html. The visits as staff name them (the rating pages address the applicant instead).
FACES: Mapping[int, str] = {
    1: N_("Very dissatisfied"),
    2: N_("Dissatisfied"),
    3: N_("Neutral"),
    4: N_("Satisfied"),
    5: N_("Very satisfied"),
}
VISITS: Mapping[str, str] = {
    Visit.INTAKE: N_("Request taken at the desk"),
    Visit.CHECK_IN: N_("Arrival checked in"),
    Visit.AUDIENCE: N_("Audience"),
    Visit.COMPLETION: N_("Request completed"),
}
REVIEW_ACTIONS: Mapping[str, str] = {
    ReviewAction.COACHING: N_("Coaching"),
    ReviewAction.NO_FAULT: N_("No fault"),
    ReviewAction.PROCESS_CHANGE: N_("Process change"),
}
