"""The public's operations for the OpenAPI document (web/openapi.py): filing a request, its status and its
calendar file, answering what was asked of the applicant, and the service's health."""

from __future__ import annotations

from typing import Any

from web.openapi_shared import json_answer, schema_ref


def request_paths() -> dict[str, Any]:
    """Filing a request, its status and its calendar file, and the service's health."""
    errors = {
        "400": json_answer("ErrorOut", "The body is not valid JSON, or a header is malformed"),
        "413": json_answer("ErrorOut", "The body is larger than the server accepts"),
    }
    return {
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
                    "content": {"application/json": {"schema": schema_ref("RequestIn")}},
                },
                "responses": {
                    "201": json_answer("RequestCreated", "Received; the tracking number is in the body"),
                    "422": json_answer("ErrorOut", "Fields are invalid (each is listed), or the key was reused"),
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
                    "200": json_answer("RequestStatus", "The status, every step so far and the audience ahead"),
                    "404": json_answer("ErrorOut", "No request matches this tracking number and phone"),
                    "429": json_answer("ErrorOut", "Too many enquiries that matched nothing from this address"),
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
                    "404": json_answer(
                        "ErrorOut",
                        "No request matches this tracking number and phone, or it has no audience ahead",
                    ),
                    "429": json_answer("ErrorOut", "Too many enquiries that matched nothing from this address"),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Whether the service and its database answer",
                "responses": {
                    "200": json_answer("Health", "Healthy"),
                    "503": json_answer("Health", "The database does not answer"),
                },
            }
        },
    }


def answer_paths() -> dict[str, Any]:
    """The applicant's answer to what was asked of them: a code by SMS, then the answer with it."""
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    miss = {
        "404": json_answer("ErrorOut", "No request matches this tracking number and phone"),
        "429": json_answer("ErrorOut", "Too many enquiries that matched nothing, or too many codes for this request"),
    }
    return {
        "/api/v1/requests/{tracking_number}/code": {
            "post": {
                "operationId": "sendAnswerCode",
                "summary": "Send a one-time code by SMS to the phone given with the request, to answer its questions",
                "parameters": [number],
                "requestBody": {"required": True, "content": {"application/json": {"schema": schema_ref("CodeIn")}}},
                "responses": {
                    "202": json_answer("CodeSent", "The code is on its way; the open questions are listed"),
                    "409": json_answer("ErrorOut", "The request is not waiting for information (nothing_to_answer)"),
                    "422": json_answer("ErrorOut", "Fields are invalid (each is listed)"),
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
                            "schema": schema_ref("AnswerForm"),
                            "encoding": {"files": {"contentType": "application/pdf, image/jpeg, image/png"}},
                        }
                    },
                },
                "responses": {
                    "201": json_answer(
                        "AnswerOut", "Recorded; the request goes back to whoever asked once nothing is open"
                    ),
                    "400": json_answer("ErrorOut", "The multipart body cannot be read"),
                    "403": json_answer(
                        "ErrorOut", "The code was refused: wrong_code, code_expired, too_many_tries, no_code"
                    ),
                    "409": json_answer("ErrorOut", "already_answered, or no_longer_open: the request has moved on"),
                    "413": json_answer("ErrorOut", "The body is larger than all the files allowed together"),
                    "415": json_answer("ErrorOut", "Not multipart/form-data"),
                    "422": json_answer("ErrorOut", "Fields or files are refused, each one named"),
                    **miss,
                },
            }
        },
    }
