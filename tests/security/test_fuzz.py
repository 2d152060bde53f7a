"""A bounded schemathesis run against /openapi.json: no request built from the document may get a 5xx.

Every operation is fuzzed with valid and invalid data (schemathesis' positive and
negative modes), signed in with a role its route admits, so the handlers behind
the role guard are reached too. Hypothesis is derandomized and keeps no example
database, so a run is the same run every time; every 5xx is collected (not only
the first) and reported with a curl command to replay it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from majlis.clock import FrozenClock
from tests.factories import Client
from tests.security.staff_sessions import Sessions, StaffCredentials, credentials_by_operation
from web.security import CSRF_HEADER

# Per operation and mode: about 100 operations x 2 modes x this, on each database, in about a minute.
EXAMPLES = 8


@dataclass
class Findings:
    server_errors: list[str] = field(default_factory=list)
    requests_made: int = 0


def fuzz_operations(
    document: dict[str, Any], base_url: str, staff: dict[tuple[str, str], StaffCredentials]
) -> Findings:
    """Runs every operation of the document; called in a thread while the test's loop serves the app."""
    schema = schemathesis.openapi.from_dict(document)
    findings = Findings()
    with requests.Session() as http:
        for result in schema.get_all_operations():
            # An operation the document cannot describe to schemathesis fails the test here.
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            credentials = staff.get((operation.method.upper(), operation.path))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode)
                run_operation(strategy, http, base_url, credentials, findings)
    return findings


def run_operation(
    strategy: st.SearchStrategy[Any],
    http: requests.Session,
    base_url: str,
    credentials: StaffCredentials | None,
    findings: Findings,
) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        # Only generation: nothing fails inside, so there is nothing to shrink.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        http.cookies.clear()
        headers = {CSRF_HEADER: credentials.csrf} if credentials else {}
        cookies = credentials.cookies if credentials else None
        response = case.call(base_url=base_url, session=http, headers=headers, cookies=cookies, timeout=30)
        findings.requests_made += 1
        if response.status_code >= 500:
            curl = case.as_curl_command(headers=headers)
            findings.server_errors.append(f"{response.status_code} {case.method} {case.formatted_path}: {curl}")

    # Negative mode has nothing to break in an operation without parameters or body (GET /healthz).
    with contextlib.suppress(Unsatisfiable):
        one()


@pytest.mark.timeout(600)
async def test_no_request_built_from_the_document_gets_a_5xx(
    client: Client, sessions: Sessions, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    staff = await credentials_by_operation(client, sessions, clock)
    document = await (await client.get("/openapi.json")).json()
    base_url = str(client.make_url("")).rstrip("/")
    with caplog.at_level(logging.ERROR):
        findings = await asyncio.to_thread(fuzz_operations, document, base_url, staff)
    assert findings.requests_made > 500
    assert not findings.server_errors, "\n".join(findings.server_errors)
    tracebacks = sorted({r.getMessage() for r in caplog.records if r.exc_info})
    assert not tracebacks, "\n".join(tracebacks)
