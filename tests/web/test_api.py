"""The JSON API: 201 with a tracking number, bilingual 422s naming each field, idempotent retries."""

from __future__ import annotations

import asyncio
import json

from openapi_spec_validator import validate
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case
from notify.models import OutboxMessage
from tests.factories import Client, api_payload


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_post_returns_201_with_tracking_number(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post("/api/v1/requests", json=api_payload())
    assert response.status == 201
    body = await response.json()
    assert body["status"] == "received"
    assert body["tracking_number"].startswith("26-")
    assert response.headers["Location"] == f"/api/v1/requests/{body['tracking_number']}"
    assert await count(sessions, OutboxMessage) == 1


async def test_residents_send_iqama_and_companies_cr_number(client: Client) -> None:
    resident = api_payload(applicant_kind="resident", applicant_iqama="2000000006", applicant_national_id=None)
    company = api_payload(
        applicant_kind="company", applicant_cr_number="1010000001", applicant_national_id=None, applicant_gender=None
    )
    assert (await client.post("/api/v1/requests", json=resident)).status == 201
    assert (await client.post("/api/v1/requests", json=company)).status == 201


async def test_invalid_fields_are_each_named_in_both_languages(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = api_payload(applicant_national_id="1000000009", applicant_phone="12", kind="bribe", subject="")
    response = await client.post("/api/v1/requests", json=body, headers={"Accept-Language": "en"})
    assert response.status == 422
    error = await response.json()
    assert error["error"] == "invalid_input"
    by_field = {f["field"]: f for f in error["fields"]}
    assert set(by_field) == {"applicant.national_id", "applicant.phone", "kind", "subject"}
    national_id = by_field["applicant.national_id"]
    assert national_id["code"] == "check_digit"
    assert "National ID" in national_id["message"]
    assert "رقم الهوية الوطنية" in national_id["messages"]["ar"]
    assert all(f["messages"]["ar"] != f["messages"]["en"] for f in error["fields"])
    assert await count(sessions, Case) == 0
    assert await count(sessions, OutboxMessage) == 0


async def test_message_language_follows_accept_language(client: Client) -> None:
    body = api_payload(subject="")
    arabic = await (await client.post("/api/v1/requests", json=body, headers={"Accept-Language": "ar-SA"})).json()
    english = await (
        await client.post("/api/v1/requests", json=body, headers={"Accept-Language": "en-GB,en;q=0.9"})
    ).json()
    assert arabic["fields"][0]["message"] == arabic["fields"][0]["messages"]["ar"]
    assert english["fields"][0]["message"] == english["fields"][0]["messages"]["en"]


async def test_wrong_id_key_for_the_kind_names_the_expected_one(client: Client) -> None:
    body = api_payload(applicant_kind="resident")  # sends national_id, not iqama
    error = await (await client.post("/api/v1/requests", json=body)).json()
    assert "applicant.iqama" in {f["field"] for f in error["fields"]}


async def test_unknown_and_wrongly_typed_fields_are_refused(client: Client) -> None:
    body = api_payload(priority="high", subject=42, applicant_special_care="wheelchair")
    error = await (await client.post("/api/v1/requests", json=body)).json()
    codes = {f["field"]: f["code"] for f in error["fields"]}
    assert codes["priority"] == "extra_forbidden"
    assert codes["subject"] == "string_type"
    assert codes["applicant.special_care"] == "list_type"


async def test_malformed_json_is_a_clear_400(client: Client) -> None:
    response = await client.post(
        "/api/v1/requests", data=b'{"applicant": ', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "bad_request" and body["messages"]["en"] == "The request body is not valid JSON."
    assert body["messages"]["ar"] != body["messages"]["en"]


async def test_a_json_array_is_refused(client: Client) -> None:
    response = await client.post("/api/v1/requests", json=[1, 2])
    assert response.status == 422


async def test_oversized_body_is_refused_with_413(client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    body = api_payload(text="ن" * 100_000)
    response = await client.post(
        "/api/v1/requests", data=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert response.status == 413
    assert (await response.json())["error"] == "too_large"
    assert await count(sessions, Case) == 0


async def test_retry_with_idempotency_key_returns_the_first_result(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Idempotency-Key": "0b5f9c1e-retry"}
    first = await client.post("/api/v1/requests", json=api_payload(), headers=headers)
    second = await client.post("/api/v1/requests", json=api_payload(), headers=headers)
    assert first.status == second.status == 201
    assert await first.json() == await second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await count(sessions, Case) == 1
    assert await count(sessions, OutboxMessage) == 1


async def test_concurrent_retries_create_one_request(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Idempotency-Key": "burst"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/requests", json=api_payload(), headers=headers) for _ in range(8))
    )
    bodies = [await r.json() for r in responses]
    assert {r.status for r in responses} == {201}
    assert len({b["tracking_number"] for b in bodies}) == 1
    assert await count(sessions, Case) == 1
    assert await count(sessions, OutboxMessage) == 1


async def test_same_key_for_a_different_request_is_refused(client: Client) -> None:
    headers = {"Idempotency-Key": "k"}
    await client.post("/api/v1/requests", json=api_payload(), headers=headers)
    response = await client.post("/api/v1/requests", json=api_payload(subject="آخر"), headers=headers)
    assert response.status == 422
    assert (await response.json())["error"] == "idempotency_key_reused"


async def test_status_is_shown_only_for_the_matching_phone(client: Client) -> None:
    created = await (await client.post("/api/v1/requests", json=api_payload())).json()
    number = created["tracking_number"]
    ok = await client.get(f"/api/v1/requests/{number}", params={"phone": "0501234567"})
    assert ok.status == 200
    status = await ok.json()
    assert status["status"] == "received"
    assert status["status_label"] == {"ar": "تم الاستلام", "en": "Received"}
    assert [step["status"] for step in status["history"]] == ["received"]

    misses = [
        await client.get(f"/api/v1/requests/{number}", params={"phone": "+966551234567"}),
        await client.get(f"/api/v1/requests/{number}"),
        await client.get("/api/v1/requests/26-999999-0", params={"phone": "+966501234567"}),
        await client.get("/api/v1/requests/not-a-number", params={"phone": "+966501234567"}),
    ]
    bodies = [await r.json() for r in misses]
    assert {r.status for r in misses} == {404}
    # No hint of which part was wrong: every miss is the same answer.
    assert all(body == bodies[0] for body in bodies)


async def test_openapi_document_is_valid_3_1_and_describes_the_api(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert {"/api/v1/requests", "/api/v1/requests/{tracking_number}", "/healthz"} <= set(document["paths"])
    triage = {path for path in document["paths"] if path.startswith("/api/v1/triage/")}
    assert "/api/v1/triage/{tracking_number}/classify" in triage and "/api/v1/triage/{tracking_number}/merge" in triage
    assert document["paths"]["/api/v1/triage/{tracking_number}/classify"]["post"]["responses"]["403"]
    request_schema = document["components"]["schemas"]["RequestIn"]
    assert set(request_schema["required"]) >= {"applicant", "kind", "subject", "text", "branch"}
    kinds = request_schema["properties"]["kind"]["enum"]
    assert kinds == ["audience_in_person", "audience_video", "petition", "complaint", "suggestion", "enquiry"]


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok"}


async def test_a_server_fault_shows_no_stack_trace(client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("DROP TABLE submission_keys"))
    response = await client.post("/api/v1/requests", json=api_payload(), headers={"Idempotency-Key": "x"})
    assert response.status == 500
    raw = await response.text()
    assert "Traceback" not in raw and "submission_keys" not in raw
    body = json.loads(raw)
    assert body["error"] == "server_error" and body["messages"]["ar"]
