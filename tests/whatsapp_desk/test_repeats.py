"""Repeated WhatsApp requests cancelled by rule, and the audit desk's undo: domain, page, API and fairness report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from cases import service as cases
from cases.models import Case, CaseStatus, StatusChange
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from notify.models import MessageStatus, OutboxMessage
from priority import duplicates, queue
from priority.models import ChangedField, ChangeReason, DuplicateCancellation, ManualChange
from tests.factories import Client, csrf_token, details, make_staff, sign_in
from tests.web.notices_seen import isolated, shown_once
from whatsapp_desk import repeats

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
WINDOW = timedelta(days=30)
OTHER_ID = "1000000016"  # another citizen (valid check digit) who may share the family's phone
REPEATED_TEXT = "أرجو مقابلة المسؤول بخصوص قضية أسرية عاجلة."
OTHER_MATTER = {"subject": "رخصة بناء", "text": "تأخر إصدار رخصة البناء لمنزلي في حي النرجس منذ ستة أشهر."}


async def submitted(sessions: Sessions, clock: FrozenClock, **overrides: object) -> str:
    """A request made by WhatsApp (as the desk's conversation makes it), committed; its tracking number."""
    async with transaction(sessions) as session:
        made = await cases.submit(
            session=session, clock=clock, details=details(channel="whatsapp", **overrides), status_url=URL
        )
        return made.case.tracking_number


async def whatsapp_request(sessions: Sessions, clock: FrozenClock, **overrides: object) -> tuple[str, str | None]:
    """A WhatsApp request and, in the same transaction, the repeat check; its number and the earlier one's."""
    async with transaction(sessions) as session:
        made = await cases.submit(
            session=session, clock=clock, details=details(channel="whatsapp", **overrides), status_url=URL
        )
        earlier = await repeats.cancel_if_repeated(
            session=session, clock=clock, case=made.case, window=WINDOW, status_url=URL
        )
        return made.case.tracking_number, earlier.tracking_number if earlier else None


async def case_of(sessions: Sessions, number: str) -> Case:
    async with sessions() as session:
        found = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert found is not None
    return found


async def messages(sessions: Sessions, number: str) -> dict[str, OutboxMessage]:
    case = await case_of(sessions, number)
    async with sessions() as session:
        return {
            m.purpose: m for m in await session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
        }


async def fairness(sessions: Sessions, number: str) -> list[ManualChange]:
    case = await case_of(sessions, number)
    async with sessions() as session:
        rows = await session.scalars(
            select(ManualChange).where(ManualChange.case_id == case.id).order_by(ManualChange.id)
        )
        return list(rows)


async def undo(sessions: Sessions, clock: FrozenClock, number: str, actor: int, reason: str) -> Case:
    async with transaction(sessions) as session:
        return await repeats.undo_cancellation(
            session=session, clock=clock, tracking_number=number, actor_id=actor, reason=reason, status_url=URL
        )


async def test_a_repeat_of_an_open_request_of_the_same_applicant_is_cancelled_by_rule(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submitted(sessions, clock)
    clock.advance(timedelta(days=2))
    repeat, earlier = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    assert earlier == first

    case = await case_of(sessions, repeat)
    assert case.status is CaseStatus.DUPLICATE
    # The same request checked again (its message handled twice): the same answer, nothing added.
    async with transaction(sessions) as session:
        again = await repeats.cancel_if_repeated(session=session, clock=clock, case=case, window=WINDOW, status_url=URL)
    assert again is not None and again.tracking_number == first
    assert (await case_of(sessions, first)).status is CaseStatus.RECEIVED
    async with sessions() as session:
        record = await session.get(DuplicateCancellation, case.id)
        step = await session.scalar(select(StatusChange).where(StatusChange.to_status == CaseStatus.DUPLICATE))
        logged = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_id == repeat)))
    assert record is not None and record.undone_at is None and record.similarity >= 0.3
    assert record.original_case_id == (await case_of(sessions, first)).id
    # The step names the earlier request, in each reader's language; no member of staff took it.
    assert step is not None and step.actor_id is None
    assert step.note_key == repeats.CANCELLED_NOTE and step.note_params == {"number": first}
    [change] = await fairness(sessions, repeat)
    assert change.actor_id is None
    assert (change.field, change.reason) == (ChangedField.DUPLICATE, ChangeReason.REPEATED_REQUEST)
    assert (change.before, change.after) == ("received", "duplicate")
    assert first in change.reason_text and "%" in change.reason_text
    assert [e.action for e in logged] == ["whatsapp.repeat_cancelled"] and logged[0].actor_id is None
    # One SMS about it: the receipt is withdrawn, the cancellation names the request to follow.
    sent = await messages(sessions, repeat)
    assert sent[repeats.RECEIPT].status is MessageStatus.CANCELLED
    assert sent[repeats.CANCELLED_PURPOSE].status is MessageStatus.PENDING
    assert first in sent[repeats.CANCELLED_PURPOSE].body and repeat in sent[repeats.CANCELLED_PURPOSE].body


async def test_the_same_phone_of_another_applicant_a_different_matter_or_a_closed_request_let_it_stand(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await submitted(sessions, clock)
    # A relative writing from the family's phone about the same matter: their own request.
    sibling, earlier = await whatsapp_request(sessions, clock, applicant_national_id=OTHER_ID, text=REPEATED_TEXT)
    assert earlier is None and (await case_of(sessions, sibling)).status is CaseStatus.RECEIVED
    async with sessions() as session:
        scored = await duplicates.likely_duplicates(
            session=session, clock=clock, case=await case_of(sessions, sibling), window=WINDOW
        )
    assert [d.case.tracking_number for d in scored] == [first]  # the scorer sees it; the rule does not act on it
    # The same applicant about something else.
    other, earlier = await whatsapp_request(sessions, clock, **OTHER_MATTER)
    assert earlier is None and (await case_of(sessions, other)).status is CaseStatus.RECEIVED
    assert (await messages(sessions, other))[repeats.RECEIPT].status is MessageStatus.PENDING
    # An earlier request that is closed is not followed any more: the repeat is a new request.
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=first)
        assert case is not None
        await cases.change_status(
            session=session, clock=clock, case=case, to_status=CaseStatus.COMPLETED, actor_id=None
        )
    again, earlier = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    assert earlier is None and (await case_of(sessions, again)).status is CaseStatus.RECEIVED
    assert await fairness(sessions, again) == []


async def test_the_audit_desk_undoes_a_cancellation_once_with_a_reason(sessions: Sessions, clock: FrozenClock) -> None:
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    first = await submitted(sessions, clock)
    repeat, _ = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    # No reason: refused, nothing changed.
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput) as refused:
            await undo(sessions, clock, repeat, auditor, reason)
        assert [e.field for e in refused.value.errors] == ["reason"]
    assert (await case_of(sessions, repeat)).status is CaseStatus.DUPLICATE

    clock.advance(timedelta(hours=3))
    restored = await undo(sessions, clock, repeat, auditor, "A second property, not the same matter")
    assert restored.status is CaseStatus.RECEIVED
    case = await case_of(sessions, repeat)
    assert case.status is CaseStatus.RECEIVED
    async with sessions() as session:
        record = await session.get(DuplicateCancellation, case.id)
        logged = [e.action for e in await session.scalars(select(AuditEntry).where(AuditEntry.target_id == repeat))]
    assert record is not None and record.undone_at == clock.now() and record.undone_by_id == auditor
    assert record.undo_reason == "A second property, not the same matter"
    by_rule, by_hand = await fairness(sessions, repeat)
    assert by_rule.actor_id is None
    assert (by_hand.actor_id, by_hand.field, by_hand.reason) == (
        auditor,
        ChangedField.DUPLICATE,
        ChangeReason.CORRECTED_ERROR,
    )
    assert (by_hand.before, by_hand.after, by_hand.reason_text) == (
        "duplicate",
        "received",
        "A second property, not the same matter",
    )
    assert "whatsapp.repeat_cancellation_undone" in logged
    # The applicant hears that the request stands; the cancellation's SMS, not yet gone, never goes.
    sent = await messages(sessions, repeat)
    assert sent[repeats.CANCELLED_PURPOSE].status is MessageStatus.CANCELLED
    assert (
        sent[repeats.RESTORED_PURPOSE].status is MessageStatus.PENDING and repeat in sent[repeats.RESTORED_PURPOSE].body
    )
    # Twice, or a request never cancelled this way (the first one, or one merged by hand): refused by name.
    with pytest.raises(DomainError) as twice:
        await undo(sessions, clock, repeat, auditor, "again")
    assert twice.value.code == "already_undone"
    with pytest.raises(DomainError) as plain:
        await undo(sessions, clock, first, auditor, "why not")
    assert plain.value.code == "not_cancelled_as_repeat"
    async with transaction(sessions) as session:
        await duplicates.merge(
            session=session,
            clock=clock,
            duplicate_number=repeat,
            original_number=first,
            actor_id=auditor,
            status_url=URL,
        )
    with pytest.raises(DomainError) as merged:
        await undo(sessions, clock, repeat, auditor, "merged by hand")
    assert merged.value.code == "already_undone"
    with pytest.raises(DomainError) as unknown:
        await undo(sessions, clock, "26-999999-9", auditor, "no such request")
    assert unknown.value.code == "case_not_found"


async def test_the_fairness_report_counts_decisions_by_rule_apart_from_staff(
    sessions: Sessions, clock: FrozenClock
) -> None:
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    await submitted(sessions, clock)
    repeat, _ = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    await undo(sessions, clock, repeat, auditor, "Not the same matter")
    async with sessions() as session:
        report = await queue.fairness_report(session=session, clock=clock)
    assert report.changes_by_staff[None] == {"repeated_request": 1}
    assert report.changes_by_staff[auditor] == {"corrected_error": 1}
    assert report.changes_by_reason == {"repeated_request": 1, "corrected_error": 1}


# --- the pages and the API ----------------------------------------------------------------------------


async def test_the_triage_page_shows_the_cancellation_and_undoes_it(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    first = await submitted(sessions, clock)
    repeat, _ = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    await sign_in(client, "auditor")
    page = await (await client.get(f"/audit/cases/{repeat}")).text()
    assert 'id="repeat-cancellation"' in page and f'<a href="/audit/cases/{first}">{first}</a>' in page
    assert "أُلغي تلقائيًا لأنه تكرار للطلب رقم" in page and 'id="undo-repeat"' in page
    # The reason a person gives never includes the desk's rule.
    assert 'value="repeated_request"' not in page
    token = await csrf_token(client, f"/audit/cases/{repeat}")
    path = f"/audit/cases/{repeat}/duplicate-cancellation/undo"
    refused = await client.post(path, data={"csrf_token": token, "reason": " "})
    assert refused.status == 422
    assert 'id="reason-error"' in await refused.text()
    assert (await case_of(sessions, repeat)).status is CaseStatus.DUPLICATE
    done = await client.post(path, data={"csrf_token": token, "reason": "ملك آخر"}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == f"/audit/cases/{repeat}"
    await shown_once(client, done, f"أُلغي إلغاء الطلب {isolated(repeat)}: عاد إلى الطلبات المستلمة.")
    page = await (await client.get(f"/audit/cases/{repeat}")).text()
    assert 'id="repeat-undone"' in page and "ملك آخر" in page and 'id="undo-repeat"' not in page
    assert (await case_of(sessions, repeat)).status is CaseStatus.RECEIVED
    again = await client.post(path, data={"csrf_token": token, "reason": "مرة أخرى"})
    assert again.status == 409 and "سبق التراجع عن هذا الإلغاء" in await again.text()


async def test_the_api_undoes_once_and_refuses_by_name(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    first = await submitted(sessions, clock)
    repeat, _ = await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    await sign_in(client, "auditor")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    headers = {"X-CSRF-Token": token}
    path = f"/api/v1/requests/{repeat}/duplicate-cancellation/undo"
    missing = await client.post(path, json={}, headers=headers)
    assert missing.status == 422 and (await missing.json())["fields"][0]["field"] == "reason"
    extra = await client.post(path, json={"reason": "x", "status": "received"}, headers=headers)
    assert extra.status == 422
    blank = await client.post(path, json={"reason": "  "}, headers=headers)
    assert blank.status == 422 and (await blank.json())["fields"][0]["field"] == "reason"
    done = await client.post(path, json={"reason": "Not the same matter"}, headers=headers)
    assert done.status == 200
    body = await done.json()
    assert body["tracking_number"] == repeat and body["status"] == "received"
    assert body["original_tracking_number"] == first and body["undone_at"]
    twice = await client.post(path, json={"reason": "again"}, headers=headers)
    assert twice.status == 409 and (await twice.json())["error"] == "already_undone"
    never = await client.post(
        f"/api/v1/requests/{first}/duplicate-cancellation/undo", json={"reason": "x"}, headers=headers
    )
    assert never.status == 409 and (await never.json())["error"] == "not_cancelled_as_repeat"
    unknown = await client.post(
        "/api/v1/requests/26-999999-9/duplicate-cancellation/undo", json={"reason": "x"}, headers=headers
    )
    assert unknown.status == 404
    document = await (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/requests/{tracking_number}/duplicate-cancellation/undo"]["post"]
    assert operation["operationId"] == "undoDuplicateCancellation"
    assert "UndoIn" in document["components"]["schemas"] and "UndoOut" in document["components"]["schemas"]


async def test_the_fairness_pages_name_decisions_by_rule(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await submitted(sessions, clock)
    await whatsapp_request(sessions, clock, text=REPEATED_TEXT)
    await sign_in(client, "manager")
    page = await (await client.get("/reports/fairness")).text()
    assert 'class="by-rule"' in page and "النظام وفق قاعدة مقرّرة" in page and "تكرار لطلب قائم لمقدّم الطلب نفسه" in page
    csv = await (await client.get("/reports/fairness.csv")).text()
    assert "changes_by_staff,النظام وفق قاعدة مقرّرة (دون تدخّل موظف),repeated_request,1" in csv
