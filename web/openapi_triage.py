"""The audit desk's triage operations and the staff session's own, for the OpenAPI document (web/openapi.py)."""

from __future__ import annotations

from typing import Any

from web.openapi_shared import json_answer, schema_ref

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
STAFF_ONLY = "Audit desk and administrators only: the staff session cookie, and X-CSRF-Token on changes."


def triage_paths() -> dict[str, Any]:
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    csrf = {
        "name": "X-CSRF-Token",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "From GET /api/v1/session",
    }
    refusals = {
        "401": json_answer("ErrorOut", "Not signed in"),
        "403": json_answer("ErrorOut", "Not the audit desk, or no valid X-CSRF-Token"),
        "404": json_answer("ErrorOut", "No request has this tracking number"),
        "409": json_answer("ErrorOut", "The request is closed, or already merged"),
        "422": json_answer("ErrorOut", "Invalid fields (each listed), or the action is refused with its reason"),
    }
    paths: dict[str, Any] = {
        "/api/v1/session": {
            "get": {
                "operationId": "session",
                "summary": "Who is signed in, and the CSRF token",
                "responses": {"200": json_answer("SessionOut", "The session"), "401": refusals["401"]},
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
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": schema_ref("CategoryOut")}}
                        },
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
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": schema_ref("DepartmentOut")}}
                        },
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
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": schema_ref("QueuePlaceOut")}}
                        },
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
                        "content": {
                            "application/json": {"schema": {"type": "array", "items": schema_ref("DuplicateOut")}}
                        },
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
            "responses": {"200": json_answer("TriageOut", "The request's triage after the action"), **refusals},
        }
        if body:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_ref(body)}}}
        paths[f"/api/v1/triage/{{tracking_number}}/{action}"] = {"post": operation}
    return paths
