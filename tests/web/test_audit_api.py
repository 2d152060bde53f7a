"""The auditor's API: placements explained and filtered, one request's placements, the chain's verification
against anchors, refusals, no personal data in any answer, and the OpenAPI document."""

from __future__ import annotations

import json

from openapi_spec_validator import validate
from sqlalchemy import text

from accounts.roles import Role
from fairness import chain, explain
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in
from tests.fairness.test_record import one_seat_sundays
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS, run

# The app fixture gives the tests their own anchor file.
from tests.web.test_audit_pages import Sessions, anchor_path, app, arranged, as_auditor, no_personal_data

__all__ = ["anchor_path", "app"]
from web.audit_models import ChainOut, PlacementOut
from web.audit_reading import masked


async def test_placements_over_json(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    found = await as_auditor(client, sessions, clock)
    response = await client.get("/api/v1/audit/placements")
    assert response.status == 200 and "X-Listing-Cut" not in response.headers
    body = await response.text()
    no_personal_data(body)
    listed = [PlacementOut.model_validate(item) for item in json.loads(body)]
    # Newest first.
    assert [p.seq for p in listed] == [found.unjustified_seq, found.justified_seq, found.justified_seq - 1]
    moved = listed[0]
    assert moved.kind == "move" and moved.unjustified and moved.passed[0].justification is None
    assert moved.actor == "Staff protocol" and moved.seat.room == "HALL-1" and moved.tracking_number == found.placed
    by_hand = listed[1]
    assert by_hand.passed[0].justification is not None and by_hand.passed[0].justification.reason == "health_or_safety"
    assert by_hand.before[0].tracking_number == found.passed and by_hand.placed_before == 1
    assert listed[2].actor is None and listed[2].rule == "allocation_run" and listed[2].rank == 1

    only = await (await client.get("/api/v1/audit/placements?unjustified=1")).json()
    assert [p["seq"] for p in only] == [found.unjustified_seq]
    response = await client.get("/api/v1/audit/placements?until=someday")
    problem = await response.json()
    assert response.status == 422 and problem["error"] == "invalid_input"
    assert problem["fields"][0]["field"] == "until" and problem["fields"][0]["messages"]["ar"]

    history = await (await client.get(f"/api/v1/audit/placements/{found.placed}")).json()
    assert [p["seq"] for p in history] == [found.justified_seq, found.unjustified_seq]
    missing = await client.get("/api/v1/audit/placements/26-999999-1")
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"


async def test_days_far_outside_the_years_are_refused_not_a_server_error(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await as_auditor(client, sessions, clock)
    for query in ("until=9999-12-31", "since=0001-01-01", "since=1999-12-31&until=2101-01-01"):
        for path in ("/api/v1/audit/placements", "/audit/placements", "/audit/placements.csv"):
            response = await client.get(f"{path}?{query}")
            assert response.status == 422, (path, query)
    problem = await (await client.get("/api/v1/audit/placements?since=0001-01-01")).json()
    [field] = problem["fields"]
    assert field["field"] == "since" and field["code"] == "out_of_range"
    assert "2000" in field["messages"]["en"] and "2100" in field["messages"]["ar"]
    assert (await client.get("/api/v1/audit/placements?since=2000-01-01&until=2100-12-31")).status == 200


async def test_an_entry_altered_into_something_unreadable_is_left_out_and_named_by_the_chain(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    found = await as_auditor(client, sessions, clock)
    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE fairness_chain SET change = :change WHERE seq = :seq"),
            {"change": "[1, 2]", "seq": found.justified_seq},
        )
    for path in ("/api/v1/audit/placements", "/audit/placements", f"/audit/placements/{found.placed}"):
        assert (await client.get(path)).status == 200, path
    listed = await (await client.get("/api/v1/audit/placements")).json()
    assert found.justified_seq not in [p["seq"] for p in listed] and len(listed) == 2
    chain_state = ChainOut.model_validate(await (await client.get("/api/v1/audit/chain")).json())
    assert not chain_state.intact and chain_state.first_bad_seq == found.justified_seq


async def test_filters_narrow_the_query_before_its_limit(sessions: Sessions, clock: FrozenClock) -> None:
    found = await arranged(sessions, clock)
    async with sessions() as session:
        # The oldest entry is the only run's placement, behind two newer ones: a limit of one still finds it.
        [by_rule] = await explain.all_placements(session=session, limit=1, rule="allocation_run")
        [by_hand] = await explain.all_placements(session=session, limit=1, rule="by_hand", passed_someone=True)
        assert await explain.all_placements(session=session, limit=5, rule="allocation_run", passed_someone=True) == []
        # A rule name is matched whole, never as part of another.
        assert await explain.all_placements(session=session, rule="allocation") == []
    assert by_rule.seq == found.justified_seq - 1 and by_hand.seq == found.justified_seq


def test_a_phone_or_id_typed_into_a_justification_is_hidden() -> None:
    typed = "اتصلت بالمستفيد على 050 123 4567 ورقم هويته ١٠٠٠٠٠٠٠٠٨، والجلسة 2026-12-20 بعد 10 أيام"
    assert masked(typed) == "اتصلت بالمستفيد على ••• ورقم هويته •••، والجلسة 2026-12-20 بعد 10 أيام"
    assert masked("+966-50-123-4567") == "+•••"


async def test_the_auditor_never_reads_a_number_typed_into_a_reason(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    found = await as_auditor(client, sessions, clock)
    phone = "0501234567"
    async with transaction(sessions) as session:
        await session.execute(
            text("UPDATE fairness_chain SET justification = :words WHERE seq = :seq"),
            {"words": f"Called on {phone}", "seq": found.justified_seq},
        )
    body = await (await client.get(f"/api/v1/audit/placements/{found.placed}")).text()
    assert phone not in body
    assert [p["justification"] for p in json.loads(body) if p["seq"] == found.justified_seq] == ["Called on •••"]
    page = await (await client.get(f"/audit/placements/{found.placed}")).text()
    assert phone not in page and "Called on •••" in page


async def test_the_chain_over_json_against_anchors(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await as_auditor(client, sessions, clock)
    async with sessions() as session:
        first = await session.scalar(text("SELECT hash FROM fairness_chain WHERE seq = 1"))
        head = await chain.head(session=session)
    assert head is not None
    answer = ChainOut.model_validate(await (await client.get(f"/api/v1/audit/chain?anchor=1:{first}")).json())
    assert answer.intact and answer.entries == 3 and answer.head_hash == head.hash and answer.anchors_checked == 1
    assert (await client.get("/api/v1/audit/chain?anchor=one")).status == 422

    # The chain emptied, as a rewrite from entry 1 would leave it: consistent in itself, caught only by the anchor.
    async with transaction(sessions) as session:
        await session.execute(text("DELETE FROM fairness_chain"))
    answer = ChainOut.model_validate(await (await client.get(f"/api/v1/audit/chain?anchor=1:{first}")).json())
    assert not answer.intact and answer.first_bad_seq == 1 and answer.problem == "rewritten"
    assert answer.description is not None and answer.description.startswith("The chain was rewritten")


async def test_only_auditors_and_managers_read_it(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    found = await arranged(sessions, clock)
    assert (await client.get("/api/v1/audit/chain")).status == 401
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol2")
    await sign_in(client, "protocol2")
    for path in ("/api/v1/audit/placements", f"/api/v1/audit/placements/{found.placed}", "/api/v1/audit/chain"):
        assert (await client.get(path)).status == 403, path


async def test_the_audit_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    paths = document["paths"]
    listing = paths["/api/v1/audit/placements"]["get"]
    assert listing["security"] == [{"staffSession": []}]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith(
        "PlacementOut"
    )
    assert paths["/api/v1/audit/placements/{tracking_number}"]["get"]["responses"]["404"]
    assert paths["/api/v1/audit/chain"]["get"]["parameters"][0]["name"] == "anchor"
    schemas = document["components"]["schemas"]
    assert {"PlacementOut", "PassedOut", "JustificationOut", "ChainOut"} <= set(schemas)
    # Nothing an auditor reads can carry a name, a national ID or a phone.
    words = json.dumps(schemas["PlacementOut"]) + json.dumps(schemas["PassedOut"])
    assert not any(word in words for word in ("national", "phone", "applicant_name", "id_number"))


async def test_a_real_allocation_run_read_by_the_auditor(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    """Placements written by the allocator itself (fairness/record.py), read back through the API and the page."""
    slots = await one_seat_sundays(sessions, clock, weeks=2)
    desk = (await make_staff(sessions, clock, Role.AUDIT_DESK, "desk")).id
    first = await new_case(sessions, clock, applicant_national_id=IDS[0])
    second = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, desk, first)
    await ready(sessions, clock, desk, second)
    await run(sessions, clock)
    await make_staff(sessions, clock, Role.AUDITOR, "auditor")
    await sign_in(client, "auditor")
    body = await (await client.get("/api/v1/audit/placements?rule=allocation_run")).text()
    assert IDS[0] not in body and IDS[1] not in body
    listed = [PlacementOut.model_validate(item) for item in json.loads(body)]
    assert [(p.tracking_number, p.rank, p.total) for p in listed] == [(second, 2, 2), (first, 1, 2)]
    assert listed[0].before[0].tracking_number == first and listed[0].seat.slot_id == slots[1].id
    assert not any(p.unjustified for p in listed)
    await client.get("/lang/en")
    page = await (await client.get(f"/audit/placements/{second}")).text()
    assert "The weekly allocation, in priority order" in page and "The first:" in page and first in page
