"""The OpenAPI 3.1 document of the API, built from the same pydantic models the API uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web import (
    calendar_api,
    department_api,
    emergency_api,
    emergency_calls_api,
    emergency_report,
    emergency_status,
    followup_api,
    followup_report,
    identity_api,
    repeat_cancellation,
    whatsapp_inbox_api,
)
from web import emergency_directory_api as missions_api
from web import followup_directory_models as directory_api
from web.answers_api import AnswerForm, AnswerOut, CodeIn, CodeSent
from web.api_models import (
    ID_LIMIT,
    ArrivalIn,
    ArrivalOut,
    CallNextIn,
    CallNextOut,
    DayReportOut,
    ErrorOut,
    HallSessionOut,
    Health,
    OutcomeIn,
    OutcomeOut,
    RequestCreated,
    RequestIn,
    RequestStatus,
)
from web.security import CSRF_HEADER, SESSION_COOKIE
from web.triage_api import (
    CategoryOut,
    ClassifyIn,
    DepartmentOut,
    DuplicateOut,
    MergeIn,
    MissingIn,
    MoveUpIn,
    QueuePlaceOut,
    RejectIn,
    RouteIn,
    SessionOut,
    TriageOut,
    UnavailableIn,
)

# The audit desk's actions: (path after /api/v1/triage/{tracking_number}/, body model, summary).
TRIAGE_ACTIONS = (
    ("verify", None, "Mark identity and completeness as checked"),
    ("classify", "ClassifyIn", "Set category and urgency (a manual change needs a reason)"),
    (
        "route",
        "RouteIn",
        "Route to an audience, or to a written referral to departments by code with the desk's text",
    ),
    ("move-up", "MoveUpIn", "Move up the queue by hand (always justified, in the fairness record)"),
    ("needs-information", "MissingIn", "Ask the applicant for what is missing"),
    ("reject", "RejectIn", "Reject, telling the applicant why"),
    ("merge", "MergeIn", "Close as a duplicate of another request"),
    ("unavailable-days", "UnavailableIn", "Set the dates the applicant cannot come (the allocation avoids them)"),
)
AUDIENCE_INPUTS: tuple[type[BaseModel], ...] = (ArrivalIn, CallNextIn, OutcomeIn)
AUDIENCE_OUTPUTS: tuple[type[BaseModel], ...] = (ArrivalOut, HallSessionOut, CallNextOut, OutcomeOut, DayReportOut)
STAFF_ONLY = "Audit desk and administrators only: the staff session cookie, and X-CSRF-Token on changes."


CALENDAR_ONLY = "Protocol and administrators only: the staff session cookie, and X-CSRF-Token on changes."
# Calendar operations that create what they are sent, answering 201 (web/calendar_api.py).
CALENDAR_CREATES = frozenset(
    {
        "/api/v1/calendar/rooms",
        "/api/v1/calendar/templates",
        "/api/v1/calendar/sessions",
        "/api/v1/calendar/holidays",
        "/api/v1/calendar/placements",
    }
)
# (method, path, body model or None, response model, list response, summary)
CALENDAR_OPERATIONS = (
    ("get", "/api/v1/calendar/rooms", None, "RoomOut", True, "Halls and video rooms"),
    ("post", "/api/v1/calendar/rooms", "RoomIn", "RoomOut", False, "Add a room"),
    ("post", "/api/v1/calendar/templates", "TemplateIn", "RunOut", False, "Add a weekly template (sessions follow)"),
    ("get", "/api/v1/calendar/sessions", None, "AudienceSessionOut", True, "Sessions with slots and appointments"),
    ("post", "/api/v1/calendar/sessions", "ExtraSessionIn", "RunOut", False, "Add an extra session"),
    (
        "post",
        "/api/v1/calendar/sessions/{session_id}/cancel",
        "CancelIn",
        "RunOut",
        False,
        "Cancel a session: its applicants are told and placed again by priority",
    ),
    ("post", "/api/v1/calendar/holidays", "HolidayIn", "HolidayIn", False, "Add a holiday"),
    (
        "post",
        "/api/v1/calendar/busy",
        None,
        "BusyOut",
        False,
        "Import the official's calendar (text/calendar body); busy slots are blocked",
    ),
    ("post", "/api/v1/calendar/allocate", None, "RunOut", False, "Generate sessions and run the allocation"),
    (
        "post",
        "/api/v1/calendar/appointments/{appointment_id}/move",
        "MoveIn",
        "AppointmentOut",
        False,
        "Move an appointment by hand (justified; in the fairness record; on the official's directive, "
        "inside the three days)",
    ),
    (
        "post",
        "/api/v1/calendar/placements",
        "PlaceIn",
        "AppointmentOut",
        False,
        "Place a waiting request by hand (justified; in the fairness record; on the official's directive, "
        "inside the three days)",
    ),
    ("get", "/api/v1/calendar/target", None, "TargetOut", False, "Requests at risk of waiting past 30 days"),
)


def _calendar_paths() -> dict[str, Any]:
    refusals = {
        "401": _json("ErrorOut", "Not signed in"),
        "403": _json("ErrorOut", "Not protocol staff, or no valid X-CSRF-Token"),
        "404": _json("ErrorOut", "A session, room, slot, appointment or request named does not exist (…_not_found)"),
        "409": _json("ErrorOut", "Refused, naming the rule: a cancelled session, a full slot, an unsuitable seat…"),
        "422": _json("ErrorOut", "Invalid fields, each listed"),
    }
    paths: dict[str, Any] = {}
    for method, path, body, answer, many, summary in CALENDAR_OPERATIONS:
        schema: dict[str, Any] = {"type": "array", "items": _ref(answer)} if many else _ref(answer)
        operation: dict[str, Any] = {
            "operationId": "calendar"
            + "".join(p.title() for p in path.split("/")[4:] if not p.startswith("{"))
            + method.title(),
            "summary": summary,
            "description": CALENDAR_ONLY,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                for name in ("session_id", "appointment_id")
                if "{" + name + "}" in path
            ],
            "responses": {
                "201" if method == "post" and path in CALENDAR_CREATES else "200": {
                    "description": summary,
                    "content": {"application/json": {"schema": schema}},
                },
                **refusals,
            },
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
        elif path.endswith("/busy"):
            operation["requestBody"] = {"required": True, "content": {"text/calendar": {"schema": {"type": "string"}}}}
        paths.setdefault(path, {})[method] = operation
    return paths


def _triage_paths() -> dict[str, Any]:
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    csrf = {
        "name": "X-CSRF-Token",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "From GET /api/v1/session",
    }
    refusals = {
        "401": _json("ErrorOut", "Not signed in"),
        "403": _json("ErrorOut", "Not the audit desk, or no valid X-CSRF-Token"),
        "404": _json("ErrorOut", "No request has this tracking number"),
        "409": _json("ErrorOut", "The request is closed, or already merged"),
        "422": _json("ErrorOut", "Invalid fields (each listed), or the action is refused with its reason"),
    }
    paths: dict[str, Any] = {
        "/api/v1/session": {
            "get": {
                "operationId": "session",
                "summary": "Who is signed in, and the CSRF token",
                "responses": {"200": _json("SessionOut", "The session"), "401": refusals["401"]},
            }
        },
        "/api/v1/triage/categories": {
            "get": {
                "operationId": "triageCategories",
                "summary": "The managed list of categories",
                "description": STAFF_ONLY,
                "responses": {
                    "200": {
                        "description": "Categories",
                        "content": {"application/json": {"schema": {"type": "array", "items": _ref("CategoryOut")}}},
                    },
                    "401": refusals["401"],
                    "403": refusals["403"],
                },
            }
        },
        "/api/v1/triage/departments": {
            "get": {
                "operationId": "triageDepartments",
                "summary": "The departments in service a written referral may name, each after its parent",
                "description": STAFF_ONLY,
                "responses": {
                    "200": {
                        "description": "Departments",
                        "content": {"application/json": {"schema": {"type": "array", "items": _ref("DepartmentOut")}}},
                    },
                    "401": refusals["401"],
                    "403": refusals["403"],
                },
            }
        },
        "/api/v1/triage/queue": {
            "get": {
                "operationId": "triageQueue",
                "summary": "Requests awaiting an audience, head of the line first",
                "description": STAFF_ONLY,
                "responses": {
                    "200": {
                        "description": "The queue",
                        "content": {"application/json": {"schema": {"type": "array", "items": _ref("QueuePlaceOut")}}},
                    },
                    "401": refusals["401"],
                    "403": refusals["403"],
                },
            }
        },
        "/api/v1/triage/{tracking_number}/duplicates": {
            "get": {
                "operationId": "triageDuplicates",
                "summary": "Likely duplicates of a request",
                "description": STAFF_ONLY,
                "parameters": [number],
                "responses": {
                    "200": {
                        "description": "Most similar first",
                        "content": {"application/json": {"schema": {"type": "array", "items": _ref("DuplicateOut")}}},
                    },
                    **refusals,
                },
            }
        },
    }
    for action, body, summary in TRIAGE_ACTIONS:
        operation: dict[str, Any] = {
            "operationId": "triage" + "".join(part.title() for part in action.split("-")),
            "summary": summary,
            "description": STAFF_ONLY,
            "parameters": [number, csrf],
            "responses": {"200": _json("TriageOut", "The request's triage after the action"), **refusals},
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
        paths[f"/api/v1/triage/{{tracking_number}}/{action}"] = {"post": operation}
    return paths


AUDIENCE_DAY = "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). Roles: {roles}."
# (operationId, method, path, body model or None, response model, list response, success status, roles,
# summary, refusals besides 401 and 403)
AUDIENCE_OPERATIONS: tuple[tuple[str, str, str, str | None, str, bool, str, str, str, dict[str, str]], ...] = (
    (
        "checkIn",
        "post",
        "/api/v1/arrivals",
        "ArrivalIn",
        "ArrivalOut",
        False,
        "201",
        "intake desk, protocol, administrators",
        "Check an applicant in at the desk: by the appointment, the arrival code, or the tracking number with "
        "the phone's last 4 digits; the queue number follows the order of arrival",
        {
            "404": "No appointment matches (no_appointment)",
            "409": "Refused by the day's rules: already_arrived, wrong_day, wrong_branch, session_over, not_live",
            "422": "Invalid fields, each listed (one identification exactly, a known branch), or bad_phone_digits",
        },
    ),
    (
        "hallSessions",
        "get",
        "/api/v1/hall/sessions",
        None,
        "HallSessionOut",
        True,
        "200",
        "official, protocol, administrators",
        "Today's in-person sessions, each with its order of the day (on time by slot, then late arrivals)",
        {},
    ),
    (
        "hallCallNext",
        "post",
        "/api/v1/hall/sessions/{session_id}/call-next",
        "CallNextIn",
        "CallNextOut",
        False,
        "200",
        "the official (an administrator may not call his audience)",
        "Call next: end the current audience and call the next applicant; a stale press calls nobody (moved false)",
        {
            "404": "No such session (no_session)",
            "409": "The session is held over video (not_in_person)",
            "422": "Invalid fields, each listed",
        },
    ),
    (
        "hallOutcome",
        "post",
        "/api/v1/hall/audiences/{audience_id}/outcome",
        "OutcomeIn",
        "OutcomeOut",
        False,
        "200",
        "the official (an administrator may not record his directive)",
        "Record the outcome and directive of an in-person audience; the request moves on and the applicant is told",
        {
            "404": "No such audience (no_audience)",
            "409": "outcome_recorded, case_closed, appointment_ended",
            "422": "Invalid fields, each listed, or directive_missing, departments_missing",
        },
    ),
    (
        "dayReport",
        "get",
        "/api/v1/reports/day",
        None,
        "DayReportOut",
        False,
        "200",
        "protocol, manager, official, administrators",
        "The day's report: time per audience against the 6 minutes of the source documents, arrivals, no-shows",
        {"422": "The day is not a date (YYYY-MM-DD)"},
    ),
)


def _audience_paths() -> dict[str, Any]:
    csrf = {
        "name": "X-CSRF-Token",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "From GET /api/v1/session",
    }
    paths: dict[str, Any] = {}
    for operation_id, method, path, body, answer, many, ok, roles, summary, refusals in AUDIENCE_OPERATIONS:
        schema: dict[str, Any] = {"type": "array", "items": _ref(answer)} if many else _ref(answer)
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
            for name in ("session_id", "audience_id")
            if "{" + name + "}" in path
        ]
        if method == "post":
            parameters.append(csrf)
        if path.endswith("/day"):
            parameters.append(
                {
                    "name": "day",
                    "in": "query",
                    "required": False,
                    "description": "The Riyadh date, YYYY-MM-DD; today when left out",
                    "schema": {"type": "string", "format": "date"},
                }
            )
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "description": AUDIENCE_DAY.format(roles=roles),
            "parameters": parameters,
            "responses": {
                ok: {"description": summary, "content": {"application/json": {"schema": schema}}},
                "401": _json("ErrorOut", "Not signed in"),
                "403": _json("ErrorOut", "Not a role of this path, or no valid X-CSRF-Token"),
                **{status: _json("ErrorOut", text) for status, text in refusals.items()},
            },
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
        paths.setdefault(path, {})[method] = operation
    return paths


def _answer_paths() -> dict[str, Any]:
    """The applicant's answer to what was asked of them: a code by SMS, then the answer with it."""
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    miss = {
        "404": _json("ErrorOut", "No request matches this tracking number and phone"),
        "429": _json("ErrorOut", "Too many enquiries that matched nothing, or too many codes for this request"),
    }
    return {
        "/api/v1/requests/{tracking_number}/code": {
            "post": {
                "operationId": "sendAnswerCode",
                "summary": "Send a one-time code by SMS to the phone given with the request, to answer its questions",
                "parameters": [number],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CodeIn")}}},
                "responses": {
                    "202": _json("CodeSent", "The code is on its way; the open questions are listed"),
                    "409": _json("ErrorOut", "The request is not waiting for information (nothing_to_answer)"),
                    "422": _json("ErrorOut", "Fields are invalid (each is listed)"),
                    **miss,
                },
            }
        },
        "/api/v1/requests/{tracking_number}/answers": {
            "post": {
                "operationId": "answerQuestion",
                "summary": "Answer an open question with words and files (PDF, JPEG, PNG), with the code from the SMS",
                "description": (
                    "multipart/form-data. Files are checked by their content; at most MAJLIS_ATTACHMENT_MAX_FILES "
                    "files of MAJLIS_ATTACHMENT_MAX_BYTES each. The code is used only when the answer is recorded."
                ),
                "parameters": [number],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": _ref("AnswerForm"),
                            "encoding": {"files": {"contentType": "application/pdf, image/jpeg, image/png"}},
                        }
                    },
                },
                "responses": {
                    "201": _json("AnswerOut", "Recorded; the request goes back to whoever asked once nothing is open"),
                    "400": _json("ErrorOut", "The multipart body cannot be read"),
                    "403": _json("ErrorOut", "The code was refused: wrong_code, code_expired, too_many_tries, no_code"),
                    "409": _json("ErrorOut", "already_answered, or no_longer_open: the request has moved on"),
                    "413": _json("ErrorOut", "The body is larger than all the files allowed together"),
                    "415": _json("ErrorOut", "Not multipart/form-data"),
                    "422": _json("ErrorOut", "Fields or files are refused, each one named"),
                    **miss,
                },
            }
        },
    }


routes = web.RouteTableDef()

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


# The staff's credentials as security schemes: the session cookie, and the CSRF token that every change
# made with that cookie must also carry (GET /api/v1/session gives it).
SECURITY_SCHEMES = {
    "staffSession": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE, "description": "Set at sign-in"},
    "csrfToken": {"type": "apiKey", "in": "header", "name": CSRF_HEADER, "description": "From GET /api/v1/session"},
}
CHANGES = frozenset({"post", "put", "patch", "delete"})


def _with_security(paths: dict[str, Any]) -> dict[str, Any]:
    """Marks every operation that answers 401 as needing the staff session (and the CSRF token on changes).

    Integer path parameters get the database keys' bounds here too, in one place for every area's paths.
    """
    for item in paths.values():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter["in"] == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", ID_LIMIT)
            if "401" in operation["responses"]:
                needed: dict[str, list[str]] = (
                    {"staffSession": [], "csrfToken": []} if method in CHANGES else {"staffSession": []}
                )
                operation["security"] = [needed]
    return paths


def build_document(server_url: str) -> dict[str, Any]:
    """The whole document; every schema comes from the models, none is written by hand."""
    inputs: tuple[type[BaseModel], ...] = (
        RequestIn,
        ClassifyIn,
        RouteIn,
        MoveUpIn,
        MissingIn,
        RejectIn,
        MergeIn,
        UnavailableIn,
        *calendar_api.CALENDAR_INPUTS,
        *directory_api.DIRECTORY_INPUTS,
        *AUDIENCE_INPUTS,
        *department_api.INPUTS,
        CodeIn,
        AnswerForm,
        *followup_api.FOLLOWUP_INPUTS,
        *whatsapp_inbox_api.WHATSAPP_INPUTS,
        *repeat_cancellation.INPUTS,
        *identity_api.INPUTS,
        *missions_api.MISSION_INPUTS,
        *emergency_calls_api.INPUTS,
        *emergency_api.INPUTS,
    )
    outputs: tuple[type[BaseModel], ...] = (
        *calendar_api.CALENDAR_OUTPUTS,
        *directory_api.DIRECTORY_OUTPUTS,
        *AUDIENCE_OUTPUTS,
        *department_api.OUTPUTS,
        *followup_report.REPORT_OUTPUTS,
        *emergency_report.REPORT_OUTPUTS,
        CodeSent,
        AnswerOut,
        RequestCreated,
        RequestStatus,
        ErrorOut,
        Health,
        TriageOut,
        QueuePlaceOut,
        DuplicateOut,
        CategoryOut,
        DepartmentOut,
        SessionOut,
        *followup_api.FOLLOWUP_OUTPUTS,
        *whatsapp_inbox_api.WHATSAPP_OUTPUTS,
        *repeat_cancellation.OUTPUTS,
        *identity_api.OUTPUTS,
        *missions_api.MISSION_OUTPUTS,
        *emergency_status.OUTPUTS,
        *emergency_calls_api.OUTPUTS,
        *emergency_api.OUTPUTS,
    )
    _, defs = models_json_schema(
        [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs],
        ref_template=_REF,
    )
    errors = {
        "400": _json("ErrorOut", "The body is not valid JSON, or a header is malformed"),
        "413": _json("ErrorOut", "The body is larger than the server accepts"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Majlis API",
            "version": "1.0.0",
            "description": (
                "Requests to the official's open-door audience. Every error has a code, "
                "a message in the language of Accept-Language (ar or en) and both messages."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": _with_security(
            {
                "/api/v1/requests": {
                    "post": {
                        "operationId": "createRequest",
                        "summary": "Submit a request; an SMS receipt with the tracking number follows",
                        "parameters": [
                            {
                                "name": "Idempotency-Key",
                                "in": "header",
                                "required": False,
                                "description": "A retry with the same key returns the first result and creates nothing",
                                "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                            }
                        ],
                        "requestBody": {
                            "required": True,
                            "content": {"application/json": {"schema": _ref("RequestIn")}},
                        },
                        "responses": {
                            "201": _json("RequestCreated", "Received; the tracking number is in the body"),
                            "422": _json("ErrorOut", "Fields are invalid (each is listed), or the key was reused"),
                            **errors,
                        },
                    }
                },
                "/api/v1/requests/{tracking_number}": {
                    "get": {
                        "operationId": "getRequestStatus",
                        "summary": "The status of a request and its history",
                        "parameters": [
                            {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}},
                            {
                                "name": "phone",
                                "in": "query",
                                "required": True,
                                "description": "The mobile number given with the request",
                                "schema": {"type": "string"},
                            },
                        ],
                        "responses": {
                            "200": _json("RequestStatus", "The status, every step so far and the audience ahead"),
                            "404": _json("ErrorOut", "No request matches this tracking number and phone"),
                            "429": _json("ErrorOut", "Too many enquiries that matched nothing from this address"),
                        },
                    }
                },
                "/api/v1/requests/{tracking_number}/calendar.ics": {
                    "get": {
                        "operationId": "getRequestCalendar",
                        "summary": "The audience ahead as an iCalendar file (METHOD:PUBLISH) to add to a calendar",
                        "description": (
                            "The same UID as the e-mail invitations (audience-<tracking number>@<mail domain>), "
                            "so a calendar holding the invitation updates that entry."
                        ),
                        "parameters": [
                            {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}},
                            {
                                "name": "phone",
                                "in": "query",
                                "required": True,
                                "description": "The mobile number given with the request",
                                "schema": {"type": "string"},
                            },
                        ],
                        "responses": {
                            "200": {
                                "description": "The audience as text/calendar",
                                "content": {"text/calendar": {"schema": {"type": "string"}}},
                            },
                            "404": _json(
                                "ErrorOut",
                                "No request matches this tracking number and phone, or it has no audience ahead",
                            ),
                            "429": _json("ErrorOut", "Too many enquiries that matched nothing from this address"),
                        },
                    }
                },
                "/healthz": {
                    "get": {
                        "operationId": "health",
                        "summary": "Whether the service and its database answer",
                        "responses": {
                            "200": _json("Health", "Healthy"),
                            "503": _json("Health", "The database does not answer"),
                        },
                    }
                },
                **_triage_paths(),
                **identity_api.openapi_paths(_ref, _json),
                **_calendar_paths(),
                **directory_api.openapi_paths(_ref, _json),
                **_audience_paths(),
                **followup_api.openapi_paths(_ref, _json),
                **department_api.openapi_paths(_ref, _json),
                **_answer_paths(),
                **followup_report.openapi_paths(_ref, _json),
                **emergency_report.openapi_paths(_ref, _json),
                **missions_api.openapi_paths(_ref, _json),
                **emergency_status.openapi_paths(_ref, _json),
                **whatsapp_inbox_api.openapi_paths(_ref, _json),
                **repeat_cancellation.openapi_paths(_ref, _json),
                **emergency_calls_api.openapi_paths(_ref, _json),
                **emergency_api.openapi_paths(_ref, _json),
            }
        ),
        "components": {"schemas": defs["$defs"], "securitySchemes": SECURITY_SCHEMES},
    }


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    server = f"{request.scheme}://{request.host}"
    return web.json_response(build_document(server))
