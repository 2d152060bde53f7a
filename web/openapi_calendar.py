"""Protocol's calendar operations for the OpenAPI document (web/openapi.py)."""

from __future__ import annotations

from typing import Any

from web.openapi_shared import json_answer, schema_ref

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
    (
        "post",
        "/api/v1/calendar/rooms/{room_id}/name",
        "RoomNamesIn",
        "RoomOut",
        False,
        "Change a room's Arabic and English names (a name another room of its centre has is refused)",
    ),
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


def calendar_paths() -> dict[str, Any]:
    refusals = {
        "401": json_answer("ErrorOut", "Not signed in"),
        "403": json_answer("ErrorOut", "Not protocol staff, or no valid X-CSRF-Token"),
        "404": json_answer(
            "ErrorOut", "A session, room, slot, appointment or request named does not exist (…_not_found)"
        ),
        "409": json_answer(
            "ErrorOut", "Refused, naming the rule: a cancelled session, a full slot, an unsuitable seat…"
        ),
        "422": json_answer("ErrorOut", "Invalid fields, each listed"),
    }
    paths: dict[str, Any] = {}
    for method, path, body, answer, many, summary in CALENDAR_OPERATIONS:
        schema: dict[str, Any] = {"type": "array", "items": schema_ref(answer)} if many else schema_ref(answer)
        operation: dict[str, Any] = {
            "operationId": "calendar"
            + "".join(p.title() for p in path.split("/")[4:] if not p.startswith("{"))
            + method.title(),
            "summary": summary,
            "description": CALENDAR_ONLY,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
                for name in ("session_id", "appointment_id", "room_id")
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
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_ref(body)}}}
        elif path.endswith("/busy"):
            operation["requestBody"] = {"required": True, "content": {"text/calendar": {"schema": {"type": "string"}}}}
        paths.setdefault(path, {})[method] = operation
    paths["/api/v1/calendar/month"] = {"get": _picker_month()}
    return paths


def _picker_month() -> dict[str, Any]:
    """The date picker's month (web/hijri_api.py): any member of staff, read only."""
    query = [
        ("calendar", {"type": "string", "enum": ["hijri", "gregorian"], "default": "hijri"}, "The month's calendar"),
        ("year", {"type": "integer"}, "With month: the month asked for"),
        ("month", {"type": "integer", "minimum": 1, "maximum": 12}, "With year: the month asked for"),
        ("day", {"type": "string"}, "Or: a day (YYYY-MM-DD, either calendar) whose month is asked for"),
    ]
    return {
        "operationId": "calendarMonthGet",
        "summary": "A month of the Umm al-Qura or the Gregorian calendar, each day in both (the date picker)",
        "description": "Any member of staff: the staff session cookie.",
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
            for name, schema, description in query
        ],
        "responses": {
            "200": {
                "description": "The month: its title, its weeks' days with their ISO date and Hijri date",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "401": json_answer("ErrorOut", "Not signed in"),
            "422": json_answer("ErrorOut", "Not a month or a day, or outside the Umm al-Qura table (1343-1500 AH)"),
        },
    }
