"""The OpenAPI 3.1 document of the API, built from the same pydantic models the API uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic.json_schema import models_json_schema

from web.api_models import ErrorOut, Health, RequestCreated, RequestIn, RequestStatus

routes = web.RouteTableDef()

_REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def build_document(server_url: str) -> dict[str, Any]:
    """The whole document; every schema comes from the models, none is written by hand."""
    _, defs = models_json_schema(
        [(m, "validation") for m in (RequestIn,)]
        + [(m, "serialization") for m in (RequestCreated, RequestStatus, ErrorOut, Health)],
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
        "paths": {
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
                        "200": _json("RequestStatus", "The status and every step so far"),
                        "404": _json("ErrorOut", "No request matches this tracking number and phone"),
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
        },
        "components": {"schemas": defs["$defs"]},
    }


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    server = f"{request.scheme}://{request.host}"
    return web.json_response(build_document(server))
