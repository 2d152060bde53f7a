"""The audience day's operations (arrivals, the hall, outcomes, the day's report) for the OpenAPI document
(web/openapi.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from web.api_models import (
    ArrivalIn,
    ArrivalOut,
    CallNextIn,
    CallNextOut,
    DayReportOut,
    HallSessionOut,
    OutcomeIn,
    OutcomeOut,
)
from web.openapi_shared import json_answer, schema_ref

AUDIENCE_INPUTS: tuple[type[BaseModel], ...] = (ArrivalIn, CallNextIn, OutcomeIn)
AUDIENCE_OUTPUTS: tuple[type[BaseModel], ...] = (ArrivalOut, HallSessionOut, CallNextOut, OutcomeOut, DayReportOut)

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


def audience_paths() -> dict[str, Any]:
    csrf = {
        "name": "X-CSRF-Token",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "From GET /api/v1/session",
    }
    paths: dict[str, Any] = {}
    for operation_id, method, path, body, answer, many, ok, roles, summary, refusals in AUDIENCE_OPERATIONS:
        schema: dict[str, Any] = {"type": "array", "items": schema_ref(answer)} if many else schema_ref(answer)
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
                "401": json_answer("ErrorOut", "Not signed in"),
                "403": json_answer("ErrorOut", "Not a role of this path, or no valid X-CSRF-Token"),
                **{status: json_answer("ErrorOut", text) for status, text in refusals.items()},
            },
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_ref(body)}}}
        paths.setdefault(path, {})[method] = operation
    return paths
