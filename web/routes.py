"""Every route of Majlis, and the template and static setup."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from web import (
    access_report,
    account_pages,
    admin,
    admin_branches,
    answers,
    answers_api,
    api,
    applicant_answers,
    attachments,
    audience_api,
    audit_api,
    audit_desk,
    audit_fairness_api,
    audit_pages,
    calendar_api,
    call_centre,
    caller_screen,
    case_search,
    case_search_api,
    categories,
    day_board,
    department_api,
    department_pages,
    desk,
    desk_tablets,
    emergency_agent,
    emergency_api,
    emergency_calls,
    emergency_calls_api,
    emergency_directory,
    emergency_directory_api,
    emergency_link,
    emergency_pages,
    emergency_report,
    emergency_status,
    emergency_supervision,
    emergency_voice,
    feeds,
    followup_api,
    followup_calendars,
    followup_directory,
    followup_directory_api,
    followup_pages,
    followup_policies,
    followup_report,
    hall_pages,
    headers,
    hijri_api,
    identity_api,
    identity_pages,
    kiosk,
    messages,
    metrics,
    my_requests,
    openapi,
    protocol,
    protocol_calendar,
    protocol_rooms,
    public,
    quality_causes,
    quality_dashboard,
    quality_monthly,
    quality_review_api,
    quality_reviews,
    rating_api,
    rating_pages,
    repeat_cancellation,
    reports,
    reports_index,
    room_checks,
    staff,
    triage,
    triage_api,
    twilio_enquiry,
    twilio_webhooks,
    two_factor,
    two_factor_account,
    vendor,
    video_pages,
    video_ws,
    whatsapp_inbox,
    whatsapp_inbox_api,
)
from web.auth import staff_sessions
from web.bidi_filters import FILTERS
from web.headers import websocket_origin
from web.hostile_headers import hostile_headers
from web.hostile_input import hostile_input, quiet_malformed_requests
from web.metrics import counted_requests
from web.middleware import csrf_protection, db_session, echo_request_id, errors_and_language, request_ids
from web.retry_after import retry_after
from web.slow_clients import slow_and_broken_clients
from web.uploads import upload_limits

HERE = Path(__file__).parent


def setup(app: web.Application) -> None:
    """Middleware, templates, static files and the routes of every audience."""
    quiet_malformed_requests()
    app.middlewares.extend(
        [
            # Outermost: the request's id for every log line of what follows, and the count of every answer.
            request_ids,
            counted_requests,
            # Then: every middleware after it reads cookies and headers already made safe.
            hostile_headers,
            errors_and_language,
            slow_and_broken_clients,
            websocket_origin,
            upload_limits,
            hostile_input,
            staff_sessions,
            csrf_protection,
            retry_after,
            db_session,
        ]
    )
    # Every answer names its request, the upgrade of a WebSocket and a streamed file included.
    app.on_response_prepare.append(echo_request_id)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
        filters=FILTERS,
    )
    modules = (
        public,
        applicant_answers,
        # "My requests": every request of a phone, after a code sent to it (/status/mine).
        my_requests,
        answers,
        twilio_webhooks,
        staff,
        # Every report the member may open (/reports).
        reports_index,
        # Finding a request by tracking number, ID, phone or name: the page and the API.
        case_search,
        case_search_api,
        account_pages,
        # The second step of signing in (/login/code, /login/enrol), and one's own authenticator.
        two_factor,
        two_factor_account,
        desk,
        call_centre,
        # Every request of the phone that is calling.
        caller_screen,
        messages,
        audit_desk,
        triage,
        identity_pages,
        identity_api,
        reports,
        # The auditor's: placements explained, the fairness chain verified.
        audit_pages,
        audit_api,
        audit_fairness_api,
        # Who saw which request's personal data, for managers.
        access_report,
        followup_report,
        emergency_report,
        # The statistics dashboard, and the chart library it draws with (from node_modules, before /static).
        quality_dashboard,
        vendor,
        quality_monthly,
        # The daily review of ratings, its causes, and each member of staff's own ratings (/me/ratings).
        quality_reviews,
        quality_causes,
        quality_review_api,
        categories,
        protocol,
        protocol_calendar,
        protocol_rooms,
        day_board,
        feeds,
        admin,
        admin_branches,
        api,
        triage_api,
        calendar_api,
        # The date picker's months in both calendars.
        hijri_api,
        audience_api,
        openapi,
        # /metrics for Prometheus: internal addresses or the metrics token.
        metrics,
        video_pages,
        hall_pages,
        kiosk,
        # Ratings: the signed link's page and API (no account), the desk tablet's screen, their enrolment and pairing.
        rating_pages,
        rating_api,
        desk_tablets,
        followup_pages,
        followup_api,
        followup_calendars,
        followup_directory,
        followup_directory_api,
        followup_policies,
        attachments,
        answers_api,
        department_pages,
        department_api,
        whatsapp_inbox,
        whatsapp_inbox_api,
        repeat_cancellation,
        twilio_enquiry,
        # The missions directory and their duty rosters.
        emergency_directory,
        emergency_directory_api,
        # The agent's form (/emergency/reports/new) before the report's page (/emergency/reports/{number}).
        emergency_agent,
        emergency_pages,
        emergency_supervision,
        emergency_link,
        emergency_api,
        emergency_voice,
        emergency_calls,
        emergency_calls_api,
        # The citizen's status of a report (the status form itself is public's).
        emergency_status,
    )
    for module in modules:
        app.router.add_routes(module.routes)
    video_ws.setup(app)
    headers.setup(app)
    room_checks.setup(app)
    # Static URLs carry a hash of the file, so browsers never keep a stale stylesheet.
    app.router.add_static("/static", HERE / "static", name="static", append_version=True)
