"""The OpenAPI 3.1 document of the API, built from the same pydantic models the API uses.

Assembled here: the models' schemas and every area's paths, in the document's order. The paths are written
next to what they describe: the public's, the triage desk's, the calendar's and the audience day's in
web/openapi_*.py, the other areas' in their own API modules (openapi_paths); what they share in
web/openapi_shared.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web import (
    audit_api,
    audit_fairness_api,
    calendar_api,
    case_search_api,
    department_api,
    emergency_api,
    emergency_calls_api,
    emergency_report,
    emergency_status,
    followup_api,
    followup_report,
    identity_api,
    quality_dashboard,
    quality_monthly,
    quality_review_api,
    rating_api,
    repeat_cancellation,
    whatsapp_inbox_api,
)
from web import emergency_directory_api as missions_api
from web import followup_directory_models as directory_api
from web.answers_api import AnswerForm, AnswerOut, CodeIn, CodeSent
from web.api_models import ErrorOut, Health, RequestCreated, RequestIn, RequestStatus
from web.openapi_audience import AUDIENCE_INPUTS, AUDIENCE_OUTPUTS, audience_paths
from web.openapi_calendar import calendar_paths
from web.openapi_public import answer_paths, request_paths
from web.openapi_shared import REF_TEMPLATE, SECURITY_SCHEMES, json_answer, schema_ref, with_security
from web.openapi_triage import triage_paths
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

routes = web.RouteTableDef()


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
        *quality_review_api.INPUTS,
        *rating_api.INPUTS,
    )
    outputs: tuple[type[BaseModel], ...] = (
        *calendar_api.CALENDAR_OUTPUTS,
        *directory_api.DIRECTORY_OUTPUTS,
        *AUDIENCE_OUTPUTS,
        *department_api.OUTPUTS,
        *followup_report.REPORT_OUTPUTS,
        *emergency_report.REPORT_OUTPUTS,
        *quality_dashboard.OUTPUTS,
        *quality_monthly.REPORT_OUTPUTS,
        *quality_review_api.OUTPUTS,
        *rating_api.OUTPUTS,
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
        *audit_api.AUDIT_OUTPUTS,
        *audit_fairness_api.OUTPUTS,
        *case_search_api.OUTPUTS,
    )
    _, defs = models_json_schema(
        [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs],
        ref_template=REF_TEMPLATE,
    )
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
        "paths": with_security(
            {
                **request_paths(),
                **triage_paths(),
                **identity_api.openapi_paths(schema_ref, json_answer),
                **case_search_api.openapi_paths(schema_ref, json_answer),
                **calendar_paths(),
                **directory_api.openapi_paths(schema_ref, json_answer),
                **audience_paths(),
                **followup_api.openapi_paths(schema_ref, json_answer),
                **department_api.openapi_paths(schema_ref, json_answer),
                **answer_paths(),
                **rating_api.openapi_paths(schema_ref, json_answer),
                **followup_report.openapi_paths(schema_ref, json_answer),
                **emergency_report.openapi_paths(schema_ref, json_answer),
                **quality_dashboard.openapi_paths(schema_ref, json_answer),
                **quality_monthly.openapi_paths(schema_ref, json_answer),
                **quality_review_api.openapi_paths(schema_ref, json_answer),
                **missions_api.openapi_paths(schema_ref, json_answer),
                **emergency_status.openapi_paths(schema_ref, json_answer),
                **whatsapp_inbox_api.openapi_paths(schema_ref, json_answer),
                **repeat_cancellation.openapi_paths(schema_ref, json_answer),
                **emergency_calls_api.openapi_paths(schema_ref, json_answer),
                **emergency_api.openapi_paths(schema_ref, json_answer),
                **audit_api.openapi_paths(schema_ref, json_answer),
                **audit_fairness_api.openapi_paths(schema_ref, json_answer),
            }
        ),
        "components": {"schemas": defs["$defs"], "securitySchemes": SECURITY_SCHEMES},
    }


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    server = f"{request.scheme}://{request.host}"
    return web.json_response(build_document(server))
